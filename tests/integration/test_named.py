"""NamedTable against the real server: tables made with raw CQL, queried without a model."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from ipaddress import ip_address

import pytest
from cassandra.util import Duration, uuid_from_time

from cqlengine import connection
from cqlengine.exceptions import CQLEngineException, QueryException
from cqlengine.named import NamedKeyspace, NamedModel, NamedTable

DAY = date(2024, 3, 1)
T0 = datetime(2024, 3, 1, 12, 0, 0)


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    name = f"named_{uuid.uuid4().hex[:10]}"
    connection.execute(
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
    connection.execute(f"CREATE TYPE {name}.geo (lat double, lon double)")
    connection.execute(f"CREATE TYPE {name}.address (street text, items list<text>, geo frozen<geo>)")
    connection.execute(f"""
        CREATE TABLE {name}.events (
            tenant text, day date, ts timestamp, seq int,
            owner text STATIC,
            tags set<text>,
            items map<text, int>,
            "Mixed" text,
            "two words" text,
            payload blob,
            PRIMARY KEY ((tenant, day), ts, seq)
        ) WITH CLUSTERING ORDER BY (ts DESC, seq ASC)""")
    connection.execute(f'CREATE INDEX events_mixed ON {name}.events ("Mixed") USING \'sai\'')
    connection.execute(f"""
        CREATE TABLE {name}.all_types (
            id int PRIMARY KEY,
            a ascii, t text, vc varchar, b blob, bo boolean, ti tinyint, si smallint, i int, bi bigint,
            vi varint, f float, d double, de decimal, dt date, tm time, ts timestamp, du duration,
            u uuid, tu timeuuid, ip inet,
            l list<int>, s set<text>, m map<text, int>,
            fl frozen<list<frozen<map<text, int>>>>,
            tp tuple<int, text, frozen<set<int>>>,
            home frozen<address>,
            places list<frozen<address>>
        )""")
    connection.execute(f"CREATE TABLE {name}.hits (page text PRIMARY KEY, n counter)")
    yield name
    connection.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=60)


@pytest.fixture(scope="module")
def events(ks):
    table = NamedKeyspace(ks).table("events")
    for seq in range(25):
        table.create(tenant="acme", day=DAY, ts=T0 + timedelta(minutes=seq // 5), seq=seq,
                     owner="ann", tags={f"t{seq % 3}"}, items={"n": seq},
                     Mixed="odd" if seq % 2 else "even", payload=bytes([seq]))
    table.create(tenant="other", day=DAY, ts=T0, seq=0, Mixed="even")
    return table


def _raw(ks, table, where, *params):
    return connection.execute(f"SELECT * FROM {ks}.{table} WHERE {where}", list(params)).one()


def test_model_built_once_from_the_live_table(ks, events):
    model = events.model
    assert issubclass(model, NamedModel)
    assert events.model is model
    assert list(model._partition_keys) == ["tenant", "day"]
    assert list(model._clustering_keys) == ["ts", "seq"]
    assert model._columns["ts"].clustering_order == "DESC"
    assert model._columns["owner"].static
    assert model._columns["Mixed"].custom_index
    assert model.__keyspace__ == ks and model.__table_name__ == "events"


def test_filter_count_order_and_values_list(events):
    part = events.filter(tenant="acme", day=DAY)
    assert part.count() == 25
    assert len(events.all()) == 26
    # Clustering order DESC: latest ts first, then seq ascending within a ts.
    seqs = part.values_list("seq", flat=True)
    assert list(seqs) == [20, 21, 22, 23, 24, 15, 16, 17, 18, 19, 10, 11, 12, 13, 14, 5, 6, 7, 8, 9,
                          0, 1, 2, 3, 4]
    assert list(part.order_by("ts", "-seq").values_list("seq", flat=True))[:5] == [4, 3, 2, 1, 0]
    assert list(part.filter(ts=T0).values_list("seq", "items"))[:2] == [[0, {"n": 0}], [1, {"n": 1}]]
    assert part.filter(ts__gte=T0 + timedelta(minutes=4)).count() == 5
    assert part.filter(ts=T0, seq__in=[1, 3]).count() == 2


def test_get_and_its_exceptions(events):
    row = events.get(tenant="acme", day=DAY, ts=T0, seq=3)
    assert row.seq == 3 and row["Mixed"] == "odd" and row["owner"] == "ann"
    assert row["items"] == {"n": 3} and row.tags == {"t0"} and row.payload == bytes([3])
    assert "items" in row.keys() and ("seq", 3) in row.items()
    with pytest.raises(events.DoesNotExist):
        events.get(tenant="acme", day=DAY, ts=T0, seq=99)
    with pytest.raises(NamedTable.DoesNotExist):
        events.get(tenant="nobody", day=DAY, ts=T0, seq=0)
    with pytest.raises(events.MultipleObjectsReturned):
        events.get(tenant="acme", day=DAY)
    with pytest.raises(NamedTable.MultipleObjectsReturned):
        events.get(tenant="acme", day=DAY)


def test_column_expressions_and_cql_names(events):
    mixed = events.column("Mixed")
    part = events.filter(events.column("tenant") == "acme", events.column("day") == DAY)
    assert part.filter(mixed == "odd").count() == 12
    assert events.filter(mixed == "even").count() == 14  # SAI: across partitions, no ALLOW FILTERING
    assert part.filter(events.column("seq") >= 20).allow_filtering().count() == 5
    assert events._get_column("Mixed").db_field_name == "Mixed"
    items = events.column("items")  # a Model method name: another attribute, same CQL column
    assert part.filter(items.contains_key_("n")).allow_filtering().count() == 25
    assert part.filter(items__contains=7).allow_filtering().first()["seq"] == 7
    assert events.filter(Mixed="odd", tenant="acme", day=DAY).first()["Mixed"] == "odd"
    with pytest.raises(QueryException, match="no column 'nope'"):
        events.column("nope")
    assert events.column_family_name().endswith(".events")
    assert events.column_family_name(include_keyspace=False) == "events"


def test_paging(events):
    part = events.filter(tenant="acme", day=DAY).fetch_size(10)
    assert len(list(part)) == 25 and part.pages_fetched == 3
    first = events.filter(tenant="acme", day=DAY).page(10)
    assert len(first) == 10 and first.paging_state is not None
    rest = events.filter(tenant="acme", day=DAY).page(20, first.paging_state)
    assert len(rest) == 15 and rest.paging_state is None
    assert {r.seq for r in first} | {r.seq for r in rest} == set(range(25))


def test_create_round_trips_through_raw_cql(ks, events):
    events.create(tenant="rt", day=DAY, ts=T0, seq=1, items={"a": 1, "b": 2}, **{"two words": "hello"},
                  Mixed="MiXeD", tags={"x", "y"}, owner="bob")
    raw = _raw(ks, "events", "tenant = ? AND day = ? AND ts = ? AND seq = ?", "rt", DAY, T0, 1)
    assert raw["items"] == {"a": 1, "b": 2} and raw["two words"] == "hello" and raw["Mixed"] == "MiXeD"
    assert set(raw["tags"]) == {"x", "y"} and raw["owner"] == "bob"
    row = events.get(tenant="rt", day=DAY, ts=T0, seq=1)
    assert row["two words"] == "hello" and row.two_words == "hello"
    # Instances write back through the model: an update and a delete.
    row.update(items={"c": 3})
    assert _raw(ks, "events", "tenant = ? AND day = ? AND ts = ? AND seq = ?", "rt", DAY, T0, 1)["items"] == {"c": 3}
    events.filter(tenant="rt", day=DAY, ts=T0, seq=1).update(items__update={"d": 4})
    assert events.get(tenant="rt", day=DAY, ts=T0, seq=1)["items"] == {"c": 3, "d": 4}
    row.delete()
    assert _raw(ks, "events", "tenant = ? AND day = ? AND ts = ? AND seq = ?", "rt", DAY, T0, 1) is None


def test_every_type_round_trips(ks):
    table = NamedKeyspace(ks).table("all_types")
    tu = uuid_from_time(datetime(2024, 1, 1, tzinfo=timezone.utc))
    u = uuid.uuid4()
    address = table.model._columns["home"].user_type
    home = address(street="Main", items=["a", "b"], geo={"lat": 1.5, "lon": -2.5})
    values = dict(
        id=1, a="ascii", t="text", vc="varchar", b=b"\x00\x01", bo=True, ti=-5, si=300, i=70000,
        bi=2**40, vi=10**30, f=1.5, d=2.25, de=Decimal("1.10"), dt=date(2020, 2, 29), tm=time(1, 2, 3, 4),
        ts=datetime(2024, 1, 1, 1, 2, 3, 4000), du=Duration(1, 2, 3), u=u, tu=tu, ip=ip_address("10.0.0.1"),
        l=[3, 1, 2], s={"x"}, m={"k": 1}, fl=[{"a": 1}, {"b": 2}], tp=(1, "one", {1, 2}),
        home=home, places=[home],
    )
    table.create(**values)
    raw = _raw(ks, "all_types", "id = ?", 1)
    assert raw["a"] == "ascii" and raw["vc"] == "varchar" and raw["b"] == b"\x00\x01"
    assert raw["vi"] == 10**30 and raw["de"] == Decimal("1.10") and raw["u"] == u and raw["tu"] == tu
    assert raw["ip"] == "10.0.0.1" and list(raw["l"]) == [3, 1, 2] and raw["du"] == Duration(1, 2, 3)
    assert raw["tp"][0] == 1 and set(raw["tp"][2]) == {1, 2}
    assert raw["home"].street == "Main" and list(raw["home"].items) == ["a", "b"] and raw["home"].geo.lat == 1.5
    assert raw["places"][0].street == "Main"

    row = table.get(id=1)
    for key, value in values.items():
        if key in ("ip", "tm", "dt"):
            continue
        assert row[key] == value, key
    assert str(row["ip"]) == "10.0.0.1"
    assert row.home["items"] == ["a", "b"] and row.home.geo.lon == -2.5


def test_counter_table(ks):
    hits = NamedKeyspace(ks).table("hits")
    hits.filter(page="/").update(n=2)
    hits.filter(page="/").update(n=3)
    assert hits.get(page="/").n == 5


def test_missing_table_and_keyspace_error_clearly(ks):
    missing = NamedKeyspace(ks).table("nope")
    with pytest.raises(CQLEngineException, match=rf"{ks}\.nope.*'nope' does not exist in keyspace '{ks}'"):
        missing.all()
    with pytest.raises(CQLEngineException, match="nope"):
        try:
            missing.get(id=1)
        except missing.DoesNotExist:  # evaluated while the table cannot be read: still an exception class
            pytest.fail("a missing table is not DoesNotExist")
    with pytest.raises(CQLEngineException, match="keyspace 'no_such_ks' does not exist"):
        NamedTable("no_such_ks", "t").get(id=1)


def test_refresh_sees_a_new_column(ks):
    connection.execute(f"CREATE TABLE {ks}.grows (id int PRIMARY KEY)")
    table = NamedKeyspace(ks).table("grows")
    assert list(table.model._columns) == ["id"]
    connection.execute(f"ALTER TABLE {ks}.grows ADD extra text")
    table.refresh()
    table.create(id=1, extra="x")
    assert table.get(id=1).extra == "x"
