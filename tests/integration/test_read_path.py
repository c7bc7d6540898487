"""Rows read in bulk become instances by a compiled plan, keep their row as the snapshot, and save exactly
what changed: every read path, every kind of in-place change, pickling, legacy sessions, shared loops."""
from __future__ import annotations

import asyncio
import pickle
from datetime import datetime
from typing import Any

import pytest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster
from cassandra.query import dict_factory

from cqlengine import columns, connection, management
from cqlengine.models import Model
from cqlengine.statements import quote_identifier
from cqlengine.usertype import UserType


class ReadSpot(UserType):
    __type_name__ = "read_path_spot"
    name = columns.Text()
    marks = columns.List(columns.Integer)


class Reading(Model):
    __table_name__ = "read_path_rows"
    k = columns.Integer(partition_key=True)
    c = columns.Integer(primary_key=True)
    title = columns.Text(db_field="t")
    at = columns.DateTime()
    tags = columns.Set(columns.Text)
    entries = columns.List(columns.Integer)
    scores = columns.Map(columns.Text, columns.Integer)
    pair = columns.Tuple(columns.Integer, columns.List(columns.Integer, frozen=True))
    spot = columns.UserDefinedType(ReadSpot)


AT = datetime(2243, 1, 1, 0, 0, 0, 1000)  # far from 1970: the driver's float reads it a microsecond off
ROWS = 7


def _values(c: int) -> dict[str, Any]:
    return dict(k=1, c=c, title=f"t{c}", at=AT, tags={"a", f"b{c}"}, entries=[c, 2], scores={"x": c},
                pair=(c, [c]), spot=ReadSpot(name=f"s{c}", marks=[c]))


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Reading)
    for c in range(ROWS):
        Reading.create(**_values(c))
    return cqlengine_connection.default_keyspace


@pytest.fixture
def fresh(ks):
    """Row c=0 as written by _values, whatever an earlier test saved into it."""
    Reading.create(**_values(0))
    return Reading.objects(k=1)


def _async_list(qs):
    async def read():
        return [obj async for obj in qs]
    return asyncio.run(read())


READERS = {
    "list": lambda qs: list(qs),
    "iterator": lambda qs: list(qs.iterator()),
    "paged": lambda qs: list(qs.fetch_size(2)),
    "async": _async_list,
    "using": lambda qs: list(qs.using(keyspace=qs.model._get_keyspace())),
}


@pytest.mark.parametrize("reader", list(READERS))
def test_every_read_path_gives_the_values_written_and_no_changes(ks, reader):
    instances = READERS[reader](Reading.objects(k=1))
    assert [obj.c for obj in instances] == list(range(ROWS))
    for obj in instances:
        assert {name: obj[name] for name in obj.keys()} == {**_values(obj.c), "spot": obj.spot}
        assert (obj.spot.name, obj.spot.marks) == (f"s{obj.c}", [obj.c])
        assert type(obj.tags) is set and type(obj.scores) is dict
        assert obj.get_changed_columns() == []


def test_partial_rows_know_what_they_did_not_read(ks):
    obj = Reading.objects(k=1, c=1).only(["k", "c", "tags"]).first()
    assert obj.tags == {"a", "b1"} and obj.title is None and obj.get_changed_columns() == []
    obj.title = "set without reading"
    assert obj.get_changed_columns() == ["title"]
    obj = Reading.objects(k=1, c=1).defer(["tags"]).first()
    assert obj.tags is None and obj.title == "t1" and obj.get_changed_columns() == []


def _sent(monkeypatch) -> list[str]:
    texts: list[str] = []
    real = connection.execute

    def execute(query: Any, *args: Any, **kwargs: Any) -> Any:
        texts.append(query if isinstance(query, str) else str(query))
        return real(query, *args, **kwargs)

    monkeypatch.setattr(connection, "execute", execute)
    return texts


CHANGES = [
    (lambda o: o.tags.add("new"), "tags", lambda o: o.tags == {"a", "b0", "new"}),
    (lambda o: o.entries.append(3), "entries", lambda o: o.entries == [0, 2, 3]),
    (lambda o: o.scores.update(y=2), "scores", lambda o: o.scores == {"x": 0, "y": 2}),
    (lambda o: o.pair[1].append(9), "pair", lambda o: o.pair == (0, [0, 9])),
    (lambda o: o.spot.marks.append(5), "spot", lambda o: o.spot.marks == [0, 5]),
    (lambda o: setattr(o.spot, "name", "moved"), "spot", lambda o: o.spot.name == "moved"),
    (lambda o: setattr(o, "title", "u"), "title", lambda o: o.title == "u"),
]


