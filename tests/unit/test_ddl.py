"""Golden CQL and property tests for the DDL renderer (no server)."""
from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cqlengine import ddl
from cqlengine.ddl import ColumnDef, cql_literal
from cqlengine.exceptions import CQLEngineException
from cqlengine.statements import quote_identifier

# --------------------------------------------------------------------------- a CQL lexer, as Cassandra reads DDL

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<qident>"(?:[^"]|"")*")
    | (?P<string>'(?:[^']|'')*')
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<punct>[(){}<>,.=:])
    )""",
    re.VERBOSE | re.DOTALL,
)

Token = tuple[str, str]


def lex(cql: str) -> list[Token]:
    """The tokens of ``cql`` with quoted identifiers and strings unescaped; fails on anything else."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(cql):
        m = _TOKEN.match(cql, pos)
        assert m is not None and m.end() > pos, f"cannot lex {cql[pos:]!r} in {cql!r}"
        kind = m.lastgroup
        assert kind is not None
        text = m.group(kind)
        if kind == "qident":
            tokens.append(("ident", text[1:-1].replace('""', '"')))
        elif kind == "string":
            tokens.append(("string", text[1:-1].replace("''", "'")))
        elif kind == "word" and re.fullmatch(r"[a-z][a-z0-9_]*", text):
            tokens.append(("ident", text))  # a bare lower-case name reads as itself
        else:
            tokens.append((kind, text))
        pos = m.end()
    return tokens


def same_shape(rendered: str, template: str, substitutions: dict[Token, Token]) -> None:
    """``rendered`` lexes to the tokens of ``template``, with each placeholder token read back as its value."""
    expected = [substitutions.get(token, token) for token in lex(template)]
    assert lex(rendered) == expected


identifiers = st.text(min_size=1, max_size=20)
texts = st.text(max_size=40)

# --------------------------------------------------------------------------- literals


def test_literals():
    assert cql_literal("it's") == "'it''s'"
    assert cql_literal("") == "''"
    assert cql_literal(3600) == "3600"
    assert cql_literal(-2) == "-2"
    assert cql_literal(0.01) == "0.01"
    assert cql_literal(True) == "true"
    assert cql_literal(False) == "false"
    assert cql_literal({"class": "X", "n": 4}) == "{'class': 'X', 'n': 4}"
    assert cql_literal({"a'b": {"c": "d'"}}) == "{'a''b': {'c': 'd'''}}"


@pytest.mark.parametrize("bad", [None, [1], (1,), {1}, b"x", float("nan"), float("inf"), -float("inf"), object(),
                                 {"k": None}, {"k": [1]}])
def test_literal_refuses_what_it_cannot_render(bad):
    with pytest.raises(CQLEngineException):
        cql_literal(bad)


def test_literal_of_subclasses_uses_the_base_rendering():
    class Sneaky(str):
        def replace(self, *args: Any) -> str:  # type: ignore[override]
            return "x' AND y = 'z"

    class Loud(int):
        def __repr__(self) -> str:
            return "1; DROP TABLE t"

        __str__ = __repr__

    class Odd(float):
        def __repr__(self) -> str:
            return "1 AND x = 2"

    assert cql_literal(Sneaky("it's")) == "'it''s'"
    assert cql_literal(Loud(1)) == "1"
    assert cql_literal(Odd(1.5)) == "1.5"


@given(texts)
def test_string_literal_round_trips(text):
    assert lex(cql_literal(text)) == [("string", text)]


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers(), st.booleans()),
                       max_size=4))
def test_map_literal_round_trips(mapping):
    tokens = lex(cql_literal(mapping))
    assert tokens[0] == ("punct", "{") and tokens[-1] == ("punct", "}")
    entries = tokens[1:-1]
    read: dict[str, Any] = {}
    for i in range(0, len(entries), 4):
        key, colon, value = entries[i:i + 3]
        assert key[0] == "string" and colon == ("punct", ":")
        assert i + 3 == len(entries) or entries[i + 3] == ("punct", ",")
        read[key[1]] = value[1]
    expected = {k: (v if isinstance(v, str) else cql_literal(v)) for k, v in mapping.items()}
    assert read == expected


# --------------------------------------------------------------------------- tables


def test_create_table():
    cql = ddl.create_table(
        "ks", "Events",
        [ColumnDef("tenant", "text"), ColumnDef("at", "timeuuid"), ColumnDef("owner", "text", static=True),
         ColumnDef("Body", "text"), ColumnDef("home", "frozen<Address>")],
        ["tenant"], [("at", "desc")], {"comment": "it's", "gc_grace_seconds": 3600},
    )
    assert cql == (
        'CREATE TABLE ks."Events" (tenant text, at timeuuid, owner text static, "Body" text, '
        "home frozen<address>, PRIMARY KEY ((tenant), at)) WITH CLUSTERING ORDER BY (at DESC) AND "
        "comment = 'it''s' AND gc_grace_seconds = 3600"
    )


