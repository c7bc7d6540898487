"""sync_table and keyspace management against the real server, read back from system_schema."""
from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cqlengine import columns, connection, management
from cqlengine.exceptions import CQLEngineException, SchemaMismatch
from cqlengine.models import Model
from cqlengine.usertype import UserType


def _columns(ks: str, table: str) -> dict[str, tuple[str, str, str]]:
    rows = connection.execute(
        "SELECT column_name, type, kind, clustering_order FROM system_schema.columns "
        "WHERE keyspace_name = ? AND table_name = ?", [ks, table])
    return {r["column_name"]: (r["type"], r["kind"], r["clustering_order"]) for r in rows}


def _indexes(ks: str, table: str) -> dict[str, dict[str, str]]:
    rows = connection.execute(
        "SELECT index_name, options FROM system_schema.indexes WHERE keyspace_name = ? AND table_name = ?",
        [ks, table])
    return {r["index_name"]: dict(r["options"]) for r in rows}


def _table_row(ks: str, table: str) -> dict:
    return connection.execute(
        "SELECT * FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?", [ks, table]).one()


def _snapshot(ks: str, table: str) -> tuple:
    row = _table_row(ks, table)
    return _columns(ks, table), _indexes(ks, table), row["comment"], row["gc_grace_seconds"]


def _executed() -> int:
    return connection.get_connection().stats.executed


# ---------------------------------------------------------------- models: one table, three versions


class EventV1(Model):
    __table_name__ = "Events"
    __table_name_case_sensitive__ = True
    tenant = columns.Text(partition_key=True)
    at = columns.Integer(primary_key=True, clustering_order="DESC")
    body = columns.Text(db_field="Body")


class EventV2(Model):
    __table_name__ = "Events"
    __table_name_case_sensitive__ = True
    __options__ = {"comment": "events, it's v2", "gc_grace_seconds": 3600,
                   "compaction": {"class": "LeveledCompactionStrategy"},
                   "caching": {"keys": "ALL", "rows_per_partition": "10"}}
    __default_ttl__ = 86400
    tenant = columns.Text(partition_key=True)
    at = columns.Integer(primary_key=True, clustering_order="DESC")
    body = columns.Text(db_field="Body", index=True)
    owner = columns.Text(static=True)
    tags = columns.Set(columns.Text)
    score = columns.Integer(custom_index=True)


class EventBadType(EventV2):
    __abstract__ = False
    body = columns.Integer(db_field="Body")
    extra = columns.Text()


class EventBadKey(Model):
    __table_name__ = "Events"
    __table_name_case_sensitive__ = True
    tenant = columns.Text(partition_key=True)
    at = columns.Integer(primary_key=True, clustering_order="ASC")
    body = columns.Text(db_field="Body")
    owner = columns.Integer(static=True)
    extra = columns.Text()


@pytest.fixture(scope="module")
def events(cqlengine_connection):
    ks = cqlengine_connection.default_keyspace
    yield ks
    connection.execute(f'DROP TABLE IF EXISTS {ks}."Events"')


def test_v1_creates_table(events):
    ks = events
    plan = management.sync_table(EventV1)
    assert plan.kinds() == ["create_table"]
    cols = _columns(ks, "Events")
    assert cols == {"tenant": ("text", "partition_key", "none"), "at": ("int", "clustering", "desc"),
                    "Body": ("text", "regular", "none")}
    for i in range(3):
        connection.execute(f'INSERT INTO {ks}."Events" (tenant, at, "Body") VALUES (?, ?, ?)', ["t", i, f"b{i}"])


def test_v1_to_v2_adds_columns_indexes_options_and_keeps_rows(events):
    ks = events
    dry = management.sync_table(EventV2, dry_run=True)
    assert dry.kinds() == ["add_column", "add_column", "add_column", "alter_table_options",
                           "create_index", "create_index"]
    assert _columns(ks, "Events").keys() == {"tenant", "at", "Body"}  # dry run changed nothing

    assert str(dry).startswith("6 change(s) pending:") and not dry.applied
    plan = management.sync_table(EventV2)
    assert [c.cql for c in plan.changes] == [c.cql for c in dry.changes]
    assert str(plan).startswith("6 change(s) applied:") and plan.applied  # it says what it did
    cols = _columns(ks, "Events")
    assert cols["owner"] == ("text", "static", "none")
    assert cols["tags"] == ("set<text>", "regular", "none")
    assert cols["score"] == ("int", "regular", "none")
    targets = {opts["target"]: opts.get("class_name") for opts in _indexes(ks, "Events").values()}
    assert targets == {'"Body"': None, "score": "StorageAttachedIndex"}
    row = _table_row(ks, "Events")
    assert row["comment"] == "events, it's v2"
    assert row["gc_grace_seconds"] == 3600
    assert row["default_time_to_live"] == 86400
    assert row["compaction"]["class"].endswith("LeveledCompactionStrategy")
    assert dict(row["caching"]) == {"keys": "ALL", "rows_per_partition": "10"}
    rows = list(connection.execute(f'SELECT "Body" FROM {ks}."Events" WHERE tenant = ?', ["t"]))
    assert [r["Body"] for r in rows] == ["b2", "b1", "b0"]


