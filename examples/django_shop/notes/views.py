"""Views over a cqlengine model: a form made from the model, JSON through its Pydantic model, page cursors."""
import os

from django.http import Http404, HttpRequest, JsonResponse

from cqlengine.contrib.django.forms import model_form
from cqlengine.exceptions import QueryException
from notes.models import Note

NoteForm = model_form(Note, fields=["title", "body"])


def _json(note: Note) -> dict:
    return note.to_pydantic().model_dump(mode="json")


def notes(request: HttpRequest, owner: str) -> JsonResponse:
    if request.method == "POST":
        form = NoteForm(request.POST)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors}, status=400)
        note = form.instance(owner=owner)
        note.save()
        return JsonResponse(_json(note), status=201)
    try:
        page = Note.objects(owner=owner).page(int(request.GET.get("size", 10)), cursor=request.GET.get("cursor"))
    except QueryException as exc:  # a cursor a client made up
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"items": [_json(n) for n in page], "next": page.cursor})


def note(request: HttpRequest, owner: str, note_id) -> JsonResponse:
    found = Note.objects(owner=owner, note_id=note_id).first()
    if found is None:
        raise Http404(f"no note {note_id}")
    return JsonResponse(_json(found))


def whoami(request: HttpRequest, owner: str) -> JsonResponse:
    """Which worker answered, and what it read: a pre-fork server's workers each query on their own."""
    return JsonResponse({"pid": os.getpid(), "notes": Note.objects(owner=owner).count()})