@pytest.mark.parametrize("change, column, check", CHANGES)
@pytest.mark.parametrize("reader", ["list", "async"])
def test_an_in_place_change_of_a_row_read_is_saved_alone(fresh, monkeypatch, reader, change, column, check):
    obj = READERS[reader](fresh.filter(c=0))[0]
    change(obj)
    assert obj.get_changed_columns() == [column]
    sent = _sent(monkeypatch)
    obj.save()
    assert len(sent) == 1 and sent[0].startswith("UPDATE ")
    assignments = sent[0].split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    targets = {part.split(" ", 1)[0] for part in assignments.split(", ")}
    set_names = [name for name, col in Reading._columns.items() if quote_identifier(col.db_field_name) in targets]
    assert set_names == [column], assignments
    again = Reading.objects(k=1, c=0).first()
    assert check(again) and again.get_changed_columns() == []
    others = {name: again[name] for name in again.keys() if name not in (column, "spot")}
    assert others == {name: value for name, value in _values(0).items() if name not in (column, "spot")}
    assert obj.get_changed_columns() == []


def test_a_pickled_row_keeps_its_snapshot(fresh):
    obj = list(fresh.filter(c=0))[0]
    copy = pickle.loads(pickle.dumps(obj))
    assert copy == obj and copy.get_changed_columns() == []
    copy.tags.add("z")
    assert copy.get_changed_columns() == ["tags"] and obj.get_changed_columns() == []


def test_rows_as_tuples_leave_the_sessions_profile_alone(ks):
    session = connection.get_session()
    result = connection.execute(f"SELECT k, c, t FROM {ks}.read_path_rows WHERE k = ?", [1], tuple_rows=True)
    assert result.column_names == ["k", "c", "t"]
    assert result.current_rows[0] == (1, 0, result.current_rows[0][2]) and type(result.current_rows[0]) is tuple
    assert session.get_execution_profile(EXEC_PROFILE_DEFAULT).row_factory is dict_factory
    assert type(connection.execute(f"SELECT k FROM {ks}.read_path_rows WHERE k = ?", [1]).one()) is dict


def test_a_loop_outlived_by_another_reads_to_the_end(ks):
    qs = Reading.objects(k=1).fetch_size(2)
    first = iter(qs)
    assert next(first).c == 0
    assert [obj.c for obj in qs] == list(range(ROWS))  # this loop reads every page
    assert [obj.c for obj in first] == list(range(1, ROWS))  # the first one goes on from the cache


@pytest.fixture
def legacy_session(cassandra, ks, monkeypatch):
    """A borrowed session in the driver's legacy configuration, reading dicts."""
    monkeypatch.setattr(connection, "_connections", {})
    monkeypatch.setattr(connection, "_default_name", None)
    cluster = Cluster(cassandra.contact_points, port=cassandra.port)
    session = cluster.connect(ks)
    session.row_factory = dict_factory
    connection.set_session(session)
    yield session
    for name in list(connection.connections()):
        connection.unregister_connection(name)
    cluster.shutdown()


def test_a_legacy_session_reads_dicts_into_the_same_instances(legacy_session):
    instances = list(Reading.objects(k=1).fetch_size(3))
    assert [obj.c for obj in instances] == list(range(ROWS))
    assert all(obj.get_changed_columns() == [] for obj in instances)
    instances[1].entries.append(7)
    assert instances[1].get_changed_columns() == ["entries"]
    assert legacy_session.row_factory is dict_factory


def test_a_user_type_the_driver_builds_itself_is_still_copied(fresh, ks):
    # With the class registered, the driver reads the model's own UserType instances: the instance
    # must get a copy, or an in-place change would change the row kept as the snapshot too.
    connection.get_cluster().register_user_type(ks, ReadSpot.type_name(), ReadSpot)
    obj = list(fresh.filter(c=0))[0]
    assert type(obj.spot) is ReadSpot and obj.get_changed_columns() == []
    obj.spot.marks.append(4)
    assert obj.get_changed_columns() == ["spot"]
    obj.save()
    assert Reading.objects(k=1, c=0).first().spot.marks == [0, 4]


