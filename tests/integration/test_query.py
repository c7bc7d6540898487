"""QuerySets against the real server: reads, paging, writes, options and contexts."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from cassandra import ConsistencyLevel, InvalidRequest, OperationTimedOut, Unavailable
from cassandra.cluster import NoHostAvailable
from cassandra.util import uuid_from_time

from cqlengine import columns, connection, management
from cqlengine.exceptions import LWTException, QueryException
from cqlengine.functions import MaxTimeUUID, MinTimeUUID, Token
from cqlengine.models import Model
from cqlengine.query import ContextQuery


class QRow(Model):
    __table_name__ = "q_rows"
    part = columns.Integer(partition_key=True)
    ck = columns.Integer(primary_key=True)
    name = columns.Text()
    label = columns.Text(custom_index=True)
    score = columns.Integer(custom_index=True)
    kind = columns.Text(index=True)
    tags = columns.Set(columns.Text)
    attrs = columns.Map(columns.Text, columns.Integer)


class QBig(Model):
    __table_name__ = "q_big"
    part = columns.Integer(partition_key=True)
    ck = columns.Integer(primary_key=True)
    v = columns.Text()


class QScan(Model):
    __table_name__ = "q_scan"
    k = columns.Integer(partition_key=True)
    v = columns.Integer()


class QTimeline(Model):
    __table_name__ = "q_timeline"
    part = columns.Integer(partition_key=True)
    at = columns.TimeUUID(primary_key=True)
    v = columns.Integer()


class QColl(Model):
    __table_name__ = "q_coll"
    k = columns.Integer(partition_key=True)
    nums = columns.List(columns.Integer)
    names = columns.Set(columns.Text)
    props = columns.Map(columns.Text, columns.Integer)
    v = columns.Text()


class QCount(Model):
    __table_name__ = "q_count"
    k = columns.Integer(partition_key=True)
    hits = columns.Counter()


MODELS = [QRow, QBig, QScan, QTimeline, QColl, QCount]
BIG = 10_000
T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)


def _insert_many(cql: str, rows: list[list]) -> None:
    """Fast bulk insert for fixtures: concurrent prepared writes, bounded in flight."""
    for start in range(0, len(rows), 500):
        futures = [connection.execute_async(cql, r) for r in rows[start:start + 500]]
        for f in futures:
            f.result()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    for model in MODELS:
        management.sync_table(model)
    keyspace = cqlengine_connection.default_keyspace
    for part in range(3):
        for ck in range(5):
            QRow.create(part=part, ck=ck, name=f"n{part}{ck}", label=f"l{ck}", score=ck, kind=f"k{ck % 2}",
                        tags={f"t{ck}", "all"}, attrs={f"a{ck}": ck})
    _insert_many(f"INSERT INTO {keyspace}.q_big (part, ck, v) VALUES (?, ?, ?)",
                 [[1, i, f"v{i}"] for i in range(BIG)])
    _insert_many(f"INSERT INTO {keyspace}.q_scan (k, v) VALUES (?, ?)", [[k, k * 10] for k in range(100)])
    for minute in range(10):
        QTimeline.create(part=1, at=uuid_from_time(T0 + timedelta(minutes=minute)), v=minute)
    yield keyspace


def executed() -> int:
    return connection.get_connection().stats.executed


# ---------------------------------------------------------------- laziness


def test_queryset_is_lazy_and_chaining_returns_new_querysets(ks):
    before = executed()
    base = QRow.objects(part=1)
    narrowed = base.filter(ck__gte=2).order_by("-ck").limit(2).fetch_size(1)
    assert narrowed is not base
    assert executed() == before  # building sends nothing
    assert [r.ck for r in narrowed] == [4, 3]
    assert executed() > before
    assert len(list(base)) == 5  # the original is unchanged


# ---------------------------------------------------------------- filter operators


def test_filter_operators(ks):
    assert {(r.part, r.ck) for r in QRow.objects(part__in=[0, 2], ck=1)} == {(0, 1), (2, 1)}
    assert [r.ck for r in QRow.objects(part=0, ck__gt=2)] == [3, 4]
    assert [r.ck for r in QRow.objects(part=0, ck__gte=2)] == [2, 3, 4]
    assert [r.ck for r in QRow.objects(part=0, ck__lt=2)] == [0, 1]
    assert [r.ck for r in QRow.objects(part=0, ck__lte=2)] == [0, 1, 2]
    assert [r.ck for r in QRow.objects(part=0, ck__in=[4, 1])] == [1, 4]
    assert {r.ck for r in QRow.objects(part=0, tags__contains="t3").allow_filtering()} == {3}
    assert {r.ck for r in QRow.objects(part=0, attrs__contains_key="a2").allow_filtering()} == {2}
    assert {(r.part, r.ck) for r in QRow.objects(kind="k1")} == {(p, c) for p in range(3) for c in (1, 3)}
    assert {(r.part, r.ck) for r in QRow.objects(score__gte=4)} == {(p, 4) for p in range(3)}
    assert {(r.part, r.ck) for r in QRow.objects(label="l0", score__lt=1)} == {(p, 0) for p in range(3)}


def test_column_expressions(ks):
    assert [r.ck for r in QRow.objects.filter(QRow.part == 2, QRow.ck >= 3)] == [3, 4]
    assert [r.ck for r in QRow.objects.filter(QRow.part == 2, QRow.ck.in_([0, 4]))] == [0, 4]
    assert [r.ck for r in QRow.objects.filter(QRow.part == 2, QRow.ck < 1)] == [0]


def test_like_is_refused_client_side_and_the_server_refuses_it_too(ks):
    # Cassandra 5.0 refuses LIKE on an SAI index, with or without ALLOW FILTERING ...
    with pytest.raises(InvalidRequest, match="LIKE"):
        connection.execute(f"SELECT * FROM {ks}.q_rows WHERE label LIKE ? ALLOW FILTERING", ["l%"])
    # ... so the query layer refuses it before sending anything.
    before = executed()
    with pytest.raises(QueryException, match="QRow.label.*LIKE"):
        list(QRow.objects(label__like="l%"))
    assert executed() == before


def test_token_scan_visits_every_row_exactly_once(ks):
    seen: list[int] = []
    page = list(QScan.objects.limit(7))
    while page:
        seen += [r.k for r in page]
        page = list(QScan.objects.filter(pk__token__gt=Token(page[-1].k)).limit(7))
    assert len(seen) == 100
    assert sorted(seen) == list(range(100))


def test_min_and_max_timeuuid(ks):
    qs = QTimeline.objects(part=1, at__gte=MinTimeUUID(T0 + timedelta(minutes=3)),
                           at__lte=MaxTimeUUID(T0 + timedelta(minutes=5)))
    assert [r.v for r in qs] == [3, 4, 5]
    later = QTimeline.objects.filter(QTimeline.part == 1, QTimeline.at > MaxTimeUUID(T0 + timedelta(minutes=8)))
    assert [r.v for r in later] == [9]


# ---------------------------------------------------------------- get, first, count, slicing


def test_get_first_count_limit_len(ks):
    row = QRow.objects.get(part=1, ck=2)
    assert (row.name, row.tags, row.attrs) == ("n12", {"t2", "all"}, {"a2": 2})
    with pytest.raises(QRow.DoesNotExist):
        QRow.get(part=1, ck=99)
    with pytest.raises(QRow.MultipleObjectsReturned):
        QRow.objects(part=1).get()
    assert QRow.objects(part=1).first().ck == 0
    assert QRow.objects(part=1, ck__gt=10).first() is None
    assert QRow.objects(part=1).count() == 5
    assert QRow.objects(part=1).limit(3).count() == 3
    assert QRow.objects(kind="k0").count() == 9
    assert len(QRow.objects(part=1).limit(2)) == 2
    assert len(QRow.objects(part=2)) == 5


def test_slicing_and_indexing(ks):
    qs = QRow.objects(part=0)
    assert [r.ck for r in qs[1:3]] == [1, 2]
    assert [r.ck for r in qs[3:]] == [3, 4]
    assert qs[4].ck == 4
    with pytest.raises(IndexError):
        qs[5]
    assert qs[-1].ck == 4  # negative indexes read the whole result, as the peer's do
    assert [r.ck for r in qs[::2]] == [0, 2, 4]
    cached = QRow.objects(part=0)
    list(cached)
    assert [r.ck for r in cached[:2]] == [0, 1]


def test_order_by_clustering_columns(ks):
    assert [r.ck for r in QRow.objects(part=1).order_by("ck")] == [0, 1, 2, 3, 4]
    assert [r.ck for r in QRow.objects(part=1).order_by("-ck")] == [4, 3, 2, 1, 0]
    with pytest.raises(QueryException, match="QRow.name.*clustering"):
        QRow.objects(part=1).order_by("name")


def test_allow_filtering(ks):
    with pytest.raises(QueryException, match="QRow.*name.*allow_filtering"):
        list(QRow.objects(name="n11"))
    assert [(r.part, r.ck) for r in QRow.objects(name="n11").allow_filtering()] == [(1, 1)]


def test_only_defer_values_list_distinct(ks):
    row = QRow.objects(part=1, ck=1).only("part", "ck", "name").get()
    assert row.name == "n11" and row.tags is None
    row = QRow.objects(part=1, ck=1).defer("name").get()
    assert row.name is None and row.label == "l1"
    assert list(QRow.objects(part=1).values_list("ck", flat=True)) == [0, 1, 2, 3, 4]
    # rows are lists, as the peer gives them
    assert list(QRow.objects(part=1, ck__lt=2).values_list("ck", "name")) == [[0, "n10"], [1, "n11"]]
    assert sorted(QRow.objects.distinct().values_list("part", flat=True)) == [0, 1, 2]
    assert sorted(r.part for r in QRow.objects.distinct()) == [0, 1, 2]


# ---------------------------------------------------------------- paging


def test_iteration_pages_lazily(ks):
    qs = QBig.objects(part=1).fetch_size(100)
    it = iter(qs)
    first = [next(it) for _ in range(150)]
    assert [r.ck for r in first] == list(range(150))
    assert qs.pages_fetched == 2  # never more pages than consumed
    for _ in range(50):
        next(it)
    assert qs.pages_fetched == 2
    next(it)
    assert qs.pages_fetched == 3


def test_iterator_visits_the_whole_partition_across_pages(ks):
    qs = QBig.objects(part=1).fetch_size(1000)
    assert sum(1 for _ in qs.iterator()) == BIG
    assert QBig.objects(part=1).count() == BIG


def test_page_api_walks_every_page_and_round_trips_the_paging_state(ks):
    qs = QBig.objects(part=1).fetch_size(100)
    seen = []
    state = None
    pages = 0
    while True:
        page = qs.page(100, paging_state=state)
        pages += 1
        seen += [r.ck for r in page.rows]
        state = page.paging_state
        if state is None:
            break
        assert len(page) == 100
    assert seen == list(range(BIG))
    assert pages in (100, 101)  # the server may need one empty page to say it is done

    first = qs.page(100)
    again = QBig.objects(part=1).page(100, paging_state=first.paging_state)  # a fresh queryset resumes
    assert [r.ck for r in again] == list(range(100, 200))


# ---------------------------------------------------------------- writes


def _coll(k: int) -> QColl:
    return QColl.create(k=k, nums=[1, 2], names={"a", "b"}, props={"x": 1, "y": 2}, v="v")


def test_update_collections(ks):
    _coll(1)
    QColl.objects(k=1).update(nums__append=[3], names__add={"c"}, props__update={"z": 3})
    QColl.objects(k=1).update(nums__prepend=[0])
    row = QColl.get(k=1)
    assert (row.nums, row.names, row.props) == ([0, 1, 2, 3], {"a", "b", "c"}, {"x": 1, "y": 2, "z": 3})
    QColl.objects(k=1).update(nums__remove=[1, 3], names__remove={"a"}, props__remove={"x"}, v="w")
    row = QColl.get(k=1)
    assert (row.nums, row.names, row.props, row.v) == ([0, 2], {"b", "c"}, {"y": 2, "z": 3}, "w")
    with pytest.raises(QueryException, match="QColl.names.*__append"):
        QColl.objects(k=1).update(names__append={"x"})


def test_counter_increments_and_decrements(ks):
    QCount.objects(k=1).update(hits=5)
    QCount.objects(k=1).update(hits=2)
    QCount.objects(k=1).update(hits__remove=3)
    QCount.objects(k=1).update(hits=-1)
    assert QCount.get(k=1).hits == 3


def test_delete(ks):
    _coll(2)
    _coll(3)
    QColl.objects(k=2).delete()
    assert QColl.objects(k=2).count() == 0
    QColl.objects(k__in=[3]).delete()
    assert QColl.objects(k__in=[2, 3]).count() == 0


def _writetime(ks: str, table: str, column: str, **key) -> int:
    where = " AND ".join(f"{k} = ?" for k in key)
    row = connection.execute(f"SELECT WRITETIME({column}) AS wt, TTL({column}) AS ttl FROM {ks}.{table} "
                             f"WHERE {where}", list(key.values())).one()
    return row


def test_ttl_and_timestamp(ks):
    QColl.objects.ttl(100).create(k=10, v="x")
    assert 90 < _writetime(ks, "q_coll", "v", k=10)["ttl"] <= 100
    QColl.objects(k=10).ttl(50).update(v="y")
    assert 40 < _writetime(ks, "q_coll", "v", k=10)["ttl"] <= 50

    micros = 1_700_000_000_000_000
    QColl.objects(k=11).timestamp(micros).update(v="a")
    assert _writetime(ks, "q_coll", "v", k=11)["wt"] == micros
    when = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    QColl.objects(k=12).timestamp(when).update(v="a")
    assert _writetime(ks, "q_coll", "v", k=12)["wt"] == int(when.timestamp()) * 1_000_000 + 678000
    now = int(datetime.now(timezone.utc).timestamp() * 1e6)
    QColl.objects(k=13).timestamp(timedelta(seconds=60)).update(v="a")
    assert abs(_writetime(ks, "q_coll", "v", k=13)["wt"] - (now + 60_000_000)) < 5_000_000


def test_consistency_and_timeout_reach_the_driver(ks):
    # One node: THREE cannot be met, which shows the level was sent.
    with pytest.raises((Unavailable, NoHostAvailable), match="THREE"):
        list(QRow.objects(part=1).consistency(ConsistencyLevel.THREE))
    with pytest.raises((Unavailable, NoHostAvailable), match="THREE"):
        QColl.objects(k=20).consistency(ConsistencyLevel.THREE).update(v="x")
    assert len(QRow.objects(part=1).consistency(ConsistencyLevel.ONE)) == 5
    with pytest.raises(OperationTimedOut):
        list(QBig.objects(part=1).timeout(0.000001))
    assert QRow.objects(part=1).timeout(30).count() == 5


def test_if_exists_and_iff(ks):
    with pytest.raises(LWTException):
        QColl.objects(k=30).if_exists().update(v="x")
    assert QColl.objects(k=30).count() == 0
    # Every write of this row is conditional: Cassandra dates LWTs with its own clock, so a
    # plain write just before one may carry a later timestamp and win.
    QColl.if_not_exists().create(k=30, v="v")
    QColl.objects(k=30).if_exists().update(v="y")
    assert QColl.get(k=30).v == "y"
    with pytest.raises(LWTException):
        QColl.objects(k=30).iff(v="nope").update(v="z")
    QColl.objects(k=30).iff(v="y").update(v="z")
    assert QColl.get(k=30).v == "z"
    with pytest.raises(LWTException):
        QColl.objects(k=30).iff(v="nope").delete()
    QColl.objects(k=30).if_exists().delete()
    with pytest.raises(LWTException):
        QColl.objects(k=30).if_exists().delete()


@pytest.fixture(scope="module")
def other_ks(ks):
    name = f"{ks}_other"
    connection.execute(f"CREATE KEYSPACE {name} WITH replication = "
                       "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    management.sync_table(QColl, keyspaces=[name])
    yield name
    connection.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=60)


@pytest.fixture
def other_connection(cassandra):
    name = f"q_other_{uuid.uuid4().hex[:6]}"
    connection.register_connection(name, hosts=cassandra.contact_points, cluster_options={"port": cassandra.port})
    yield name
    connection.unregister_connection(name)


def test_using_keyspace_and_connection(ks, other_ks, other_connection):
    QColl.objects.using(keyspace=other_ks).create(k=40, v="other")
    assert QColl.objects(k=40).count() == 0
    assert QColl.objects(k=40).using(keyspace=other_ks).get().v == "other"
    stats = connection.get_connection(other_connection).stats
    before = stats.executed
    QColl.objects(k=40).using(keyspace=other_ks, connection=other_connection).update(v="via other")
    assert QColl.objects(k=40).using(keyspace=other_ks, connection=other_connection).get().v == "via other"
    assert stats.executed == before + 2
    QColl.objects(k=40).using(keyspace=other_ks).delete()
    assert QColl.objects(k=40).using(keyspace=other_ks).count() == 0


def test_context_query(ks, other_ks):
    with ContextQuery(QColl, keyspace=other_ks) as C:
        C.create(k=41, v="ctx")
        assert C.objects(k=41).get().v == "ctx"
        assert C.get(k=41).v == "ctx"
        C.objects(k=41).update(v="ctx2")
        assert [r.v for r in C.filter(k=41)] == ["ctx2"]
    assert QColl.objects(k=41).count() == 0
    assert QColl.objects(k=41).using(keyspace=other_ks).get().v == "ctx2"


# ---------------------------------------------------------------- validation sends nothing


@pytest.mark.parametrize("build, words", [
    (lambda: QRow.objects(name="x"), ("QRow", "name", "allow_filtering")),
    (lambda: QRow.objects(nope=1), ("QRow", "nope")),
    (lambda: QRow.objects(part=1, name__contains="x"), ("QRow.name", "CONTAINS")),
    (lambda: QRow.objects(part=1).order_by("label"), ("QRow.label", "clustering")),
])
def test_validation_errors_name_model_column_and_rule_and_send_nothing(ks, build, words):
    before = executed()
    with pytest.raises(QueryException) as info:
        list(build())
    for word in words:
        assert word in str(info.value)
    assert executed() == before
