"""Batches sent as the driver's batch of the members' own prepared statements."""
from __future__ import annotations

import asyncio
import time

import pytest
from cassandra import InvalidRequest

from cqlengine import columns, connection, management
from cqlengine.exceptions import LWTException, QueryException
from cqlengine.models import Model
from cqlengine.query import BatchQuery, BatchType
from cqlengine.statements import InsertStatement


class BSRow(Model):
    __table_name__ = "bs_rows"
    k = columns.Integer(partition_key=True)
    c = columns.Integer(primary_key=True)
    a = columns.Text()
    b = columns.Integer()
    d = columns.Text()


class BSTally(Model):
    __table_name__ = "bs_tally"
    k = columns.Integer(partition_key=True)
    hits = columns.Counter()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(BSRow)
    management.sync_table(BSTally)
    return cqlengine_connection.default_keyspace


def conn() -> connection.Connection:
    return connection.get_connection()


def rows(k: int) -> dict[int, tuple]:
    return {r.c: (r.a, r.b, r.d) for r in BSRow.objects(k=k)}


def writetimes(ks: str, k: int) -> dict[int, int]:
    found = connection.execute(f"SELECT c, WRITETIME(a) AS wt FROM {ks}.bs_rows WHERE k = ?", [k])
    return {r["c"]: r["wt"] for r in found}


def fill(batch: BatchQuery, k: int, size: int) -> None:
    """``size`` rows, leaving a different set of columns null from one row to the next."""
    for c in range(size):
        values = {"a": f"a{c}" if c % 2 else None, "b": c if c % 3 else None, "d": "d" if c % 5 == 1 else None}
        BSRow.batch(batch).create(k=k, c=c, **values)


# ---------------------------------------------------------------- the prepared cache


def test_the_prepared_cache_holds_member_shapes_not_batch_shapes(ks):
    stats = conn().stats

    def new_prepares() -> int:
        # Statements the driver's schema refreshes made stale are prepared again: not new shapes.
        return stats.prepared_misses - stats.prepared_invalidations

    shapes: set[str] = set()
    before = new_prepares()
    for k, size in ((10, 1), (11, 5), (12, 50)):
        with BatchQuery() as b:
            fill(b, k, size)
            shapes.update(cql for cql, _ in b._members())
    # Only the members' shapes were prepared (one per combination of null columns) ...
    assert 1 < len(shapes) <= 8
    assert new_prepares() == before + len(shapes)
    # ... and batches of any size made of them prepare nothing more.
    for k, size in ((13, 50), (14, 5), (15, 1), (16, 20)):
        with BatchQuery(batch_type=BatchType.Unlogged) as b:
            fill(b, k, size)
    assert new_prepares() == before + len(shapes)
    assert len(rows(12)) == len(rows(13)) == 50
    assert rows(11)[3] == ("a3", None, None) and rows(11)[1] == ("a1", 1, "d")


def test_a_batch_is_one_request(ks):
    b = BatchQuery()
    fill(b, 20, 30)
    before = conn().stats.executed
    b.execute()
    assert conn().stats.executed == before + 1
    assert len(rows(20)) == 30


# ---------------------------------------------------------------- what batches write


@pytest.mark.parametrize("batch_type", [None, BatchType.Logged, BatchType.Unlogged, "unlogged"])
def test_logged_and_unlogged_batches_write_updates_and_deletes(ks, batch_type):
    k = 30 + [None, BatchType.Logged, BatchType.Unlogged, "unlogged"].index(batch_type)
    BSRow.create(k=k, c=1, a="old")
    BSRow.create(k=k, c=2, a="doomed")
    with BatchQuery(batch_type=batch_type) as b:
        BSRow.batch(b).create(k=k, c=3, a="new", b=3)
        BSRow.objects(k=k, c=1).batch(b).update(a="changed", d="d")
        BSRow.objects(k=k, c=2).batch(b).delete()
        assert rows(k) == {1: ("old", None, None), 2: ("doomed", None, None)}
    assert rows(k) == {1: ("changed", None, "d"), 3: ("new", 3, None)}


def test_counter_batch(ks):
    with BatchQuery(batch_type=BatchType.Counter) as b:
        BSTally.objects(k=1).batch(b).update(hits=3)
        BSTally.objects(k=1).batch(b).update(hits=4)
        BSTally.objects(k=2).batch(b).update(hits__remove=2)
    assert (BSTally.get(k=1).hits, BSTally.get(k=2).hits) == (7, -2)


def test_a_server_refusal_runs_the_discard_callbacks(ks):
    b = BatchQuery()  # LOGGED: Cassandra refuses counter writes in it
    BSTally.objects(k=3).batch(b).update(hits=1)
    discarded: list[str] = []
    b.add_discard_callback(discarded.append, "refused")
    with pytest.raises(InvalidRequest, match="counter"):
        b.execute()
    assert discarded == ["refused"] and not b.executed