class Shared(Model):
    __table_name__ = "read_path_shared"
    p = columns.Integer(partition_key=True)
    k = columns.Integer(primary_key=True)
    stamps = columns.List(columns.DateTime())


def test_threads_sharing_instances_read_one_snapshot(ks):
    import threading

    management.sync_table(Shared)
    for k in range(500):
        Shared.create(p=1, k=k, stamps=[datetime(2020, 1, 1)] * 20)
    errors: list[str] = []
    for _ in range(4):
        instances = list(Shared.objects(p=1))
        start = threading.Barrier(4)

        def read_changes(start: threading.Barrier = start, instances: list = instances) -> None:
            start.wait()
            for obj in instances:
                try:
                    assert obj.get_changed_columns() == []
                except Exception as exc:  # noqa: BLE001 - every failure of every thread is reported
                    errors.append(repr(exc))

        threads = [threading.Thread(target=read_changes) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


class Point:
    """A value without __eq__: equal only to itself."""

    def __init__(self, x: int) -> None:
        self.x = x


class PickledColumn(columns.Blob):
    """A column of the caller's own that converts by itself."""

    def to_python(self, value: Any) -> Any:
        return pickle.loads(value) if isinstance(value, bytes) else value

    def to_database(self, value: Any) -> Any:
        return None if value is None else pickle.dumps(value)

    def _clean(self, value: Any, label: str) -> Any:
        return value


class DriversOwnList(columns.List):
    """The peer's way to skip a conversion: hand back the driver's own list."""

    def to_python(self, value: Any) -> Any:
        return [] if value is None else value


class Custom(Model):
    __table_name__ = "read_path_custom"
    id = columns.Integer(primary_key=True)
    point = PickledColumn()
    marks = DriversOwnList(columns.Integer())


@pytest.mark.parametrize("read", [lambda: list(Custom.objects(id=1))[0], lambda: Custom.objects.get(id=1)])
def test_columns_that_convert_by_themselves_track_changes_as_before(ks, read):
    management.sync_table(Custom)
    Custom.create(id=1, point=Point(1), marks=[1])
    obj = read()
    assert obj.point.x == 1 and obj.get_changed_columns() == []  # read once: not changed by a second reading
    obj.marks.append(2)
    assert obj.get_changed_columns() == ["marks"]
    obj.save()
    assert Custom.objects.get(id=1).marks == [1, 2]


class Queued(Model):
    __table_name__ = "read_path_queued"
    id = columns.Integer(primary_key=True)
    scores = columns.Map(columns.Text(), columns.Integer())
    tags = columns.Set(columns.Text())
    entries = columns.List(columns.Integer())


def test_a_batch_sends_collections_as_they_were_when_saved(ks):
    from cqlengine.query import BatchQuery

    management.sync_table(Queued)
    batch = BatchQuery()
    obj = Queued(id=2, scores={"a": 1}, tags={"x"}, entries=[1])
    obj.batch(batch).save()
    obj.scores["b"] = 2
    obj.tags.add("y")
    obj.entries.append(2)
    batch.execute()
    row = Queued.objects.get(id=2)
    assert (row.scores, row.tags, row.entries) == ({"a": 1}, {"x"}, [1])


def test_rows_as_tuples_follow_a_later_change_to_the_sessions_profile(ks):
    """The tuple-reading copy of the session's profile is kept, but never outlives a change to the profile."""
    from cassandra import ConsistencyLevel

    profile = connection.get_session().get_execution_profile(EXEC_PROFILE_DEFAULT)
    query = f"SELECT k FROM {ks}.read_path_rows WHERE k = ?"

    def level_sent() -> Any:
        result = connection.execute(query, [1], tuple_rows=True)
        assert type(result.current_rows[0]) is tuple
        return result.response_future.message.consistency_level

    before = profile.consistency_level
    try:
        assert level_sent() == level_sent() == before
        profile.consistency_level = ConsistencyLevel.ONE if before != ConsistencyLevel.ONE else ConsistencyLevel.ALL
        assert level_sent() == profile.consistency_level != before
    finally:
        profile.consistency_level = before
    assert level_sent() == before
    assert profile.row_factory is dict_factory
