"""BatchQuery against the real server."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import NoHostAvailable
from cassandra.query import BatchType as DriverBatchType

from cqlengine import columns, connection, management
from cqlengine.exceptions import LWTException
from cqlengine.models import Model
from cqlengine.query import BatchQuery, BatchType


class BItem(Model):
    __table_name__ = "b_items"
    k = columns.Integer(partition_key=True)
    c = columns.Integer(primary_key=True)
    v = columns.Text()


class BCount(Model):
    __table_name__ = "b_counts"
    k = columns.Integer(partition_key=True)
    hits = columns.Counter()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(BItem)
    management.sync_table(BCount)
    return cqlengine_connection.default_keyspace


def executed() -> int:
    return connection.get_connection().stats.executed


def values(k: int) -> dict[int, str]:
    return {r.c: r.v for r in BItem.objects(k=k)}


@pytest.mark.parametrize("k, batch_type", [
    (100, None), (101, BatchType.Logged), (102, BatchType.Unlogged), (103, DriverBatchType.UNLOGGED),
    (104, "logged"),
])
def test_logged_and_unlogged_batches(ks, k, batch_type):
    b = BatchQuery(batch_type=batch_type)
    BItem.batch(b).create(k=k, c=1, v="a")
    BItem.objects.batch(b).create(k=k, c=2, v="b")
    assert values(k) == {}  # nothing sent yet
    before = executed()
    b.execute()
    assert executed() == before + 1  # one round trip
    assert values(k) == {1: "a", 2: "b"}


def test_counter_batch(ks):
    with BatchQuery(batch_type=BatchType.Counter) as b:
        BCount.objects(k=1).batch(b).update(hits=3)
        BCount.objects(k=1).batch(b).update(hits=4)
        BCount.objects(k=2).batch(b).update(hits__remove=2)
    assert BCount.get(k=1).hits == 7
    assert BCount.get(k=2).hits == -2


def test_context_manager_executes_on_clean_exit(ks):
    with BatchQuery() as b:
        BItem.batch(b).create(k=1, c=1, v="a")
        item = BItem(k=1, c=2, v="b")
        item.batch(b).save()
        BItem.objects(k=1, c=3).batch(b).update(v="c")
        assert values(1) == {}
    assert values(1) == {1: "a", 2: "b", 3: "c"}
    with BatchQuery() as b:
        BItem.objects(k=1, c=3).batch(b).delete()
        BItem.objects(k=1, c=1).batch(b).update(v="A")
    assert values(1) == {1: "A", 2: "b"}


def test_exception_discards_the_batch_unless_execute_on_exception(ks):
    with pytest.raises(RuntimeError):
        with BatchQuery() as b:
            BItem.batch(b).create(k=2, c=1, v="a")
            raise RuntimeError("boom")
    assert values(2) == {}
    assert not b.executed
    with pytest.raises(RuntimeError):
        with BatchQuery(execute_on_exception=True) as b:
            BItem.batch(b).create(k=2, c=1, v="a")
            raise RuntimeError("boom")
    assert values(2) == {1: "a"}
    assert b.executed


def test_batch_timestamp_applies_to_every_statement(ks):
    when = datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    micros = int(when.timestamp()) * 1_000_000
    with BatchQuery(timestamp=when) as b:
        BItem.batch(b).create(k=3, c=1, v="a")
        BItem.objects(k=3, c=2).batch(b).update(v="b")
    rows = connection.execute(f"SELECT c, WRITETIME(v) AS wt FROM {ks}.b_items WHERE k = ?", [3])
    assert {r["c"]: r["wt"] for r in rows} == {1: micros, 2: micros}
    with BatchQuery(timestamp=1_600_000_000_000_000) as b:
        BItem.batch(b).create(k=3, c=3, v="c")
    row = connection.execute(f"SELECT WRITETIME(v) AS wt FROM {ks}.b_items WHERE k = ? AND c = ?", [3, 3]).one()
    assert row["wt"] == 1_600_000_000_000_000


def test_batch_consistency_is_sent(ks):
    b = BatchQuery(consistency=ConsistencyLevel.THREE)
    BItem.batch(b).create(k=4, c=1, v="a")
    with pytest.raises(NoHostAvailable, match="THREE"):
        b.execute()
    b2 = BatchQuery().consistency(ConsistencyLevel.ONE)
    BItem.batch(b2).create(k=4, c=1, v="a")
    b2.execute()
    assert values(4) == {1: "a"}


def test_callbacks_run_after_execution_only(ks):
    calls = []

    def seen(tag, extra=None):
        calls.append((tag, extra, values(5)))

    with BatchQuery() as b:
        b.add_callback(seen, "ok", extra=1)
        BItem.batch(b).create(k=5, c=1, v="a")
        assert calls == []
    assert calls == [("ok", 1, {1: "a"})]  # after the write landed

    calls.clear()
    with pytest.raises(RuntimeError):
        with BatchQuery() as b:
            b.add_callback(seen, "never")
            BItem.batch(b).create(k=5, c=2, v="b")
            raise RuntimeError
    assert calls == []
    with pytest.raises(ValueError):
        BatchQuery().add_callback("not callable")


def test_conditional_batch_raises_lwt_exception_when_not_applied(ks):
    # Conditional from the start: a plain write just before an LWT may carry a later timestamp.
    BItem.if_not_exists().create(k=6, c=1, v="a")
    b = BatchQuery()
    BItem.objects(k=6, c=1).batch(b).iff(v="not a").update(v="b")
    BItem.batch(b).create(k=6, c=2, v="x")
    with pytest.raises(LWTException):
        b.execute()
    assert values(6) == {1: "a"}
    with BatchQuery() as b:
        BItem.objects(k=6, c=1).batch(b).iff(v="a").update(v="b")
        BItem.batch(b).create(k=6, c=2, v="x")
    assert values(6) == {1: "b", 2: "x"}


def test_batch_cannot_run_twice(ks):
    b = BatchQuery()
    BItem.batch(b).create(k=7, c=1, v="a")
    b.execute()
    with pytest.raises(Exception, match="already executed"):
        b.execute()
    with pytest.raises(Exception, match="already executed"):
        BItem.batch(b).create(k=7, c=2, v="b")
