"""sync_table refuses, before sending anything, what Cassandra would refuse midway."""
from __future__ import annotations

import pytest

from cqlengine import columns, connection, management
from cqlengine.exceptions import ModelDefinitionException, QueryException, SchemaChangeFailed, SchemaMismatch
from cqlengine.management import Change, SchemaPlan
from cqlengine.models import Model
from cqlengine.usertype import UserType


def _tables(ks: str) -> set[str]:
    return {r["table_name"] for r in connection.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", [ks])}


def _types(ks: str) -> set[str]:
    return {r["type_name"] for r in connection.execute(
        "SELECT type_name FROM system_schema.types WHERE keyspace_name = ?", [ks])}


class Spot(UserType):
    x = columns.Integer()


def test_an_unknown_option_is_refused_before_any_type_or_table_is_created(cqlengine_keyspace):
    class Placed(Model):
        __table_name__ = "guard_placed"
        __options__ = {"read_repair_chance": 0.1}  # gone since Cassandra 4.0
        id = columns.Integer(primary_key=True)
        at = columns.UserDefinedType(Spot)

    with pytest.raises(SchemaMismatch, match="option read_repair_chance: unknown table option"):
        management.sync_table(Placed)
    assert "guard_placed" not in _tables(cqlengine_keyspace) and "spot" not in _types(cqlengine_keyspace)


def test_an_unknown_option_on_an_existing_table_adds_no_column(cqlengine_keyspace):
    class V1(Model):
        __table_name__ = "guard_alter"
        id = columns.Integer(primary_key=True)

    class V2(Model):
        __table_name__ = "guard_alter"
        __options__ = {"no_such_option": 1}
        id = columns.Integer(primary_key=True)
        extra = columns.Text(index=True)

    management.sync_table(V1)
    with pytest.raises(SchemaMismatch, match="no_such_option"):
        management.sync_table(V2)
    cols = {r["column_name"] for r in connection.execute(
        "SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
        [cqlengine_keyspace, "guard_alter"])}
    assert cols == {"id"}


@pytest.mark.parametrize("column, rule", [
    (lambda: columns.Duration(index=True), "duration"),
    (lambda: columns.UserDefinedType(Spot, frozen=False, custom_index=True), "non-frozen user type"),
    (lambda: columns.UserDefinedType(Spot, frozen=False, index=True), "non-frozen user type"),
    (lambda: columns.Blob(custom_index=True), "blob"),
])
def test_index_targets_cassandra_refuses_are_refused_when_the_model_is_defined(column, rule):
    with pytest.raises(ModelDefinitionException, match=rule):
        type("Indexed", (Model,), {"id": columns.Integer(primary_key=True), "v": column()})


def test_re_adding_a_dropped_column_with_another_type_is_a_conflict(cqlengine_keyspace):
    class Old(Model):
        __table_name__ = "guard_dropped"
        id = columns.Integer(primary_key=True)
        x = columns.Integer()

    class New(Model):
        __table_name__ = "guard_dropped"
        id = columns.Integer(primary_key=True)
        first = columns.Text(index=True)
        x = columns.Text()

    management.sync_table(Old)
    connection.execute(f"ALTER TABLE {cqlengine_keyspace}.guard_dropped DROP x")
    with pytest.raises(SchemaMismatch, match="column x: was dropped with another type.*dropped int.*text"):
        management.sync_table(New)
    cols = {r["column_name"] for r in connection.execute(
        "SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
        [cqlengine_keyspace, "guard_dropped"])}
    assert cols == {"id"}  # `first` was not added ahead of the refusal


def test_options_system_schema_does_not_show_are_not_altered_again(cqlengine_keyspace):
    class Logged(Model):
        __table_name__ = "guard_options"
        __options__ = {"cdc": False, "incremental_backups": True, "comment": "c"}
        id = columns.Integer(primary_key=True)

    management.sync_table(Logged)
    again = management.plan(Logged)
    assert not again, str(again)
    assert any("cannot be read back" in w for w in again.warnings)


def test_a_keys_index_does_not_stand_for_a_values_index(cqlengine_keyspace):
    class Tagged(Model):
        __table_name__ = "guard_map_index"
        id = columns.Integer(primary_key=True)
        m = columns.Map(columns.Text, columns.Integer)

    class TaggedIndexed(Tagged):
        __table_name__ = "guard_map_index"
        m = columns.Map(columns.Text, columns.Integer, index=True)

    management.sync_table(Tagged)
    connection.execute(f"CREATE INDEX ON {cqlengine_keyspace}.guard_map_index (keys(m))")
    planned = management.plan(TaggedIndexed)
    assert [c.kind for c in planned.changes] == ["create_index"]
    management.sync_table(TaggedIndexed)
    TaggedIndexed.create(id=1, m={"a": 7})
    assert [r.id for r in TaggedIndexed.objects(m__contains=7)] == [1]


def test_a_frozen_collection_index_serves_equality(cqlengine_keyspace):
    class Shape(Model):
        __table_name__ = "guard_frozen_index"
        id = columns.Integer(primary_key=True)
        dims = columns.List(columns.Integer, frozen=True, index=True)

    management.sync_table(Shape)
    Shape.create(id=1, dims=[1, 2])
    assert [s.id for s in Shape.objects(dims=[1, 2])] == [1]
    with pytest.raises(QueryException, match="dims"):
        list(Shape.objects(dims__contains=1))


def test_models_that_define_one_table_differently_are_a_conflict(cqlengine_keyspace):
    class A(Model):
        __table_name__ = "guard_shared"
        id = columns.Integer(primary_key=True)
        v = columns.Text()

    class B(Model):
        __table_name__ = "guard_shared"
        id = columns.Integer(primary_key=True)
        v = columns.Integer()

    planned = management.plan(A, B)
    assert [c.kind for c in planned.changes] == ["create_table"]
    assert len(planned.conflicts) == 1 and "define this table differently" in str(planned.conflicts[0])


def test_network_topology_with_a_zero_factor_is_idempotent(cqlengine_connection):
    dc = connection.execute("SELECT data_center FROM system.local").one()["data_center"]
    name = "guard_nts_zero"
    try:
        management.create_keyspace_network_topology(name, {dc: 1, "dc_other": 0})
        management.create_keyspace_network_topology(name, {dc: 1, "dc_other": 0})
    finally:
        management.drop_keyspace(name)


def test_a_change_refused_midway_says_what_was_applied(monkeypatch):
    sent = []

    def execute_ddl(cql, conn, keyspace=None, table=None):
        if len(sent) == 1:
            raise RuntimeError("refused by the server")
        sent.append(cql)

    monkeypatch.setattr(management, "_execute_ddl", execute_ddl)
    plan = SchemaPlan(changes=[Change("add_column", "ALTER 1", "add column a to ks.t"),
                               Change("create_index", "CREATE 2", "create index on ks.t.a"),
                               Change("create_index", "CREATE 3", "create index on ks.t.b")])
    with pytest.raises(SchemaChangeFailed) as info:
        management.apply_plan(plan)
    message = str(info.value)
    assert "create index on ks.t.a failed: RuntimeError: refused by the server" in message
    assert "Applied before it: add column a to ks.t" in message and info.value.applied == ["add column a to ks.t"]
    assert sent == ["ALTER 1"]
