"""The pure parts of a backfill: the timestamps each target cell is written with, and the rate limit."""
from __future__ import annotations

import pytest

from cqlengine import columns
from cqlengine.exceptions import CQLEngineException
from cqlengine.migrate import history as bf
from cqlengine.mirroring import Mirror, MirrorError, identity_transform
from cqlengine.models import Model


class Old(Model):
    __keyspace__ = "ks"
    id = columns.Integer(partition_key=True)
    name = columns.Text()
    qty = columns.Integer()
    tags = columns.Set(columns.Text)


class New(Model):
    __keyspace__ = "ks"
    id = columns.Integer(partition_key=True)
    name = columns.Text()
    qty = columns.Integer()
    label = columns.Text()
    tags = columns.Set(columns.Text)


def writer(transform=None):
    return bf._Writer(Mirror(Old, New, transform or identity_transform(New)), 4, None, 0)


def rendered(inserts):
    return sorted(((s.timestamp, s.ttl, tuple(c for c, _ in s.values)) for s in inserts),
                  key=lambda r: (r[0], -1 if r[1] is None else r[1]))


def test_each_cell_keeps_its_own_timestamp_and_ttl():
    old = Old(id=1, name="a", qty=2, tags={"x"})
    inserts = writer().inserts(old, {"name": (100, None), "qty": (200, 50)})
    # same-named cells keep theirs; a non-frozen collection (a cell per element) is dated UNDATED, so its
    # INSERT (which first deletes the whole collection) never deletes an element a live write added
    assert rendered(inserts) == [(bf.UNDATED, None, ("id", "tags")), (100, None, ("id", "name")),
                                 (200, 50, ("id", "qty"))]


def test_renamed_columns_take_the_rows_latest_and_rows_without_cells_are_undated():
    to_label = lambda o: {"id": o.id, "label": o.name}  # noqa: E731
    assert rendered(writer(to_label).inserts(Old(id=1, name="a"), {"name": (100, None), "qty": (300, None)})) == \
        [(300, None, ("id", "label"))]
    assert rendered(writer().inserts(Old(id=1), {})) == [(bf.UNDATED, None, ("id",))]
    # one TTL shared by every cell is the row's
    assert rendered(writer(to_label).inserts(Old(id=1, name="a"), {"name": (100, 60)})) == \
        [(100, 60, ("id", "label"))]
    # a row from elsewhere with its own time ("") dates every column with it, collections too
    assert rendered(writer().inserts(Old(id=1, tags={"x"}), {"": (500, None)})) == [(500, None, ("id", "tags"))]


def test_a_transform_that_gives_no_row_skips_and_a_bad_one_names_the_row():
    assert writer(lambda o: None).inserts(Old(id=1), {}) is None
    with pytest.raises(MirrorError, match="transform failed on"):
        writer(lambda o: 1 / 0).inserts(Old(id=1), {})
    with pytest.raises(MirrorError, match="unknown target column"):
        writer(lambda o: {"id": 1, "nope": 2}).inserts(Old(id=1), {})


def test_stamped_refuses_timestamps_in_other_units_and_bad_ttls():
    now = bf.time.time_ns() // 1000
    assert bf.Stamped({}, now).timestamp == now
    for wrong in (now // 1000, now // 1_000_000, now * 1000):  # ms, s, ns
        with pytest.raises(CQLEngineException, match="not microseconds"):
            bf.Stamped({}, wrong)
    with pytest.raises(CQLEngineException, match="ttl"):
        bf.Stamped({}, now, ttl=-1)


def test_the_rate_limit_spaces_pages(monkeypatch):
    clock = [0.0]
    slept = []
    monkeypatch.setattr(bf.time, "monotonic", lambda: clock[0])

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(bf.time, "sleep", sleep)
    limit = bf.RateLimit(100)
    for _ in range(5):
        limit.take(50)  # 250 rows at 100 rows/s: 2.5 s, after the first page's allowance
    assert sum(slept) == pytest.approx(2.0)
    clock[0] += 60  # idle: at most one second of allowance is saved up
    slept.clear()
    limit.take(100)
    limit.take(100)
    assert slept == []  # the second of allowance saved up
    limit.take(100)
    assert slept == [pytest.approx(1.0)]  # then 100 rows a second again
    bf.RateLimit(None).take(10**9)  # no limit: never waits
    with pytest.raises(CQLEngineException, match="rate"):
        bf.RateLimit(0)