def test_create_table_without_clustering_or_options():
    assert ddl.create_table("ks", "t", [ColumnDef("id", "int")], ["id"]) == \
        "CREATE TABLE ks.t (id int, PRIMARY KEY ((id)))"
    assert ddl.create_table(None, "t", [ColumnDef("a", "int"), ColumnDef("b", "int")], ["a", "b"], options={}) == \
        "CREATE TABLE t (a int, b int, PRIMARY KEY ((a, b)))"


@pytest.mark.parametrize("order", ["none", "ASC; DROP", ""])
def test_create_table_refuses_a_clustering_order_it_does_not_know(order):
    with pytest.raises(CQLEngineException, match="clustering order"):
        ddl.create_table("ks", "t", [ColumnDef("a", "int"), ColumnDef("b", "int")], ["a"], [("b", order)])


def test_create_table_needs_a_partition_key():
    with pytest.raises(CQLEngineException):
        ddl.create_table("ks", "t", [ColumnDef("a", "int")], [])


def test_alter_table():
    assert ddl.add_column("ks", "t", ColumnDef("select", "list<int>")) == 'ALTER TABLE ks.t ADD "select" list<int>'
    assert ddl.add_column("ks", "t", ColumnDef("s", "text", static=True)) == "ALTER TABLE ks.t ADD s text static"
    assert ddl.alter_table_options("ks", "t", {"compaction": {"class": "LeveledCompactionStrategy"},
                                               "comment": "a 'b'"}) == (
        "ALTER TABLE ks.t WITH comment = 'a ''b''' AND compaction = {'class': 'LeveledCompactionStrategy'}")
    with pytest.raises(CQLEngineException):
        ddl.alter_table_options("ks", "t", {})


@pytest.mark.parametrize("name", ["Comment", "comment = 'x' AND y", "", "1x", "a-b", 'c"'])
def test_option_names_are_refused_unless_plain(name):
    with pytest.raises(CQLEngineException, match="option name"):
        ddl.options_clause({name: 1})


def test_drops():
    assert ddl.drop_table("ks", "Table") == 'DROP TABLE IF EXISTS ks."Table"'
    assert ddl.drop_type("ks", "address") == "DROP TYPE IF EXISTS ks.address"
    assert ddl.drop_keyspace("My KS") == 'DROP KEYSPACE IF EXISTS "My KS"'


@settings(max_examples=200)
@given(identifiers, identifiers, identifiers, identifiers)
def test_table_identifiers_round_trip(keyspace, table, key, column):
    cols = [ColumnDef(key, "int"), ColumnDef(column, "text")]
    rendered = ddl.create_table(keyspace, table, cols, [key], options={"comment": "c"})
    template = ddl.create_table("ks_", "tbl_", [ColumnDef("key_", "int"), ColumnDef("col_", "text")], ["key_"],
                                options={"comment": "c"})
    same_shape(rendered, template, {("ident", "ks_"): ("ident", keyspace), ("ident", "tbl_"): ("ident", table),
                                    ("ident", "key_"): ("ident", key), ("ident", "col_"): ("ident", column)})


@settings(max_examples=200)
@given(identifiers, texts, st.dictionaries(st.sampled_from(["class", "max_threshold", "it's"]), texts, max_size=3))
def test_option_strings_round_trip(table, comment, compaction):
    rendered = ddl.alter_table_options("ks", table, {"comment": comment, "compaction": compaction})
    tokens = lex(rendered)
    assert tokens[:5] == [("word", "ALTER"), ("word", "TABLE"), ("ident", "ks"), ("punct", "."), ("ident", table)]
    assert tokens[5:9] == [("word", "WITH"), ("ident", "comment"), ("punct", "="), ("string", comment)]
    assert tokens[9:12] == [("word", "AND"), ("ident", "compaction"), ("punct", "=")]
    entries = tokens[13:-1]
    assert dict(zip([t[1] for t in entries[0::4]], [t[1] for t in entries[2::4]])) == compaction
    assert len(tokens) == 13 + max(0, 4 * len(compaction) - 1) + 1


# --------------------------------------------------------------------------- indexes