@pytest.fixture
def evolved(events):
    """The table at v2, however the tests before ran (or did not): sync is idempotent."""
    management.sync_table(EventV1)
    management.sync_table(EventV2)
    return events


def test_v2_again_sends_no_ddl(evolved):
    before = _executed()
    dry = management.plan(EventV2)
    reads = _executed() - before
    assert not dry and not dry.conflicts
    before = _executed()
    plan = management.sync_table(EventV2)
    assert not plan
    assert _executed() - before == reads  # only the same system_schema reads: no DDL


def test_type_change_refused_with_schema_unchanged(evolved):
    ks = evolved
    snapshot = _snapshot(ks, "Events")
    before = _executed()
    management.plan(EventBadType)
    reads = _executed() - before
    before = _executed()
    with pytest.raises(SchemaMismatch) as err:
        management.sync_table(EventBadType)
    assert _executed() - before == reads  # refused before sending any DDL
    message = str(err.value)
    assert f"table {ks}.Events column Body: type differs: database has text, model EventBadType has int" in message
    assert _snapshot(ks, "Events") == snapshot
    assert "extra" not in _columns(ks, "Events")


def test_key_change_refused_listing_every_conflict(evolved):
    ks = evolved
    snapshot = _snapshot(ks, "Events")
    with pytest.raises(SchemaMismatch) as err:
        management.sync_table(EventBadKey)
    problems = {(c.column, c.problem) for c in err.value.conflicts}
    assert problems == {("column at", "clustering order differs"), ("column owner", "type differs")}
    assert "database has DESC, model EventBadKey has ASC" in str(err.value)
    assert _snapshot(ks, "Events") == snapshot


# ---------------------------------------------------------------- user types


class AddressV1(UserType):
    __type_name__ = "mgmt_address"
    street = columns.Text()


class AddressV2(UserType):
    __type_name__ = "mgmt_address"
    street = columns.Text()
    zipcode = columns.Integer(db_field="Zip")
    geo = columns.Tuple(columns.Double, columns.Double)


class PersonV1(Model):
    __table_name__ = "mgmt_people"
    id = columns.Integer(primary_key=True)
    home = columns.UserDefinedType(AddressV1)
    pair = columns.Tuple(columns.Integer, columns.Text)
    homes = columns.Map(columns.Text, columns.UserDefinedType(AddressV1))


class PersonV2(Model):
    __table_name__ = "mgmt_people"
    id = columns.Integer(primary_key=True)
    home = columns.UserDefinedType(AddressV2)
    pair = columns.Tuple(columns.Integer, columns.Text)
    homes = columns.Map(columns.Text, columns.UserDefinedType(AddressV2))


def _type_fields(ks: str, name: str):
    row = connection.execute("SELECT field_names, field_types FROM system_schema.types "
                             "WHERE keyspace_name = ? AND type_name = ?", [ks, name]).one()
    return None if row is None else list(zip(row["field_names"], row["field_types"]))


def test_udt_created_then_evolved(cqlengine_keyspace):
    ks = cqlengine_keyspace
    plan = management.sync_table(PersonV1)
    assert plan.kinds() == ["create_type", "create_table"]
    assert _type_fields(ks, "mgmt_address") == [("street", "text")]
    assert not management.plan(PersonV1)  # tuple / frozen udt spellings compare equal

    plan = management.sync_table(PersonV2)
    assert plan.kinds() == ["alter_type_add_field", "alter_type_add_field"]
    assert _type_fields(ks, "mgmt_address") == [
        ("street", "text"), ("Zip", "int"), ("geo", "frozen<tuple<double, double>>")]
    assert not management.plan(PersonV2)
    assert not management.sync_type(ks, AddressV2)


def test_sync_type_alone(cqlengine_keyspace):
    ks = cqlengine_keyspace
    assert management.sync_type(ks, AddressV1).kinds() == ["create_type"]
    assert management.sync_type(ks, AddressV2).kinds() == ["alter_type_add_field", "alter_type_add_field"]
    management.drop_type(ks, AddressV2)
    assert _type_fields(ks, "mgmt_address") is None


# ---------------------------------------------------------------- polymorphic family


class Pet(Model):
    __table_name__ = "mgmt_pets"
    owner = columns.Integer(partition_key=True)
    name = columns.Text(primary_key=True)
    kind = columns.Text(polymorphic_key=True, index=True)


class Cat(Pet):
    __polymorphic_key__ = "cat"
    lives = columns.Integer()


class Dog(Pet):
    __polymorphic_key__ = "dog"
    bark = columns.Text(db_field="woof")