# ---------------------------------------------------------------- timestamps


def test_the_batch_timestamp_dates_every_member(ks):
    BSRow.timestamp(2_000).create(k=40, c=1, a="x")
    BSRow.timestamp(2_000).create(k=40, c=2, a="y")
    with BatchQuery(timestamp=1_500) as b:
        BSRow.batch(b).create(k=40, c=3, a="z")
        BSRow.objects(k=40, c=1).batch(b).update(a="older than the row: lost")
        BSRow.objects(k=40, c=2).batch(b).delete()
    # The update and the delete are dated 1500, before the rows' 2000: neither wins.
    assert rows(40) == {1: ("x", None, None), 2: ("y", None, None), 3: ("z", None, None)}
    assert writetimes(ks, 40) == {1: 2_000, 2: 2_000, 3: 1_500}
    with BatchQuery(timestamp=2_500) as b:
        BSRow.objects(k=40, c=1).batch(b).update(a="newer")
        BSRow.objects(k=40, c=2).batch(b).delete()
    assert rows(40) == {1: ("newer", None, None), 3: ("z", None, None)}
    assert writetimes(ks, 40) == {1: 2_500, 3: 1_500}


def test_a_member_keeps_its_own_timestamp_in_a_batch_without_one(ks):
    started = time.time_ns() // 1000
    with BatchQuery() as b:
        BSRow.timestamp(1_234).batch(b).create(k=41, c=1, a="own")
        BSRow.batch(b).create(k=41, c=2, a="now")
    found = writetimes(ks, 41)
    assert found[1] == 1_234
    assert found[2] >= started - 60_000_000  # the request's own time (allowing for clock skew)


def test_a_batch_timestamp_with_a_member_timestamp_is_refused_before_sending(ks):
    # Cassandra refuses the mix in a batch text ...
    with pytest.raises(InvalidRequest, match="either on BATCH or individual statements"):
        connection.execute(
            f"BEGIN BATCH USING TIMESTAMP 10 INSERT INTO {ks}.bs_rows (k, c, a) VALUES (?, ?, ?) "
            "USING TIMESTAMP 20; APPLY BATCH", [42, 1, "x"])
    # ... and the batch refuses it as before, without sending anything.
    b = BatchQuery(timestamp=10)
    BSRow.batch(b).create(k=42, c=2, a="y")
    BSRow.timestamp(20).batch(b).create(k=42, c=3, a="z")
    before = conn().stats.executed
    with pytest.raises(QueryException, match="batch-level timestamp"):
        b.execute()
    assert conn().stats.executed == before
    assert rows(42) == {}


def test_a_counter_batch_with_a_timestamp_is_refused_by_the_server(ks):
    discarded: list[int] = []
    b = BatchQuery(batch_type=BatchType.Counter, timestamp=10)
    BSTally.objects(k=4).batch(b).update(hits=1)
    b.add_discard_callback(discarded.append, 1)
    with pytest.raises(InvalidRequest, match="custom timestamp for counter"):
        b.execute()
    assert discarded == [1]


# ---------------------------------------------------------------- lightweight transactions


def test_a_conditional_batch_not_applied_raises_with_existing(ks):
    BSRow.if_not_exists().create(k=50, c=1, a="a")
    b = BatchQuery()
    BSRow.objects(k=50, c=1).batch(b).iff(a="not a").update(a="b")
    BSRow.batch(b).create(k=50, c=2, a="x")
    with pytest.raises(LWTException) as info:
        b.execute()
    assert info.value.existing["[applied]"] is False
    assert info.value.existing["a"] == "a"
    assert rows(50) == {1: ("a", None, None)}
    with BatchQuery() as b:
        BSRow.objects(k=50, c=1).batch(b).iff(a="a").update(a="b")
        BSRow.batch(b).create(k=50, c=2, a="x")
    assert rows(50) == {1: ("b", None, None), 2: ("x", None, None)}
    b = BatchQuery()
    BSRow.batch(b).if_not_exists().create(k=50, c=1, a="again")
    with pytest.raises(LWTException) as info:
        b.execute()
    assert info.value.existing == {"[applied]": False, "k": 50, "c": 1, "a": "b", "b": None, "d": None}


# ---------------------------------------------------------------- members that do not bind


