"""asyncio: the same reads and writes awaited, against the real server."""
from __future__ import annotations

import asyncio

import pytest

from cqlengine import columns, connection, management
from cqlengine.exceptions import LWTException, ValidationError
from cqlengine.models import Model
from cqlengine.query import BatchQuery


class Note(Model):
    __table_name__ = "async_notes"
    owner = columns.Integer(partition_key=True)
    seq = columns.Integer(primary_key=True)
    body = columns.Text(max_length=20)
    hits = columns.Integer()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Note)
    return cqlengine_connection.default_keyspace


def run(coro):
    return asyncio.run(coro)


def test_create_get_first_count(ks):
    async def scenario():
        created = await Note.acreate(owner=1, seq=1, body="one")
        got = await Note.objects.aget(owner=1, seq=1)
        assert await Note.aget(owner=1, seq=1) == got  # the class-level twin of get()
        first = await Note.objects(owner=1).afirst()
        none = await Note.objects(owner=999).afirst()
        count = await Note.objects(owner=1).acount()
        return created, got, first, none, count

    created, got, first, none, count = run(scenario())
    assert got == created == first
    assert none is None and count == 1


def test_aget_raises_the_models_exceptions(ks):
    async def scenario():
        await Note.acreate(owner=2, seq=1)
        await Note.acreate(owner=2, seq=2)
        with pytest.raises(Note.DoesNotExist):
            await Note.objects.aget(owner=2, seq=3)
        with pytest.raises(Note.MultipleObjectsReturned):
            await Note.objects.aget(owner=2)
        with pytest.raises(Note.DoesNotExist):
            await Note.aget(owner=2, seq=3)

    run(scenario())


def test_async_for_pages_lazily(ks):
    async def scenario():
        await asyncio.gather(*(Note.acreate(owner=3, seq=i, body=str(i)) for i in range(35)))
        qs = Note.objects(owner=3).fetch_size(10)
        seen = []
        async for note in qs:
            seen.append(note.seq)
            if len(seen) == 10:
                assert qs.pages_fetched == 1  # the second page is not fetched before it is needed
        return seen, qs.pages_fetched, await Note.objects(owner=3).aall()

    seen, pages, every = run(scenario())
    assert seen == list(range(35)) and pages == 4
    assert [n.seq for n in every] == seen


def test_page_state_round_trip(ks):
    async def scenario():
        await asyncio.gather(*(Note.acreate(owner=4, seq=i) for i in range(25)))
        pages, state = [], None
        while True:
            page = await Note.objects(owner=4).apage(10, state)
            pages.append([n.seq for n in page])
            state = page.paging_state
            if state is None:
                return pages

    assert run(scenario()) == [list(range(10)), list(range(10, 20)), list(range(20, 25))]


def test_instance_writes(ks):
    async def scenario():
        note = await Note.acreate(owner=5, seq=1, body="a", hits=1)
        await note.aupdate(hits=2)
        note.body = "b"
        await note.asave()
        after_save = await Note.objects.aget(owner=5, seq=1)
        await note.adelete()
        return after_save, await Note.objects(owner=5).acount()

    after_save, remaining = run(scenario())
    assert (after_save.body, after_save.hits) == ("b", 2)
    assert remaining == 0


def test_queryset_update_and_delete(ks):
    async def scenario():
        await Note.acreate(owner=6, seq=1, hits=1)
        await Note.objects(owner=6, seq=1).aupdate(hits=7)
        hits = (await Note.objects.aget(owner=6, seq=1)).hits
        await Note.objects(owner=6).adelete()
        return hits, await Note.objects(owner=6).acount()

    assert run(scenario()) == (7, 0)


def test_lwt_and_validation(ks):
    sent = connection.get_connection().stats

    async def scenario():
        await Note.if_not_exists().acreate(owner=7, seq=1, body="first")
        with pytest.raises(LWTException) as info:
            await Note.if_not_exists().acreate(owner=7, seq=1, body="second")
        before = sent.executed
        with pytest.raises(ValidationError, match="Note.body"):
            await Note.acreate(owner=7, seq=2, body="x" * 21)
        assert sent.executed == before  # refused before anything was sent
        return info.value.existing

    assert run(scenario())["body"] == "first"