def test_polymorphic_family_shares_one_table(cqlengine_keyspace):
    ks = cqlengine_keyspace
    plan = management.sync_table(Cat)
    assert plan.kinds() == ["create_table", "create_index"]
    assert set(_columns(ks, "mgmt_pets")) == {"owner", "name", "kind", "lives", "woof"}
    assert [o["target"] for o in _indexes(ks, "mgmt_pets").values()] == ["kind"]
    assert not management.sync_table(Pet)
    assert not management.sync_table(Dog)


# ---------------------------------------------------------------- counters, keyspaces, errors


class Hits(Model):
    __table_name__ = "mgmt_hits"
    page = columns.Text(primary_key=True)
    hits = columns.Counter()


def test_counter_table(cqlengine_keyspace):
    ks = cqlengine_keyspace
    management.sync_table(Hits)
    assert _columns(ks, "mgmt_hits")["hits"][0] == "counter"
    assert not management.plan(Hits)
    management.drop_table(Hits)
    assert _table_row(ks, "mgmt_hits") is None
    management.drop_table(Hits)  # absent: nothing to do


def test_sync_in_explicit_keyspaces(cqlengine_keyspace, cqlengine_connection):
    other = f"mgmt_other_{uuid.uuid4().hex[:8]}"
    management.create_keyspace_simple(other, 1)
    try:
        plan = management.sync_table(Hits, keyspaces=[cqlengine_keyspace, other])
        assert [c.keyspace for c in plan.changes] == [cqlengine_keyspace, other]
        assert _table_row(other, "mgmt_hits") is not None
    finally:
        management.drop_keyspace(other)


def test_missing_keyspace_is_a_clear_error(cqlengine_connection):
    with pytest.raises(CQLEngineException, match="Keyspace 'mgmt_nowhere' for model Hits does not exist"):
        management.sync_table(Hits, keyspaces=["mgmt_nowhere"])
    with pytest.raises(ValueError):
        management.sync_table(Hits, keyspaces="mgmt_nowhere")  # type: ignore[arg-type]


def test_abstract_model_refused(cqlengine_connection):
    class Base(Model):
        __abstract__ = True
        id = columns.Integer(primary_key=True)

    with pytest.raises(CQLEngineException, match="abstract"):
        management.sync_table(Base)


def test_keyspace_create_same_noop_and_mismatch(cqlengine_connection, cassandra):
    name = f"mgmt_ks_{uuid.uuid4().hex[:8]}"
    try:
        management.create_keyspace_simple(name, 1)
        row = connection.execute("SELECT replication, durable_writes FROM system_schema.keyspaces "
                                 "WHERE keyspace_name = ?", [name]).one()
        assert dict(row["replication"])["replication_factor"] == "1"
        before = _executed()
        management.create_keyspace_simple(name, 1)
        assert _executed() - before == 1  # one read, no DDL
        with pytest.raises(SchemaMismatch) as err:
            management.create_keyspace_simple(name, 3)
        assert "'replication_factor': '1'" in str(err.value) and "'replication_factor': '3'" in str(err.value)
        with pytest.raises(SchemaMismatch, match="NetworkTopologyStrategy"):
            management.create_keyspace_network_topology(name, {"datacenter1": 1})
        with pytest.raises(SchemaMismatch, match="durable_writes"):
            management.create_keyspace_simple(name, 1, durable_writes=False)
    finally:
        management.drop_keyspace(name)
    assert management.get_keyspace(name) is None


def test_keyspace_network_topology(cqlengine_connection):
    name = f"mgmt_nts_{uuid.uuid4().hex[:8]}"
    dc = connection.execute("SELECT data_center FROM system.local").one()["data_center"]
    try:
        management.create_keyspace_network_topology(name, {dc: 1}, durable_writes=False)
        info = management.get_keyspace(name)
        assert info is not None and info.replication[dc] == "1" and info.durable_writes is False
        management.create_keyspace_network_topology(name, {dc: 1}, durable_writes=False)
    finally:
        management.drop_keyspace(name)


class Noted(Model):
    __table_name__ = "mgmt_noted"
    id = columns.Integer(primary_key=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(comment=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_comment_literal_round_trips_through_the_server(cqlengine_connection, comment):
    ks = cqlengine_connection.default_keyspace
    Noted.__options__ = {"comment": comment}
    try:
        management.sync_table(Noted)
        assert _table_row(ks, "mgmt_noted")["comment"] == comment
        assert not management.plan(Noted)
    finally:
        Noted.__options__ = {}


class Collections(Model):
    __table_name__ = "mgmt_collections"
    id = columns.Integer(primary_key=True)
    frozen_tags = columns.List(columns.Text, frozen=True, index=True)
    scores = columns.Map(columns.Text, columns.Integer, index=True)
    labels = columns.Set(columns.Text, custom_index=True)


def test_collection_indexes(cqlengine_keyspace):
    ks = cqlengine_keyspace
    assert management.sync_table(Collections).kinds() == ["create_table"] + ["create_index"] * 3
    targets = sorted(o["target"] for o in _indexes(ks, "mgmt_collections").values())
    assert targets == ["full(frozen_tags)", "values(labels)", "values(scores)"]
    assert not management.plan(Collections)
