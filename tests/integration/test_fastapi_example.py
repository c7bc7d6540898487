"""examples/07_fastapi.py through FastAPI's TestClient against the real node: each endpoint, its errors."""
from __future__ import annotations

import importlib.util
import os
import sys
import uuid
import warnings
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def client(cqlengine_connection):
    warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient")
    from fastapi.testclient import TestClient

    os.environ["CQLENGINE_DEMO_KEYSPACE"] = cqlengine_connection.default_keyspace  # the example's models live here
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location("fastapi_example", EXAMPLES / "07_fastapi.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
        os.environ.pop("CQLENGINE_DEMO_KEYSPACE")
    with TestClient(module.app) as test_client:
        yield test_client
    from cqlengine.management import drop_table

    drop_table(module.Bookmark)


def test_create_read_page_and_delete(client):
    owner = f"u{uuid.uuid4().hex[:8]}"
    made = [client.post(f"/users/{owner}/bookmarks", json={"url": f"https://e.com/{i}", "tags": ["a", "b"]})
            for i in range(5)]
    assert [r.status_code for r in made] == [201] * 5
    first = made[0].json()
    assert first["owner"] == owner and sorted(first["tags"]) == ["a", "b"]
    read = client.get(f"/users/{owner}/bookmarks/{first['bookmark_id']}")
    assert read.status_code == 200 and read.json()["url"] == "https://e.com/0"
    seen, cursor, pages = [], None, 0
    while True:
        page = client.get(f"/users/{owner}/bookmarks", params={"size": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        seen += [item["url"] for item in page.json()["items"]]
        pages += 1
        cursor = page.json()["next"]
        if not cursor:
            break
    assert pages == 3 and seen == [f"https://e.com/{i}" for i in reversed(range(5))]
    assert client.delete(f"/users/{owner}/bookmarks/{first['bookmark_id']}").status_code == 204
    assert client.get(f"/users/{owner}/bookmarks/{first['bookmark_id']}").status_code == 404


@pytest.mark.parametrize("body, field", [({"title": "no url"}, "url"), ({"url": "u", "title": "t" * 201}, "title"),
                                         ({"url": "u", "tags": "not a list"}, "tags")])
def test_invalid_bodies_are_422_naming_the_field(client, body, field):
    answer = client.post("/users/x/bookmarks", json=body)
    assert answer.status_code == 422 and field in str(answer.json()["detail"])


def test_a_hostile_cursor_is_400_and_harms_nothing(client):
    for cursor in ("AAAA", "x" * 5000, "not base64!", ""):
        answer = client.get("/users/x/bookmarks", params={"cursor": cursor})
        assert answer.status_code in (200, 400), (cursor, answer.text)
        if cursor:
            assert answer.status_code == 400 and "cursor" in answer.json()["detail"]


def test_a_missing_row_is_404_and_a_bad_id_422(client):
    assert client.get(f"/users/x/bookmarks/{uuid.uuid1()}").status_code == 404
    assert client.get("/users/x/bookmarks/not-a-uuid").status_code == 422