def test_create_index():
    assert ddl.create_index("ks", "Events", "Body") == 'CREATE INDEX ON ks."Events" ("Body")'
    assert ddl.create_index("ks", "t", "tags", full=True) == "CREATE INDEX ON ks.t (full(tags))"
    assert ddl.create_index("ks", "t", "tag", using="StorageAttachedIndex") == \
        "CREATE CUSTOM INDEX ON ks.t (tag) USING 'StorageAttachedIndex'"
    assert ddl.create_index("ks", "t", "v", using="StorageAttachedIndex",
                            options={"similarity_function": "dot_product"}) == (
        "CREATE CUSTOM INDEX ON ks.t (v) USING 'StorageAttachedIndex' "
        "WITH OPTIONS = {'similarity_function': 'dot_product'}")


def test_index_options_need_a_custom_class():
    with pytest.raises(CQLEngineException, match="custom index"):
        ddl.create_index("ks", "t", "v", options={"similarity_function": "cosine"})


@settings(max_examples=200)
@given(identifiers, identifiers, texts, texts)
def test_index_identifiers_and_options_round_trip(table, column, class_name, option):
    rendered = ddl.create_index("ks", table, column, full=True, using=class_name, options={"o": option})
    template = ddl.create_index("ks", "tbl_", "col_", full=True, using="cls_", options={"o": "opt_"})
    same_shape(rendered, template, {("ident", "tbl_"): ("ident", table), ("ident", "col_"): ("ident", column),
                                    ("string", "cls_"): ("string", class_name), ("string", "opt_"): ("string", option)})


# --------------------------------------------------------------------------- user types and keyspaces


def test_user_types():
    assert ddl.create_type("ks", "address", [("street", "text"), ("Zip", "int"), ("home", "frozen<Place>")]) == \
        'CREATE TYPE ks.address (street text, "Zip" int, home frozen<place>)'
    assert ddl.alter_type_add_field("ks", "address", "Zip", 'frozen<"Odd Name">') == \
        'ALTER TYPE ks.address ADD "Zip" frozen<"Odd Name">'


@settings(max_examples=200)
@given(identifiers, identifiers, identifiers)
def test_user_type_names_in_types_round_trip(type_name, field, nested):
    cql_type = f"map<text, frozen<{quote_identifier(nested)}>>"
    rendered = ddl.alter_type_add_field("ks", type_name, field, cql_type)
    template = ddl.alter_type_add_field("ks", "typ_", "fld_", "map<text, frozen<nst_>>")
    same_shape(rendered, template, {("ident", "typ_"): ("ident", type_name), ("ident", "fld_"): ("ident", field),
                                    ("ident", "nst_"): ("ident", nested)})


def test_create_keyspace():
    assert ddl.create_keyspace("app", {"class": "SimpleStrategy", "replication_factor": "3"}) == (
        "CREATE KEYSPACE IF NOT EXISTS app WITH replication = {'class': 'SimpleStrategy', "
        "'replication_factor': '3'} AND durable_writes = true")
    assert ddl.create_keyspace("App", {"class": "NetworkTopologyStrategy", "dc'1": "1"}, durable_writes=False) == (
        "CREATE KEYSPACE IF NOT EXISTS \"App\" WITH replication = {'class': 'NetworkTopologyStrategy', "
        "'dc''1': '1'} AND durable_writes = false")


@given(identifiers, texts.filter(lambda text: text != "class"))  # "class" is the map's key (refused: below)
def test_keyspace_names_and_datacentres_round_trip(name, datacentre):
    rendered = ddl.create_keyspace(name, {"class": "NetworkTopologyStrategy", datacentre: "1"})
    template = ddl.create_keyspace("ks_", {"class": "NetworkTopologyStrategy", "dc_": "1"})
    same_shape(rendered, template, {("ident", "ks_"): ("ident", name), ("string", "dc_"): ("string", datacentre)})


def test_a_datacentre_named_class_is_refused_rather_than_replacing_the_strategy():
    from cqlengine.exceptions import CQLEngineException
    from cqlengine.management import create_keyspace_network_topology

    with pytest.raises(CQLEngineException, match="a datacentre cannot be named 'class'"):
        create_keyspace_network_topology("ks", {"class": 1, "dc1": 3})


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize("cql_type, rendered", [
    ("int", "int"),
    ("frozen<list<frozen<MyType>>>", "frozen<list<frozen<mytype>>>"),
    ('map<text, frozen<"Odd Name">>', 'map<text, frozen<"Odd Name">>'),
    ("frozen<type>", 'frozen<"type">'),
    ("vector<float, 3>", "vector<float, 3>"),
    ('frozen<"1">', 'frozen<"1">'),
])
def test_render_type(cql_type, rendered):
    assert ddl.render_type(cql_type) == rendered


@given(identifiers)
def test_user_type_name_round_trips_through_render_type(name):
    quoted = quote_identifier(name)
    assert ddl.render_type(f"frozen<{quoted}>") == f"frozen<{quoted}>"