def test_a_member_that_does_not_bind_refuses_the_whole_batch(ks):
    table = f"{ks}.bs_rows"
    b = BatchQuery()
    BSRow.batch(b).create(k=60, c=1, a="fine")
    # Not through a model (which validates values): a value the driver cannot serialize as text.
    b.add_query(InsertStatement("bs_rows", ks, values=[("k", 60), ("c", 2), ("a", 12345)]))
    discarded: list[str] = []
    b.add_discard_callback(discarded.append, "never applied")
    before = (conn().stats.executed, conn().stats.reprepared_on_bind_error)
    with pytest.raises((TypeError, AttributeError)):
        b.execute()
    assert conn().stats.executed == before[0]  # nothing was sent
    assert conn().stats.reprepared_on_bind_error == before[1] + 1  # prepared afresh once, then refused
    assert discarded == ["never applied"] and not b.executed
    assert rows(60) == {}
    # The connection function alone: the same refusal.
    refused: list[bool] = []
    with pytest.raises((TypeError, AttributeError)):
        connection.execute_batch(
            [(f"INSERT INTO {table} (k, c, a) VALUES (?, ?, ?)", [60, 3, "fine"]),
             (f"INSERT INTO {table} (k, c, a) VALUES (?, ?, ?)", [60, 4, 6789])],
            "UNLOGGED", on_refused=lambda: refused.append(True))
    assert refused == [True] and rows(60) == {}


def test_a_member_prepared_against_an_old_table_is_prepared_afresh(ks):
    table = f"{ks}.bs_changing"
    session = connection.get_session()
    session.execute(f"CREATE TABLE {table} (k int PRIMARY KEY, v int)")
    insert = f"INSERT INTO {table} (k, v) VALUES (?, ?)"
    connection.execute_batch([(insert, [1, 1]), (insert, [2, 2])])
    # Another client replaces the table, with another type for v: the cached member is stale.
    session.execute(f"DROP TABLE {table}")
    session.execute(f"CREATE TABLE {table} (k int PRIMARY KEY, v text)")
    connection.execute_batch([(insert, [1, "one"]), (insert, [2, "two"])], BatchType.Unlogged)
    found = connection.execute(f"SELECT k, v FROM {table} WHERE k IN ?", [[1, 2]])
    assert {r["k"]: r["v"] for r in found} == {1: "one", 2: "two"}


def test_execute_batch_refuses_an_empty_batch_and_unknown_types(ks):
    with pytest.raises(ValueError, match="empty"):
        connection.execute_batch([])
    with pytest.raises(ValueError, match="batch type"):
        connection.execute_batch([(f"DELETE FROM {ks}.bs_rows WHERE k = ?", [1])], "SOMETIMES")


# ---------------------------------------------------------------- asyncio


def run(coro):
    return asyncio.run(coro)


def test_async_batches_work_the_same(ks):
    async def scenario():
        called: list[str] = []
        async with BatchQuery(timestamp=3_000) as b:
            b.add_callback(called.append, "done")
            await BSRow.batch(b).acreate(k=70, c=1, a="x")
            await BSRow.batch(b).acreate(k=70, c=2, a="y", b=2)
            assert await BSRow.objects(k=70).acount() == 0
        async with BatchQuery(batch_type=BatchType.Counter) as b:
            BSTally.objects(k=70).batch(b).update(hits=5)
        return called

    stats = conn().stats
    # Every shape the scenario uses is met first, so the scenario prepares nothing new
    # (beyond statements the driver's schema refreshes made stale, which are prepared again).
    with BatchQuery(timestamp=1) as b:
        BSRow.batch(b).create(k=71, c=1, a="x")
        BSRow.batch(b).create(k=71, c=2, a="y", b=2)
    with BatchQuery(batch_type=BatchType.Counter) as b:
        BSTally.objects(k=71).batch(b).update(hits=1)
    BSRow.objects(k=71).count()
    misses, invalidated = stats.prepared_misses, stats.prepared_invalidations
    assert run(scenario()) == ["done"]
    assert stats.prepared_misses - misses == stats.prepared_invalidations - invalidated
    assert rows(70) == {1: ("x", None, None), 2: ("y", 2, None)}
    assert writetimes(ks, 70) == {1: 3_000, 2: 3_000}
    assert BSTally.get(k=70).hits == 5


def test_async_conditional_batch_and_refusals(ks):
    BSRow.if_not_exists().create(k=72, c=1, a="a")

    async def lwt():
        async with BatchQuery() as b:
            BSRow.objects(k=72, c=1).batch(b).iff(a="zz").update(a="b")

    with pytest.raises(LWTException) as info:
        run(lwt())
    assert info.value.existing == {"[applied]": False, "k": 72, "c": 1, "a": "a"}

    discarded: list[str] = []

    async def refused():
        b = BatchQuery()
        b.add_discard_callback(discarded.append, "server")
        BSTally.objects(k=72).batch(b).update(hits=1)  # a counter in a LOGGED batch
        await b.aexecute()

    with pytest.raises(InvalidRequest):
        run(refused())

    async def unbound():
        b = BatchQuery()
        b.add_discard_callback(discarded.append, "bind")
        BSRow.batch(b).create(k=72, c=5, a="fine")
        b.add_query(InsertStatement("bs_rows", ks, values=[("k", 72), ("c", 6), ("a", 1)]))
        await b.aexecute()

    with pytest.raises((TypeError, AttributeError)):
        run(unbound())
    assert discarded == ["server", "bind"]
    assert rows(72) == {1: ("a", None, None)}
