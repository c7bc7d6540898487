"""Schema plans computed from hand-made live-schema snapshots: no server."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cqlengine import columns
from cqlengine.exceptions import CQLEngineException, SchemaMismatch
from cqlengine.management import (
    ColumnInfo,
    IndexInfo,
    SchemaPlan,
    TableInfo,
    UserTypeInfo,
    cql_literal,
    normalize_type,
    plan_table,
    plan_type,
    table_spec,
    type_spec,
)
from cqlengine.management.plan import render_type
from cqlengine.models import Model
from cqlengine.usertype import UserType

KS = "ks"


class Address(UserType):
    street = columns.Text()
    zipcode = columns.Integer(db_field="Zip")


class Event(Model):
    __table_name__ = "Events"
    __table_name_case_sensitive__ = True
    __options__ = {"gc_grace_seconds": 3600, "comment": "it's",
                   "compaction": {"class": "LeveledCompactionStrategy"}}
    __default_ttl__ = 10
    tenant = columns.Text(partition_key=True)
    day = columns.Integer(partition_key=True)
    at = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    seq = columns.Integer(primary_key=True)
    owner = columns.Text(static=True)
    body = columns.Text(db_field="Body", index=True)
    tag = columns.Text(custom_index=True)
    pair = columns.Tuple(columns.Integer, columns.Text)
    home = columns.UserDefinedType(Address)


def live_event(**overrides) -> TableInfo:
    """The live table exactly as Cassandra reports Event after creating it."""
    cols = [
        ColumnInfo("tenant", "text", "partition_key", 0),
        ColumnInfo("day", "int", "partition_key", 1),
        ColumnInfo("at", "timeuuid", "clustering", 0, "desc"),
        ColumnInfo("seq", "int", "clustering", 1, "asc"),
        ColumnInfo("owner", "text", "static"),
        ColumnInfo("Body", "text"),
        ColumnInfo("tag", "text"),
        ColumnInfo("pair", "frozen<tuple<int, text>>"),
        ColumnInfo("home", "address"),
    ]
    info = TableInfo(
        KS, "Events",
        columns={c.name: c for c in cols},
        indexes={
            "Events_Body_idx": IndexInfo("Events_Body_idx", "COMPOSITES", {"target": '"Body"'}),
            "Events_tag_idx": IndexInfo("Events_tag_idx", "CUSTOM",
                                        {"class_name": "StorageAttachedIndex", "target": "tag"}),
        },
        options={
            "gc_grace_seconds": 3600, "comment": "it's", "default_time_to_live": 10,
            "compaction": {"class": "org.apache.cassandra.db.compaction.LeveledCompactionStrategy",
                           "sstable_size_in_mb": "160"},
            "caching": {"keys": "ALL", "rows_per_partition": "NONE"},
            "speculative_retry": "99p",
        },
    )
    for name, value in overrides.items():
        setattr(info, name, value)
    return info


LIVE_TYPES = {"address": UserTypeInfo(KS, "address", ("street", "Zip"), ("text", "int"))}


def test_literal_renderer():
    assert cql_literal("it's") == "'it''s'"
    assert cql_literal("") == "''"
    assert cql_literal(3600) == "3600"
    assert cql_literal(0.01) == "0.01"
    assert cql_literal(True) == "true"
    assert cql_literal({"class": "X", "n": 4}) == "{'class': 'X', 'n': 4}"
    assert cql_literal({"a'b": "c'"}) == "{'a''b': 'c'''}"
    for bad in (float("nan"), float("inf"), None, [1], object()):
        with pytest.raises(CQLEngineException):
            cql_literal(bad)


@pytest.mark.parametrize("live, model", [
    ("frozen<tuple<int, text>>", "tuple<int, text>"),
    ("list<frozen<tuple<int, text>>>", "list<frozen<tuple<int,text>>>"),
    ("varchar", "text"),
    ('frozen<"address">', "frozen<address>"),
    ("map<text, int>", "map<text,int>"),
])
def test_type_normalisation_equal(live, model):
    assert normalize_type(live) == normalize_type(model)


@pytest.mark.parametrize("live, model", [
    ("frozen<list<int>>", "list<int>"),
    ("int", "bigint"),
    ("counter", "bigint"),
    ('"Address"', "address"),
])
def test_type_normalisation_differs(live, model):
    assert normalize_type(live) != normalize_type(model)


def test_render_type_quotes_user_type_names():
    assert render_type("frozen<list<frozen<MyType>>>") == "frozen<list<frozen<mytype>>>"
    assert render_type('map<text, frozen<"Odd Name">>') == 'map<text, frozen<"Odd Name">>'
    assert render_type("frozen<type>") == 'frozen<"type">'


def test_create_everything_when_nothing_exists():
    plan = plan_table(KS, table_spec(Event), None, {})
    assert plan.kinds() == ["create_type", "create_table", "create_index", "create_index"]
    create_type, create_table, index, sai = plan.changes
    assert create_type.cql == 'CREATE TYPE ks.address (street text, "Zip" int)'
    assert create_table.cql == (
        'CREATE TABLE ks."Events" (tenant text, day int, at timeuuid, seq int, owner text static, '
        '"Body" text, tag text, pair tuple<int, text>, home frozen<address>, '
        "PRIMARY KEY ((tenant, day), at, seq)) WITH CLUSTERING ORDER BY (at DESC, seq ASC) AND "
        "comment = 'it''s' AND compaction = {'class': 'LeveledCompactionStrategy'} AND "
        "default_time_to_live = 10 AND gc_grace_seconds = 3600"
    )
    assert index.cql == 'CREATE INDEX ON ks."Events" ("Body")'
    assert sai.cql == "CREATE CUSTOM INDEX ON ks.\"Events\" (tag) USING 'StorageAttachedIndex'"
    assert plan and not plan.conflicts and not plan.warnings
    assert "create table ks.Events" in str(plan)


def test_in_sync_plan_is_empty():
    plan = plan_table(KS, table_spec(Event), live_event(), LIVE_TYPES)
    assert not plan
    assert plan.changes == [] and plan.conflicts == [] and plan.warnings == []
    assert str(plan).startswith("in sync: type ks.address, table ks.Events")


def test_missing_column_index_option_and_type_field():
    live = live_event()
    del live.columns["tag"]
    del live.columns["owner"]
    live.indexes = {}
    live.options = dict(live.options, gc_grace_seconds=864000, comment="")
    types = {"address": UserTypeInfo(KS, "address", ("street",), ("text",))}
    plan = plan_table(KS, table_spec(Event), live, types)
    assert [(c.kind, c.cql) for c in plan.changes] == [
        ("alter_type_add_field", 'ALTER TYPE ks.address ADD "Zip" int'),
        ("add_column", 'ALTER TABLE ks."Events" ADD owner text static'),
        ("add_column", 'ALTER TABLE ks."Events" ADD tag text'),
        ("alter_table_options", "ALTER TABLE ks.\"Events\" WITH comment = 'it''s' AND gc_grace_seconds = 3600"),
        ("create_index", 'CREATE INDEX ON ks."Events" ("Body")'),
        ("create_index", "CREATE CUSTOM INDEX ON ks.\"Events\" (tag) USING 'StorageAttachedIndex'"),
    ]
    assert not plan.conflicts


def test_extra_columns_fields_and_indexes_are_warnings_only():
    live = live_event()
    live.columns["legacy"] = ColumnInfo("legacy", "text")
    live.indexes["old_idx"] = IndexInfo("old_idx", "COMPOSITES", {"target": "legacy"})
    types = {"address": UserTypeInfo(KS, "address", ("street", "Zip", "city"), ("text", "int", "text"))}
    plan = plan_table(KS, table_spec(Event), live, types)
    assert not plan and not plan.conflicts
    text = "\n".join(plan.warnings)
    assert "column legacy" in text and "old_idx" in text and "field city" in text


def test_option_compaction_change_and_subset_comparison():
    live = live_event()
    live.options["compaction"] = {"class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
                                  "max_threshold": "32", "min_threshold": "4"}
    plan = plan_table(KS, table_spec(Event), live, LIVE_TYPES)
    assert [c.cql for c in plan.changes] == [
        "ALTER TABLE ks.\"Events\" WITH compaction = {'class': 'LeveledCompactionStrategy'}"
    ]


def test_unknown_option_is_a_conflict():
    class Opt(Model):
        __options__ = {"no_such_option": 1}
        id = columns.Integer(primary_key=True)

    live = TableInfo(KS, "opt", {"id": ColumnInfo("id", "int", "partition_key", 0)}, {},
                     {"comment": ""})
    plan = plan_table(KS, table_spec(Opt), live)
    assert [c.column for c in plan.conflicts] == ["option no_such_option"]


def test_type_static_counter_and_field_refusals_all_listed():
    live = live_event()
    live.columns["Body"] = ColumnInfo("Body", "int")
    live.columns["owner"] = ColumnInfo("owner", "text", "regular")
    live.columns["tag"] = ColumnInfo("tag", "counter")
    types = {"address": UserTypeInfo(KS, "address", ("street", "Zip"), ("text", "bigint"))}
    plan = plan_table(KS, table_spec(Event), live, types)
    got = {(c.column, c.problem, c.live, c.model) for c in plan.conflicts}
    assert got == {
        ("field Zip", "field type differs", "bigint", "int"),
        ("column Body", "type differs", "int", "text"),
        ("column owner", "static flag differs", "not static", "static"),
        ("column tag", "counter vs non-counter", "counter", "text"),
    }
    with pytest.raises(SchemaMismatch) as err:
        plan.raise_for_conflicts()
    message = str(err.value)
    assert "4 schema difference(s)" in message
    assert "table ks.Events column Body: type differs: database has int, model Event has text" in message
    assert "type ks.address field Zip" in message


@pytest.mark.parametrize("mutate, problem", [
    (lambda t: t.columns.update(day=ColumnInfo("day", "int", "clustering", 2, "asc")), "partition key differs"),
    (lambda t: t.columns.update(seq=ColumnInfo("seq", "int", "regular")), "clustering key differs"),
    (lambda t: t.columns.update(seq=ColumnInfo("seq", "int", "clustering", 0),
                                at=ColumnInfo("at", "timeuuid", "clustering", 1, "desc")),
     "clustering key differs"),
    (lambda t: t.columns.update(at=ColumnInfo("at", "timeuuid", "clustering", 0, "asc")),
     "clustering order differs"),
])
def test_key_refusals(mutate, problem):
    live = live_event()
    mutate(live)
    plan = plan_table(KS, table_spec(Event), live, LIVE_TYPES)
    assert problem in [c.problem for c in plan.conflicts]
    assert not plan.changes or all(c.kind != "create_table" for c in plan.changes)


def test_key_conflict_names_both_definitions():
    live = live_event()
    live.columns["day"] = ColumnInfo("day", "int", "clustering", 2, "asc")
    plan = plan_table(KS, table_spec(Event), live, LIVE_TYPES)
    (conflict,) = [c for c in plan.conflicts if c.column == "PRIMARY KEY"]
    assert conflict.live == "PRIMARY KEY ((tenant), at, seq, day) CLUSTERING ORDER BY (at DESC, seq ASC, day ASC)"
    assert conflict.model == "PRIMARY KEY ((tenant, day), at, seq) CLUSTERING ORDER BY (at DESC, seq ASC)"


def test_counter_column_cannot_join_regular_table():
    class Hits(Model):
        id = columns.Integer(primary_key=True)
        hits = columns.Counter()

    live = TableInfo(KS, "hits", {"id": ColumnInfo("id", "int", "partition_key", 0),
                                  "name": ColumnInfo("name", "text")}, {}, {})
    plan = plan_table(KS, table_spec(Hits), live)
    assert [c.problem for c in plan.conflicts] == ["cannot add this column"]


def test_polymorphic_family_uses_union_of_columns():
    class Pet(Model):
        __table_name__ = "pets"
        owner = columns.Integer(partition_key=True)
        name = columns.Text(primary_key=True)
        kind = columns.Text(polymorphic_key=True, index=True)

    class Cat(Pet):
        __polymorphic_key__ = "cat"
        lives = columns.Integer()

    class Dog(Pet):
        __polymorphic_key__ = "dog"
        bark = columns.Text()

    for model in (Pet, Cat, Dog):
        spec = table_spec(model)
        assert spec.name == "pets"
        assert list(spec.columns) == ["owner", "name", "kind", "lives", "bark"]


def test_plan_type_standalone_and_merge_dedupes():
    spec = type_spec(Address)
    first = plan_type(KS, spec, None)
    merged = SchemaPlan().extend(first).extend(plan_type(KS, spec, None))
    assert merged.kinds() == ["create_type"]


def test_abstract_model_has_no_spec():
    class Base(Model):
        __abstract__ = True
        id = columns.Integer(primary_key=True)

    with pytest.raises(CQLEngineException):
        table_spec(Base)


def _unquote(literal: str) -> str:
    # The inverse of cql_literal for strings, as CQL's lexer reads it.
    assert literal[0] == literal[-1] == "'"
    body = literal[1:-1]
    assert "'" not in body.replace("''", "")
    return body.replace("''", "'")


@given(st.text())
def test_string_literal_round_trips(text):
    assert _unquote(cql_literal(text)) == text


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers(), st.booleans()),
                       max_size=4))
def test_map_literal_has_one_entry_per_key(mapping):
    rendered = cql_literal(mapping)
    assert rendered.startswith("{") and rendered.endswith("}")
    assert rendered.count(": ") >= len(mapping)


@pytest.mark.parametrize("live_comment, model_comment", [("1", "1.0"), ("a", " a"), ("A", "a")])
def test_comment_compared_exactly(live_comment, model_comment):
    class Commented(Model):
        __options__ = {"comment": model_comment}
        id = columns.Integer(primary_key=True)

    live = TableInfo(KS, "commented", {"id": ColumnInfo("id", "int", "partition_key", 0)}, {},
                     {"comment": live_comment})
    assert plan_table(KS, table_spec(Commented), live).kinds() == ["alter_table_options"]


def test_a_plan_with_only_conflicts_does_not_claim_to_be_in_sync():
    from cqlengine.management.plan import Conflict, SchemaPlan

    plan = SchemaPlan(conflicts=[Conflict("table ks.t", "column c", "type differs", "int", "text")],
                      checked=["table ks.t"])
    assert "in sync" not in str(plan)
    assert str(plan).startswith("conflicts (refused, nothing will be applied):")