def test_async_batch(ks):
    async def scenario():
        called = []
        async with BatchQuery() as batch:
            batch.add_callback(called.append, "done")
            for i in range(3):
                await Note.batch(batch).acreate(owner=8, seq=i)
            assert await Note.objects(owner=8).acount() == 0  # nothing sent before the block ends
        return called, await Note.objects(owner=8).acount()

    assert run(scenario()) == (["done"], 3)


def test_the_event_loop_keeps_running_while_queries_wait(ks):
    # What is checked is the property, not a rate: the loop ran other work at a moment
    # when writes had been sent and not yet answered. A blocking acreate would finish
    # each write before the loop could run the ticker, so no tick would see one pending.
    # (Counting ticks against a threshold depended on how fast the node answered.)
    async def scenario():
        pending = 0
        ticks_while_pending = 0
        done = False

        async def ticker():
            nonlocal ticks_while_pending
            while not done:
                if pending:
                    ticks_while_pending += 1
                await asyncio.sleep(0)

        async def write(seq):
            nonlocal pending
            pending += 1
            try:
                await Note.acreate(owner=9, seq=seq)
            finally:
                pending -= 1

        task = asyncio.ensure_future(ticker())
        await asyncio.sleep(0)  # the ticker is running before the first write starts
        await asyncio.gather(*(write(i) for i in range(50)))
        count = await Note.objects(owner=9).acount()
        done = True
        await task
        return ticks_while_pending, count

    ticks_while_pending, count = run(scenario())
    assert count == 50
    assert ticks_while_pending > 0


def test_preparing_a_new_shape_does_not_block_the_loop(ks):
    import threading

    conn = connection.get_connection()
    real_prepare = conn.session.prepare
    loop_ran = threading.Event()
    prepared = []

    def prepare_once_the_loop_has_run(cql, *args, **kwargs):
        assert loop_ran.wait(5), "the event loop was blocked while preparing"
        prepared.append(cql)
        return real_prepare(cql, *args, **kwargs)

    async def scenario():
        async def mark_loop_alive():
            await asyncio.sleep(0)
            loop_ran.set()

        ticker = asyncio.ensure_future(mark_loop_alive())
        # A shape never prepared before: the prepare runs off the loop and waits for the ticker.
        count = await Note.objects(owner=10).limit(7).acount()
        await ticker
        return count

    conn.session.prepare = prepare_once_the_loop_has_run
    try:
        assert run(scenario()) == 0
        assert len(prepared) == 1  # the shape really was new
    finally:
        conn.session.prepare = real_prepare


def test_many_results_in_flight_each_reach_their_own_awaiter(ks):
    # Results arriving together share one wake-up of the loop: each must still settle its own
    # awaiter, with its own row or its own error.
    async def scenario():
        await asyncio.gather(*(Note.acreate(owner=7, seq=i, body=f"n{i}") for i in range(300)))

        async def read(i):
            if i % 7 == 0:
                try:
                    # Prepared fine, refused by the server when run: the error comes back as a result.
                    await connection.aexecute(f"SELECT * FROM {ks}.async_notes WHERE owner = ? LIMIT ?", [7, 0])
                except Exception as exc:
                    return ("error", i, type(exc).__name__)
            note = await Note.objects.aget(owner=7, seq=i)
            return ("row", i, note.body)

        return await asyncio.gather(*(read(i) for i in range(300)))

    results = run(scenario())
    assert results == [("error", i, "InvalidRequest") if i % 7 == 0 else ("row", i, f"n{i}") for i in range(300)]
    # A second loop, after the first one closed, gets its results the same way.
    assert run(Note.objects.aget(owner=7, seq=1)).body == "n1"


def test_closed_event_loops_are_freed(ks):
    import gc

    async def read():
        return [note async for note in Note.objects(owner=7).limit(3)]

    for _ in range(20):
        run(read())
    gc.collect()
    # type(), not isinstance(): isinstance() looks through a weakref proxy, and a dead one raises.
    assert sum(issubclass(type(obj), asyncio.AbstractEventLoop) for obj in gc.get_objects()) <= 1
