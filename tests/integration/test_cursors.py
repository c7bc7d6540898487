"""Paging with cursors, and untrusted page states, against the real server."""
from __future__ import annotations

import asyncio
from typing import Any, Optional

import pytest

from cqlengine import columns, connection, cursors, management
from cqlengine.exceptions import QueryException
from cqlengine.models import Model


class Paper(Model):
    __table_name__ = "cursor_papers"
    shelf = columns.Integer(partition_key=True)
    pos = columns.Integer(primary_key=True)
    title = columns.Text()
    tags = columns.Set(columns.Text)


class Note(Model):
    __table_name__ = "cursor_notes"
    shelf = columns.Integer(partition_key=True)
    pos = columns.Integer(primary_key=True)


SHELVES = 7
PER_SHELF = 13


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Paper)
    management.sync_table(Note)
    futures = [
        connection.execute_async(
            f"INSERT INTO {cqlengine_connection.default_keyspace}.cursor_papers (shelf, pos, title, tags) "
            "VALUES (?, ?, ?, ?)", [shelf, pos, f"t{shelf}.{pos}", {"all", f"s{shelf}"}])
        for shelf in range(SHELVES) for pos in range(PER_SHELF)
    ]
    for future in futures:
        future.result()
    for pos in range(5):
        Note.create(shelf=1, pos=pos)
    return cqlengine_connection.default_keyspace


def executed() -> int:
    return connection.get_connection().stats.executed


def walk(qs: Any, size: int) -> tuple[list[tuple[int, int]], int]:
    """Every row of ``qs`` read page by page through cursors, and how many pages it took."""
    seen: list[tuple[int, int]] = []
    cursor: Optional[str] = None
    pages = 0
    while True:
        page = qs.page(size, cursor=cursor)
        pages += 1
        seen += [(p.shelf, p.pos) for p in page]
        cursor = page.cursor
        if cursor is None:
            return seen, pages
        assert page.paging_state is not None and len(page) <= size


def test_cursors_walk_a_whole_table_once(ks):
    seen, pages = walk(Paper.objects.all(), 10)
    assert sorted(seen) == [(s, p) for s in range(SHELVES) for p in range(PER_SHELF)]
    assert len(seen) == len(set(seen))  # every row exactly once
    assert pages >= SHELVES * PER_SHELF // 10


def test_cursors_walk_one_partition_in_order(ks):
    seen, _ = walk(Paper.objects(shelf=3).order_by("-pos"), 4)
    assert seen == [(3, p) for p in reversed(range(PER_SHELF))]


