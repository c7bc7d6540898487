"""The views through Django's test client, in the keyspace the test runner made for this run."""
import uuid

from django.test import SimpleTestCase

from notes.models import Note


class NoteViews(SimpleTestCase):
    def test_a_note_is_created_listed_and_read(self):
        made = self.client.post("/notes/ann/", {"title": "groceries", "body": "milk"})
        self.assertEqual(made.status_code, 201)
        note_id = made.json()["note_id"]
        self.assertEqual(Note.get(owner="ann", note_id=uuid.UUID(note_id)).body, "milk")
        listed = self.client.get("/notes/ann/").json()
        self.assertEqual([n["title"] for n in listed["items"]], ["groceries"])
        self.assertEqual(self.client.get(f"/notes/ann/{note_id}/").json()["body"], "milk")

    def test_pages_follow_the_cursor(self):
        for i in range(5):
            self.client.post("/notes/bob/", {"title": f"n{i}"})
        titles, cursor = [], None
        while True:
            page = self.client.get("/notes/bob/", {"size": 2, **({"cursor": cursor} if cursor else {})}).json()
            titles += [n["title"] for n in page["items"]]
            cursor = page["next"]
            if not cursor:
                break
        self.assertEqual(titles, ["n4", "n3", "n2", "n1", "n0"])

    def test_what_the_form_refuses_is_400_and_nothing_is_written(self):
        answer = self.client.post("/notes/cy/", {"body": "no title"})
        self.assertEqual(answer.status_code, 400)
        self.assertIn("title", answer.json()["errors"])
        self.assertEqual(Note.objects(owner="cy").count(), 0)

    def test_a_missing_note_is_404_and_a_forged_cursor_400(self):
        self.assertEqual(self.client.get(f"/notes/dan/{uuid.uuid1()}/").status_code, 404)
        self.assertEqual(self.client.get("/notes/dan/", {"cursor": "AAAA"}).status_code, 400)
