"""A small FastAPI service over a model: async endpoints, Pydantic models made from the model, page cursors as
query parameters, DoesNotExist as 404, validation errors as 422. Run, it calls itself through FastAPI's
TestClient (no server to start); `uvicorn 07_fastapi:app` serves it."""
import uuid
from contextlib import asynccontextmanager
from typing import Optional

from _demo import KEYSPACE, connect
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cqlengine import columns, connection
from cqlengine.exceptions import QueryException, ValidationError
from cqlengine.management import sync_table
from cqlengine.models import Model


class Bookmark(Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "api_bookmarks"
    owner = columns.Text(partition_key=True)
    bookmark_id = columns.TimeUUID(primary_key=True, clustering_order="DESC", default=uuid.uuid1)
    url = columns.Text(required=True, max_length=2000)
    title = columns.Text(max_length=200)
    tags = columns.Set(columns.Text)


#: What a client sends (the key is the service's to give) and what it gets back.
BookmarkIn = Bookmark.pydantic("BookmarkIn", exclude=("owner", "bookmark_id"))
BookmarkOut = Bookmark.pydantic("BookmarkOut")


class BookmarkPage(BaseModel):
    items: list[BookmarkOut]  # type: ignore[valid-type]
    next: Optional[str] = None  # the cursor of the next page: ?cursor=...


@asynccontextmanager
async def lifespan(app: FastAPI):
    if connection.DEFAULT_CONNECTION not in connection.connections():
        connect()  # once per process, when the application starts
    sync_table(Bookmark)  # a deploy step in production (python -m cqlengine sync ...)
    yield


app = FastAPI(title="bookmarks", lifespan=lifespan)


@app.exception_handler(ValidationError)
async def refused(request: Request, exc: ValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": str(exc)})  # the model's own rules


@app.exception_handler(QueryException)
async def bad_query(request: Request, exc: QueryException) -> JSONResponse:
    return JSONResponse(status_code=400, content={"detail": str(exc)})  # a forged or stale cursor, say


@app.post("/users/{owner}/bookmarks", status_code=201, response_model=BookmarkOut)
async def add_bookmark(owner: str, body: BookmarkIn):  # type: ignore[valid-type]
    bookmark = Bookmark.from_pydantic(body)
    bookmark.owner = owner
    await bookmark.asave()
    return bookmark.to_pydantic(BookmarkOut)


@app.get("/users/{owner}/bookmarks/{bookmark_id}", response_model=BookmarkOut)
async def read_bookmark(owner: str, bookmark_id: uuid.UUID):
    try:
        bookmark = await Bookmark.objects.aget(owner=owner, bookmark_id=bookmark_id)
    except Bookmark.DoesNotExist:
        raise HTTPException(status_code=404, detail=f"no bookmark {bookmark_id} of {owner}") from None
    return bookmark.to_pydantic(BookmarkOut)


@app.get("/users/{owner}/bookmarks", response_model=BookmarkPage)
async def list_bookmarks(owner: str, size: int = Query(10, ge=1, le=100), cursor: Optional[str] = None):
    page = await Bookmark.objects(owner=owner).apage(size, cursor=cursor)
    return BookmarkPage(items=[b.to_pydantic(BookmarkOut) for b in page], next=page.cursor)


@app.delete("/users/{owner}/bookmarks/{bookmark_id}", status_code=204)
async def delete_bookmark(owner: str, bookmark_id: uuid.UUID) -> None:
    await Bookmark(owner=owner, bookmark_id=bookmark_id).adelete()


def walk_through() -> None:
    """The service called as a client would call it."""
    import warnings

    warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient")  # a notice to test tooling
    from fastapi.testclient import TestClient

    owner = f"user-{uuid.uuid4().hex[:8]}"
    with TestClient(app) as client:
        made = [client.post(f"/users/{owner}/bookmarks", json={"url": f"https://example.com/{i}",
                                                                "tags": ["demo"]}) for i in range(5)]
        print("created:", [r.status_code for r in made])
        first = made[0].json()
        print("read one:", client.get(f"/users/{owner}/bookmarks/{first['bookmark_id']}").json()["url"])
        pages, cursor = [], None
        while True:
            params = {"size": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"/users/{owner}/bookmarks", params=params).json()
            pages.append([item["url"][-1] for item in page["items"]])
            cursor = page["next"]
            if not cursor:
                break
        print("pages of 2, newest first:", pages)
        print("missing:", client.get(f"/users/{owner}/bookmarks/{uuid.uuid1()}").status_code)
        print("too long a title:", client.post(f"/users/{owner}/bookmarks",
                                               json={"url": "https://x", "title": "t" * 201}).status_code)
        print("no url:", client.post(f"/users/{owner}/bookmarks", json={"title": "x"}).status_code)
        print("forged cursor:", client.get(f"/users/{owner}/bookmarks", params={"cursor": "AAAA"}).status_code)
        for item in made:
            client.delete(f"/users/{owner}/bookmarks/{item.json()['bookmark_id']}")
        print("after deleting:", client.get(f"/users/{owner}/bookmarks").json())


if __name__ == "__main__":
    walk_through()