def test_a_cursor_is_url_safe_text_that_a_fresh_queryset_resumes(ks):
    first = Paper.objects(shelf=2).page(5)
    assert first.cursor is not None
    assert set(first.cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    rest = Paper.objects(shelf=2).page(100, cursor=first.cursor)  # another size is fine
    assert [p.pos for p in first] + [p.pos for p in rest] == list(range(PER_SHELF))
    assert rest.cursor is None and rest.paging_state is None


def test_cursors_with_filters_on_collections(ks):
    qs = Paper.objects(shelf=4, tags__contains="s4").allow_filtering()
    seen, _ = walk(qs, 3)
    assert seen == [(4, p) for p in range(PER_SHELF)]


def test_async_pages_have_cursors(ks):
    async def scenario() -> list[int]:
        seen: list[int] = []
        cursor = None
        while True:
            page = await Paper.objects(shelf=5).apage(4, cursor=cursor)
            seen += [p.pos for p in page]
            cursor = page.cursor
            if cursor is None:
                return seen

    assert asyncio.run(scenario()) == list(range(PER_SHELF))


@pytest.mark.parametrize("other", [
    lambda: Paper.objects(shelf=3),                       # another bound value
    lambda: Paper.objects(shelf=2).limit(50),            # a limit
    lambda: Paper.objects(shelf=2).order_by("-pos"),     # another ordering
    lambda: Paper.objects(shelf=2).only("title"),         # another selection
    lambda: Note.objects(shelf=2),                        # another table
    lambda: Paper.objects.all(),                          # another shape
])
def test_a_cursor_replayed_against_another_query_is_refused(ks, other):
    cursor = Paper.objects(shelf=2).page(5).cursor
    before = executed()
    with pytest.raises(QueryException, match=r"page: cursor .* belongs to another query"):
        other().page(5, cursor=cursor)
    assert executed() == before


@pytest.mark.parametrize("damage, words", [
    (lambda c: c[:-3], "damaged or truncated"),
    (lambda c: c[:8], "truncated"),
    (lambda c: c + "A" * cursors.MAX_CURSOR_LENGTH, "characters long"),
    (lambda c: c.replace(c[5], "%" if c[5] != "%" else "!", 1), "not base64url"),
    (lambda c: "Ag" + c[2:], "has version 2"),
])
def test_malformed_cursors_are_refused_and_nothing_is_sent(ks, damage, words):
    cursor = Paper.objects(shelf=2).page(5).cursor
    before = executed()
    with pytest.raises(QueryException, match=words):
        Paper.objects(shelf=2).page(5, cursor=damage(cursor))
    assert executed() == before


def _fingerprint_of(qs: Any) -> bytes:
    cql, params = qs._select_statement().render()
    return cursors.fingerprint(cql, params, owner=qs.model.__qualname__)


def test_a_forged_cursor_around_a_garbage_state_is_refused(ks):
    qs = Paper.objects(shelf=2)
    forged = cursors.encode(b"garbage", _fingerprint_of(qs))
    before = executed()
    with pytest.raises(QueryException, match="not a Cassandra page state"):
        qs.page(5, cursor=forged)
    assert executed() == before


@pytest.mark.parametrize("state", [b"garbage", b"\x00" * 20, bytes.fromhex("0006000400000002f07ffffffc")])
def test_a_bad_paging_state_is_refused_and_the_connection_keeps_serving(ks, state):
    before = executed()
    with pytest.raises(QueryException, match=r"Paper.page: paging_state .* not a Cassandra page state"):
        Paper.objects(shelf=2).page(10, state)
    assert executed() == before  # refused before it reached the server
    assert Paper.objects(shelf=2).count() == PER_SHELF  # the same connection, at once


def test_a_bad_paging_state_is_refused_by_apage_too(ks):
    async def scenario() -> int:
        with pytest.raises(QueryException, match="Paper.apage: paging_state"):
            await Paper.objects(shelf=2).apage(10, b"garbage")
        with pytest.raises(QueryException, match="Paper.apage: cursor"):
            await Paper.objects(shelf=2).apage(10, cursor="!!")
        return await Paper.objects(shelf=2).acount()

    assert asyncio.run(scenario()) == PER_SHELF


def test_raw_paging_states_still_resume(ks):
    first = Paper.objects(shelf=6).page(5)
    rest = Paper.objects(shelf=6).page(20, paging_state=first.paging_state)
    assert [p.pos for p in first] + [p.pos for p in rest] == list(range(PER_SHELF))


def test_cursor_and_paging_state_together_are_refused(ks):
    first = Paper.objects(shelf=6).page(5)
    with pytest.raises(QueryException, match="Paper.page: pass cursor or paging_state, not both"):
        Paper.objects(shelf=6).page(5, paging_state=first.paging_state, cursor=first.cursor)


def _vint(n: int) -> bytes:
    """Cassandra's shortest unsigned vint (for forging page states in tests)."""
    size = (639 - 9 * (64 - (n | 1).bit_length())) >> 6
    raw = n.to_bytes(size, "big")
    return raw if size == 1 else bytes([(0xFF << (9 - size)) & 0xFF | raw[0]]) + raw[1:]


def test_a_limited_query_walks_to_its_limit_and_a_state_claiming_more_is_refused(ks):
    qs = Paper.objects(shelf=3).limit(7)
    seen, pages = walk(qs, 2)
    assert [pos for _, pos in seen] == list(range(7)) and pages == 4
    first = qs.page(2)
    state = first.paging_state
    key_len = state[0]
    mark_len = state[1 + key_len]
    head = state[:2 + key_len + mark_len]
    forged = head + _vint(1000) + _vint(1000)  # a client lifting the LIMIT of 7
    before = executed()
    with pytest.raises(QueryException, match="claims 1000 rows left, more than the query's limit of 7"):
        qs.page(2, cursor=cursors.encode(forged, _fingerprint_of(qs)))
    with pytest.raises(QueryException, match="claims 1000 rows left"):
        qs.page(2, paging_state=forged)
    assert executed() == before
    assert [p.pos for p in qs.page(2, paging_state=state)] == [2, 3]  # the state as the server made it
