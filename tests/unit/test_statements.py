"""Golden CQL and property tests for the statement compiler (no server)."""
from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cqlengine.statements as statements_module
from cqlengine.exceptions import QueryException
from cqlengine.functions import BaseFunction, MaxTimeUUID, MinTimeUUID, Token
from cqlengine.statements import (
    RESERVED_KEYWORDS,
    AddAssignment,
    BaseStatement,
    ConditionClause,
    DeleteStatement,
    InsertStatement,
    ItemAssignment,
    PrependAssignment,
    RemoveAssignment,
    SelectStatement,
    SetAssignment,
    TokenWhereClause,
    UpdateStatement,
    WhereClause,
    qualified_table,
    quote_identifier,
    render_batch_members,
)

DT = datetime(2024, 1, 2, 3, 4, 5)
K = [WhereClause("k", "=", 1)]


def W(column: str, operator: str, value: Any) -> WhereClause:
    return WhereClause(column, operator, value)


# ---------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("name", "name"),
        ("user_id2", "user_id2"),
        ("select", '"select"'),
        ("token", '"token"'),
        ("key", '"key"'),
        ("ttl", '"ttl"'),
        ("userId", '"userId"'),
        ("a\"b", '"a""b"'),
        ("_private", '"_private"'),
        ("2fast", '"2fast"'),
        ("with space", '"with space"'),
        ("émile", '"émile"'),
    ],
)
def test_quote_identifier(name: str, expected: str) -> None:
    assert quote_identifier(name) == expected


def test_every_reserved_keyword_is_quoted() -> None:
    for word in RESERVED_KEYWORDS:
        assert quote_identifier(word) == f'"{word}"'


def test_empty_identifier_is_refused() -> None:
    with pytest.raises(QueryException):
        quote_identifier("")


@pytest.mark.parametrize(
    ("keyspace", "table", "expected"),
    [
        (None, "t", "t"),
        ("ks", "t", "ks.t"),
        ("MyKs", "select", '"MyKs"."select"'),
        ("ks", 'we"ird', 'ks."we""ird"'),
    ],
)
def test_qualified_table(keyspace: str | None, table: str, expected: str) -> None:
    assert qualified_table(keyspace, table) == expected


# ---------------------------------------------------------------- functions


def test_functions_render_markers_and_params() -> None:
    assert (MinTimeUUID(DT).marker, MinTimeUUID(DT).params) == ("minTimeuuid(?)", [DT])
    assert (MaxTimeUUID(DT).marker, MaxTimeUUID(DT).params) == ("maxTimeuuid(?)", [DT])
    assert (Token(1, "a").marker, Token(1, "a").params) == ("token(?, ?)", [1, "a"])
    assert Token([1, "a"]) == Token(1, "a")  # the peer's list spelling
    assert Token([(1, 2)]).params == [(1, 2)]  # a lone tuple-typed key value


def test_function_reprs() -> None:
    assert repr(Token(1, "a")) == "Token(1, 'a')"
    assert repr(MinTimeUUID(DT)) == "MinTimeUUID(datetime.datetime(2024, 1, 2, 3, 4, 5))"
    assert repr(MaxTimeUUID(DT)).startswith("MaxTimeUUID(datetime.datetime(")


def test_token_with_values_returns_a_copy() -> None:
    token = Token("1", "2")
    converted = token.with_values([1, 2])
    assert converted == Token(1, 2)
    assert token.params == ["1", "2"]
    assert isinstance(converted, Token)


def test_function_argument_errors() -> None:
    with pytest.raises(QueryException):
        Token()
    with pytest.raises(QueryException):
        Token(1).with_values([])
    with pytest.raises(QueryException):
        MinTimeUUID("2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(QueryException):
        MaxTimeUUID(DT).with_values([DT, DT])


# ---------------------------------------------------------------- golden CQL

GOLDEN: list[tuple[str, BaseStatement, str, list]] = [
    # --- SELECT
    ("select star", SelectStatement("t"), "SELECT * FROM t", []),
    (
        "select fields keyspace",
        SelectStatement("t", "ks", ["a", "userId", "key"]),
        'SELECT a, "userId", "key" FROM ks.t',
        [],
    ),
    (
        "select where eq and in",
        SelectStatement("t", where=[W("a", "=", 1), W("b", "IN", [1, 2, 3])]),
        "SELECT * FROM t WHERE a = ? AND b IN ?",
        [1, [1, 2, 3]],
    ),
    *[
        (
            f"select where {op}",
            SelectStatement("t", where=[W("c", op, 5)]),
            f"SELECT * FROM t WHERE c {op} ?",
            [5],
        )
        for op in ["=", "<", "<=", ">", ">=", "CONTAINS", "CONTAINS KEY", "LIKE"]
    ],
    (
        "select lower-case operator",
        SelectStatement("t", where=[W("m", "contains  key", "x"), W("n", "like", "a%")]),
        "SELECT * FROM t WHERE m CONTAINS KEY ? AND n LIKE ?",
        ["x", "a%"],
    ),
    (
        "select token",
        SelectStatement("t", where=[TokenWhereClause(["a", "b"], ">", Token(1, 2))]),
        "SELECT * FROM t WHERE token(a, b) > token(?, ?)",
        [1, 2],
    ),
    (
        "select token from tuple",
        SelectStatement("t", where=[TokenWhereClause(["key"], "<=", (7,))]),
        'SELECT * FROM t WHERE token("key") <= token(?)',
        [7],
    ),
    (
        "select token of a list-typed key",
        SelectStatement("t", where=[TokenWhereClause(["a"], "=", ([1, 2],))]),
        "SELECT * FROM t WHERE token(a) = token(?)",
        [[1, 2]],
    ),
    (
        "select token raw value",
        SelectStatement("t", where=[TokenWhereClause(["a"], ">", -42)]),
        "SELECT * FROM t WHERE token(a) > ?",
        [-42],
    ),
    (
        "select timeuuid functions",
        SelectStatement(
            "t", where=[W("id", ">", MinTimeUUID(DT)), W("id", "<=", MaxTimeUUID(DT))]
        ),
        "SELECT * FROM t WHERE id > minTimeuuid(?) AND id <= maxTimeuuid(?)",
        [DT, DT],
    ),
    (
        "select order by",
        SelectStatement("t", where=K, order_by=[("c", "DESC"), ("d", "asc"), "e"]),
        "SELECT * FROM t WHERE k = ? ORDER BY c DESC, d ASC, e ASC",
        [1],
    ),
    ("select limit", SelectStatement("t", limit=10), "SELECT * FROM t LIMIT ?", [10]),
    (
        "select per partition limit",
        SelectStatement("t", per_partition_limit=2, limit=10),
        "SELECT * FROM t PER PARTITION LIMIT ? LIMIT ?",
        [2, 10],
    ),
    (
        "select allow filtering",
        SelectStatement("t", where=[W("v", ">", 3)], allow_filtering=True),
        "SELECT * FROM t WHERE v > ? ALLOW FILTERING",
        [3],
    ),
    (
        "select distinct",
        SelectStatement("t", fields=["a", "b"], distinct=True),
        "SELECT DISTINCT a, b FROM t",
        [],
    ),
    (
        "select count",
        SelectStatement("t", "ks", where=K, count=True, limit=5),
        "SELECT COUNT(*) FROM ks.t WHERE k = ? LIMIT ?",
        [1, 5],
    ),
    (
        "select writetime and ttl",
        SelectStatement("t", fields=["a"], writetime_of=["b"], ttl_of=["select"]),
        'SELECT a, WRITETIME(b), TTL("select") FROM t',
        [],
    ),
    (
        "select everything",
        SelectStatement(
            "t",
            "ks",
            ["a"],
            [W("k", "=", 1), W("c", ">", 2)],
            [("c", "DESC")],
            limit=3,
            per_partition_limit=1,
            allow_filtering=True,
        ),
        "SELECT a FROM ks.t WHERE k = ? AND c > ? ORDER BY c DESC "
        "PER PARTITION LIMIT ? LIMIT ? ALLOW FILTERING",
        [1, 2, 1, 3],
    ),
    # --- INSERT
    (
        "insert",
        InsertStatement("t", "ks", [("a", 1), ("Key", "x")]),
        'INSERT INTO ks.t (a, "Key") VALUES (?, ?)',
        [1, "x"],
    ),
    (
        "insert mapping",
        InsertStatement("t", values={"a": 1, "b": None}),
        "INSERT INTO t (a, b) VALUES (?, ?)",
        [1, None],
    ),
    (
        "insert ttl",
        InsertStatement("t", values=[("a", 1)], ttl=60),
        "INSERT INTO t (a) VALUES (?) USING TTL ?",
        [1, 60],
    ),
    (
        "insert timestamp",
        InsertStatement("t", values=[("a", 1)], timestamp=123),
        "INSERT INTO t (a) VALUES (?) USING TIMESTAMP ?",
        [1, 123],
    ),
    (
        "insert ttl and timestamp",
        InsertStatement("t", values=[("a", 1)], ttl=60, timestamp=123),
        "INSERT INTO t (a) VALUES (?) USING TTL ? AND TIMESTAMP ?",
        [1, 60, 123],
    ),
    (
        "insert if not exists",
        InsertStatement("t", values=[("a", 1)], if_not_exists=True),
        "INSERT INTO t (a) VALUES (?) IF NOT EXISTS",
        [1],
    ),
    (
        "insert if not exists ttl",
        InsertStatement("t", values=[("a", 1)], if_not_exists=True, ttl=0),
        "INSERT INTO t (a) VALUES (?) IF NOT EXISTS USING TTL ?",
        [1, 0],
    ),
    # --- UPDATE
    (
        "update set",
        UpdateStatement("t", "ks", [SetAssignment("a", 1)], K),
        "UPDATE ks.t SET a = ? WHERE k = ?",
        [1, 1],
    ),
    (
        "update collection operations",
        UpdateStatement(
            "t",
            assignments=[
                AddAssignment("l", [1]),
                PrependAssignment("l2", [0]),
                RemoveAssignment("s", {2}),
                ItemAssignment("m", "k", "v"),
                ItemAssignment("l3", 0, "first"),
                RemoveAssignment("m2", {"gone"}),
            ],
            where=K,
        ),
        "UPDATE t SET l = l + ?, l2 = ? + l2, s = s - ?, m[?] = ?, l3[?] = ?, m2 = m2 - ? "
        "WHERE k = ?",
        [[1], [0], {2}, "k", "v", 0, "first", {"gone"}, 1],
    ),
    (
        "update counter",
        UpdateStatement(
            "t", assignments=[AddAssignment("hits", 1), RemoveAssignment("misses", 2)], where=K
        ),
        "UPDATE t SET hits = hits + ?, misses = misses - ? WHERE k = ?",
        [1, 2, 1],
    ),
    (
        "update map merge",
        UpdateStatement("t", assignments=[AddAssignment("m", {"a": 1})], where=K),
        "UPDATE t SET m = m + ? WHERE k = ?",
        [{"a": 1}, 1],
    ),
    (
        "update ttl",
        UpdateStatement("t", assignments=[SetAssignment("a", 1)], where=K, ttl=5),
        "UPDATE t USING TTL ? SET a = ? WHERE k = ?",
        [5, 1, 1],
    ),
    (
        "update timestamp",
        UpdateStatement("t", assignments=[SetAssignment("a", 1)], where=K, timestamp=9),
        "UPDATE t USING TIMESTAMP ? SET a = ? WHERE k = ?",
        [9, 1, 1],
    ),
    (
        "update ttl and timestamp",
        UpdateStatement(
            "t", assignments=[SetAssignment("a", 1)], where=K, ttl=5, timestamp=9
        ),
        "UPDATE t USING TTL ? AND TIMESTAMP ? SET a = ? WHERE k = ?",
        [5, 9, 1, 1],
    ),
    (
        "update if exists",
        UpdateStatement("t", assignments=[SetAssignment("a", 1)], where=K, if_exists=True),
        "UPDATE t SET a = ? WHERE k = ? IF EXISTS",
        [1, 1],
    ),
    (
        "update if conditions",
        UpdateStatement(
            "t",
            assignments=[SetAssignment("a", 1)],
            where=K,
            ttl=5,
            conditions=[
                ConditionClause("a", "=", 0),
                ConditionClause("b", ">", 2),
                ConditionClause("c", "!=", None),
                ConditionClause("d", "in", [1, 2]),
            ],
        ),
        "UPDATE t USING TTL ? SET a = ? WHERE k = ? IF a = ? AND b > ? AND c != ? AND d IN ?",
        [5, 1, 1, 0, 2, None, [1, 2]],
    ),
    (
        "update where in, reserved names",
        UpdateStatement(
            "select", assignments=[SetAssignment("token", 1)], where=[W("key", "IN", (1, 2))]
        ),
        'UPDATE "select" SET "token" = ? WHERE "key" IN ?',
        [1, (1, 2)],
    ),
    # --- DELETE
    ("delete row", DeleteStatement("t", "ks", where=K), "DELETE FROM ks.t WHERE k = ?", [1]),
    (
        "delete columns",
        DeleteStatement("t", columns=["a", "userId"], where=K),
        'DELETE a, "userId" FROM t WHERE k = ?',
        [1],
    ),
    (
        "delete map key and list index",
        DeleteStatement("t", columns=[("m", "key1"), "a", ("l", 3)], where=K),
        "DELETE m[?], a, l[?] FROM t WHERE k = ?",
        ["key1", 3, 1],
    ),
    (
        "delete timestamp",
        DeleteStatement("t", columns=[("m", "x")], where=K, timestamp=77),
        "DELETE m[?] FROM t USING TIMESTAMP ? WHERE k = ?",
        ["x", 77, 1],
    ),
    (
        "delete clustering range",
        DeleteStatement("t", where=[W("k", "=", 1), W("c", ">=", 2), W("c", "<", 5)]),
        "DELETE FROM t WHERE k = ? AND c >= ? AND c < ?",
        [1, 2, 5],
    ),
    (
        "delete if exists",
        DeleteStatement("t", where=K, if_exists=True),
        "DELETE FROM t WHERE k = ? IF EXISTS",
        [1],
    ),
    (
        "delete if conditions",
        DeleteStatement("t", where=K, conditions=[ConditionClause("v", "<=", 3)]),
        "DELETE FROM t WHERE k = ? IF v <= ?",
        [1, 3],
    ),
]

_INS = InsertStatement("t", values=[("k", 1), ("v", "a")])
_UPD = UpdateStatement("t", assignments=[AddAssignment("c", 1)], where=[W("k", "=", 2)])
_DEL = DeleteStatement("t", where=[W("k", "=", 3)])


@pytest.mark.parametrize(
    ("statement", "cql", "params"),
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_golden_cql(statement: BaseStatement, cql: str, params: list) -> None:
    assert statement.render() == (cql, params)
    assert str(statement) == cql


def test_is_conditional() -> None:
    assert not _INS.is_conditional
    assert InsertStatement("t", values=[("a", 1)], if_not_exists=True).is_conditional
    assert DeleteStatement("t", where=K, if_exists=True).is_conditional
    cond = UpdateStatement(
        "t", assignments=[SetAssignment("a", 1)], where=K, conditions=[ConditionClause("a", "=", 1)]
    )
    assert cond.is_conditional


# ---------------------------------------------------------------- validation

INVALID: list[tuple[str, Callable[[], object]]] = [
    ("unknown where operator", lambda: W("a", "~", 1)),
    ("!= in where", lambda: W("a", "!=", 1)),
    ("LIKE in condition", lambda: ConditionClause("a", "LIKE", "x")),
    ("unknown condition operator", lambda: ConditionClause("a", "==", 1)),
    ("IN with a string", lambda: W("a", "IN", "abc")),
    ("IN with a scalar", lambda: W("a", "IN", 3)),
    ("IN with a function", lambda: W("a", "IN", Token(1))),
    ("token arity", lambda: TokenWhereClause(["a", "b"], "=", Token(1))),
    ("token operator", lambda: TokenWhereClause(["a"], "IN", [1])),
    ("token no columns", lambda: TokenWhereClause([], "=", 1)),
    ("update without where", lambda: UpdateStatement("t", assignments=[SetAssignment("a", 1)]).render()),
    ("update without assignments", lambda: UpdateStatement("t", where=K).render()),
    ("delete without where", lambda: DeleteStatement("t").render()),
    ("insert without values", lambda: InsertStatement("t").render()),
    ("insert duplicate column", lambda: InsertStatement("t", values=[("a", 1), ("a", 2)]).render()),
    (
        "update if_exists and conditions",
        lambda: UpdateStatement(
            "t",
            assignments=[SetAssignment("a", 1)],
            where=K,
            if_exists=True,
            conditions=[ConditionClause("a", "=", 1)],
        ).render(),
    ),
    (
        "delete if_exists and conditions",
        lambda: DeleteStatement(
            "t", where=K, if_exists=True, conditions=[ConditionClause("a", "=", 1)]
        ).render(),
    ),
    (
        "conditional update with timestamp",
        lambda: UpdateStatement(
            "t", assignments=[SetAssignment("a", 1)], where=K, if_exists=True, timestamp=1
        ).render(),
    ),
    (
        "insert if not exists with timestamp",
        lambda: InsertStatement("t", values=[("a", 1)], if_not_exists=True, timestamp=1).render(),
    ),
    ("limit zero", lambda: SelectStatement("t", limit=0).render()),
    ("limit not int", lambda: SelectStatement("t", limit="10").render()),  # type: ignore[arg-type]
    ("limit bool", lambda: SelectStatement("t", limit=True).render()),
    ("per partition limit zero", lambda: SelectStatement("t", per_partition_limit=0).render()),
    ("negative ttl", lambda: InsertStatement("t", values=[("a", 1)], ttl=-1).render()),
    ("float timestamp", lambda: DeleteStatement("t", where=K, timestamp=1.5).render()),  # type: ignore[arg-type]
    ("bad order direction", lambda: SelectStatement("t", order_by=[("c", "UP")]).render()),
    ("distinct star", lambda: SelectStatement("t", distinct=True).render()),
    ("writetime with star", lambda: SelectStatement("t", writetime_of=["a"]).render()),
    ("count distinct", lambda: SelectStatement("t", fields=["a"], distinct=True, count=True).render()),
    ("no fields", lambda: SelectStatement("t", fields=[]).render()),
    ("empty batch", lambda: render_batch_members([])),
    ("select in batch", lambda: render_batch_members([SelectStatement("t")])),  # type: ignore[list-item]
    (
        "statement timestamp inside timestamped batch",
        lambda: render_batch_members([InsertStatement("t", values=[("a", 1)], timestamp=5)], timestamp=6),
    ),
    (
        "conditional statement inside timestamped batch",
        lambda: render_batch_members([InsertStatement("t", values=[("a", 1)], if_not_exists=True)], timestamp=6),
    ),
    ("float batch timestamp", lambda: render_batch_members([_INS], timestamp=1.5)),  # type: ignore[arg-type]
    ("invalid inner statement", lambda: render_batch_members([DeleteStatement("t")])),
    ("empty identifier", lambda: SelectStatement("").render()),
]


@pytest.mark.parametrize("build", [case[1] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_statements_raise_query_exception(build: Callable[[], object]) -> None:
    for _ in range(2):  # a shape refused once is not remembered as rendered
        with pytest.raises(QueryException):
            build()


def test_error_names_the_problem() -> None:
    with pytest.raises(QueryException, match="WHERE clause is required"):
        UpdateStatement("users", assignments=[SetAssignment("a", 1)]).render()
    with pytest.raises(QueryException, match="batch-level timestamp"):
        render_batch_members([InsertStatement("t", values=[("a", 1)], timestamp=5)], timestamp=6)
    with pytest.raises(QueryException, match="'~'"):
        W("a", "~", 1)


# ---------------------------------------------------------------- properties


def unquote(text: str) -> str:
    if text.startswith('"'):
        assert text.endswith('"') and len(text) >= 2
        inner = text[1:-1]
        assert re.fullmatch(r'(?:[^"]|"")*', inner), text  # every inner quote is doubled
        return inner.replace('""', '"')
    assert re.fullmatch(r"[a-z][a-z0-9_]*", text) and text not in RESERVED_KEYWORDS
    return text


@given(st.text(min_size=1))
def test_quote_identifier_round_trips(name: str) -> None:
    assert unquote(quote_identifier(name)) == name


@given(st.text(min_size=1), st.text(min_size=1))
def test_qualified_table_round_trips(keyspace: str, table: str) -> None:
    rendered = qualified_table(keyspace, table)
    ks = quote_identifier(keyspace)
    assert rendered.startswith(ks + ".")
    assert unquote(rendered[len(ks) + 1 :]) == table


class Supplier:
    """Hands out values in the order the statement will bind them, recording each param."""

    def __init__(self, data: st.DataObject, values: st.SearchStrategy[Any]) -> None:
        self.data = data
        self.values = values
        self.expected: list[Any] = []

    def _record(self, value: Any) -> Any:
        self.expected.append(value)
        return value

    def value(self) -> Any:
        return self._record(self.data.draw(self.values))

    def in_list(self) -> list:
        return self._record(self.data.draw(st.lists(self.values, max_size=4)))

    def number(self, minimum: int) -> int:
        return self._record(self.data.draw(st.integers(minimum, 2**31 - 1)))

    def moment(self) -> datetime:
        return self._record(self.data.draw(st.datetimes()))

    def supply(self, kind: str) -> Any:
        if kind == "in":
            return self.in_list()
        if kind == "min":
            return MinTimeUUID(self.moment())
        if kind == "max":
            return MaxTimeUUID(self.moment())
        return self.value()


Builder = Callable[[Supplier], Any]

WHERE_OPS = ["=", "IN", "<", "<=", ">", ">=", "CONTAINS", "CONTAINS KEY", "LIKE"]
CONDITION_OPS = ["=", "!=", "IN", "<", "<=", ">", ">=", "CONTAINS", "CONTAINS KEY"]


@st.composite
def relation(draw: Any, names: st.SearchStrategy[str], condition: bool = False) -> Builder:
    if not condition and draw(st.integers(0, 4)) == 0:
        columns = draw(st.lists(names, min_size=1, max_size=3))
        operator = draw(st.sampled_from(["=", "<", "<=", ">", ">="]))
        form = draw(st.sampled_from(["token", "tuple", "raw"]))

        def token(s: Supplier) -> TokenWhereClause:
            if form == "raw":
                return TokenWhereClause(columns, operator, s.number(-(2**31)))
            values = [s.value() for _ in columns]
            return TokenWhereClause(
                columns, operator, Token(values) if form == "token" else tuple(values)
            )

        return token
    column = draw(names)
    operator = draw(st.sampled_from(CONDITION_OPS if condition else WHERE_OPS))
    kind = "in" if operator == "IN" else draw(st.sampled_from(["plain", "plain", "min", "max"]))
    cls = ConditionClause if condition else WhereClause
    return lambda s: cls(column, operator, s.supply(kind))


@st.composite
def assignment(draw: Any, names: st.SearchStrategy[str]) -> Builder:
    column = draw(names)
    cls = draw(
        st.sampled_from(
            [SetAssignment, AddAssignment, PrependAssignment, RemoveAssignment, ItemAssignment]
        )
    )
    if cls is ItemAssignment:
        return lambda s: ItemAssignment(column, s.value(), s.value())
    return lambda s: cls(column, s.value())


def build_all(builders: list[Builder], s: Supplier) -> list:
    return [build(s) for build in builders]


@st.composite
def select(draw: Any, names: st.SearchStrategy[str]) -> Builder:
    table, keyspace = draw(names), draw(st.none() | names)
    count = draw(st.booleans())
    fields = draw(st.none() | st.lists(names, min_size=1, max_size=4))
    explicit = fields is not None and not count
    distinct = explicit and draw(st.booleans())
    writetime_of = draw(st.lists(names, max_size=2)) if explicit else []
    ttl_of = draw(st.lists(names, max_size=2)) if explicit else []
    where = draw(st.lists(relation(names), max_size=4))
    order_by = draw(st.lists(st.tuples(names, st.sampled_from(["ASC", "DESC"])), max_size=2))
    has_ppl, has_limit, allow_filtering = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))

    def build(s: Supplier) -> SelectStatement:
        relations = build_all(where, s)
        ppl = s.number(1) if has_ppl else None
        limit = s.number(1) if has_limit else None
        return SelectStatement(
            table, keyspace, fields, relations, order_by, limit, ppl, allow_filtering,
            distinct, count, writetime_of, ttl_of,
        )

    return build


@st.composite
def lwt_and_timestamp(draw: Any, names: st.SearchStrategy[str], plain: bool) -> tuple:
    """(if_exists, condition builders, has_timestamp) that Cassandra would accept.

    ``plain`` (inside a timestamped batch): neither an LWT nor a timestamp.
    """
    if plain:
        return False, [], False
    mode = draw(st.sampled_from(["none", "exists", "conditions"]))
    conditions = []
    if mode == "conditions":
        conditions = draw(st.lists(relation(names, condition=True), min_size=1, max_size=3))
    has_ts = mode == "none" and draw(st.booleans())
    return mode == "exists", conditions, has_ts


@st.composite
def insert(draw: Any, names: st.SearchStrategy[str], plain: bool = False) -> Builder:
    table, keyspace = draw(names), draw(st.none() | names)
    columns = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    kinds = draw(st.lists(st.sampled_from(["plain", "min"]), min_size=len(columns), max_size=len(columns)))
    if_not_exists = not plain and draw(st.booleans())
    has_ttl = draw(st.booleans())
    has_ts = not plain and not if_not_exists and draw(st.booleans())

    def build(s: Supplier) -> InsertStatement:
        values = [(c, s.supply(kind)) for c, kind in zip(columns, kinds)]
        ttl = s.number(0) if has_ttl else None
        ts = s.number(-(2**31)) if has_ts else None
        return InsertStatement(table, keyspace, values, if_not_exists, ttl, ts)

    return build


@st.composite
def update(draw: Any, names: st.SearchStrategy[str], plain: bool = False) -> Builder:
    table, keyspace = draw(names), draw(st.none() | names)
    assignments = draw(st.lists(assignment(names), min_size=1, max_size=4))
    where = draw(st.lists(relation(names), min_size=1, max_size=3))
    has_ttl = draw(st.booleans())
    if_exists, conditions, has_ts = draw(lwt_and_timestamp(names, plain))

    def build(s: Supplier) -> UpdateStatement:
        ttl = s.number(0) if has_ttl else None
        ts = s.number(-(2**31)) if has_ts else None
        return UpdateStatement(
            table, keyspace, build_all(assignments, s), build_all(where, s), ttl, ts,
            if_exists, build_all(conditions, s),
        )

    return build


@st.composite
def delete(draw: Any, names: st.SearchStrategy[str], plain: bool = False) -> Builder:
    table, keyspace = draw(names), draw(st.none() | names)
    columns = draw(st.lists(st.tuples(names, st.booleans()), max_size=3))
    where = draw(st.lists(relation(names), min_size=1, max_size=3))
    if_exists, conditions, has_ts = draw(lwt_and_timestamp(names, plain))

    def build(s: Supplier) -> DeleteStatement:
        targets = [(c, s.value()) if keyed else c for c, keyed in columns]
        ts = s.number(-(2**31)) if has_ts else None
        return DeleteStatement(
            table, keyspace, targets, build_all(where, s), ts, if_exists, build_all(conditions, s)
        )

    return build


def statements(names: st.SearchStrategy[str]) -> st.SearchStrategy[Builder]:
    return st.one_of(select(names), insert(names), update(names), delete(names))


@st.composite
def batch_members(draw: Any, names: st.SearchStrategy[str]) -> tuple[list[Builder], bool]:
    """Member builders of a batch, and whether the batch has a timestamp."""
    has_ts = draw(st.booleans())
    # With a batch timestamp the members may carry none, and may not be LWTs.
    inner = st.one_of(insert(names, has_ts), update(names, has_ts), delete(names, has_ts))
    return draw(st.lists(inner, min_size=1, max_size=4)), has_ts


ANY_NAME = st.text(min_size=1, max_size=10)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    st.uuids(),
    st.lists(st.integers(), max_size=3),
)


def flatten(params: list) -> list:
    out = []
    for p in params:
        out.extend(p.params if isinstance(p, BaseFunction) else [p])
    return out


@settings(max_examples=300)
@given(statements(ANY_NAME), st.data())
def test_cql_depends_only_on_shape(build: Builder, data: st.DataObject) -> None:
    first, second = Supplier(data, VALUES), Supplier(data, VALUES)
    cql1, params1 = build(first).render()
    cql2, params2 = build(second).render()
    assert cql1 == cql2
    assert params1 == first.expected
    assert params2 == second.expected


@settings(max_examples=300)
@given(statements(ANY_NAME), statements(ANY_NAME), st.data())
def test_a_remembered_text_is_the_text_rendered_afresh(build: Builder, other: Builder, data: st.DataObject) -> None:
    first, second = build(Supplier(data, VALUES)), other(Supplier(data, VALUES))
    statements_module._TEXTS.clear()
    texts = [first.render(), second.render(), first.render()]  # the later ones may come from the memo
    statements_module._TEXTS.clear()
    assert second.render() == texts[1]
    statements_module._TEXTS.clear()
    assert first.render() == texts[0] == texts[2]


def _shape_variants() -> list[BaseStatement]:
    """Statements alike but for one part of their shape at a time: each must get its own text."""
    out: list[BaseStatement] = []
    for keyspace in (None, "ks"):
        for table in ("t", "u"):
            for columns in (("a",), ("b",), ("a", "b"), ("b", "a")):
                for if_not_exists in (False, True):
                    for ttl in (None, 5):
                        for timestamp in (None, 7):
                            out.append(InsertStatement(table, keyspace, [(c, 1) for c in columns], if_not_exists,
                                                       ttl, timestamp))
    assignments = [SetAssignment, AddAssignment, PrependAssignment, RemoveAssignment]
    wheres = [[WhereClause("k", "=", 1)], [WhereClause("k", "IN", [1])], [WhereClause("j", "=", 1)],
              [WhereClause("k", "=", 1), WhereClause("c", ">", 2)]]
    conditions = [[], [ConditionClause("v", "=", 1)], [ConditionClause("v", "!=", 1)], [ConditionClause("w", "=", 1)]]
    for kind in assignments:
        for column in ("v", "w"):
            for where in wheres:
                for condition in conditions:
                    for if_exists in (False, True):
                        for ttl in (None, 5):
                            for timestamp in (None, 7):
                                out.append(UpdateStatement("t", "ks", [kind(column, 1)], where, ttl, timestamp,
                                                           if_exists, condition))
    out.append(UpdateStatement("t", "ks", [SetAssignment("v", 1), SetAssignment("w", 2)], K))
    out.append(UpdateStatement("t", "ks", [SetAssignment("w", 2), SetAssignment("v", 1)], K))
    out.append(UpdateStatement("t", "ks", [ItemAssignment("v", "x", 1)], K))
    out.append(UpdateStatement("t", "ks", [SetAssignment("v", MinTimeUUID(DT))], K))
    return out


def _rendered_or_refused(statement: BaseStatement) -> object:
    try:
        return statement.render()
    except QueryException as exc:
        return ("refused", str(exc))


def test_every_part_of_a_shape_keys_its_remembered_text() -> None:
    variants = _shape_variants()
    fresh = []
    for statement in variants:
        statements_module._TEXTS.clear()
        fresh.append(_rendered_or_refused(statement))
    statements_module._TEXTS.clear()
    assert [_rendered_or_refused(statement) for statement in variants] == fresh
    assert len({text for text, *_ in fresh if text != "refused"}) == len([f for f in fresh if f[0] != "refused"])


# Identifiers from an alphabet without ' or ?, so any ' in the text would come
# from a value and the ? markers can be counted.
SAFE_NAME = st.text(alphabet=string.ascii_letters + string.digits + '_" ', min_size=1, max_size=8)
PAYLOAD = st.text(min_size=0, max_size=8).map(lambda tail: "'); DROP TABLE x; --" + tail)


@settings(max_examples=300)
@given(statements(SAFE_NAME), st.data())
def test_no_value_is_formatted_into_cql(build: Builder, data: st.DataObject) -> None:
    supplier = Supplier(data, PAYLOAD)
    cql, params = build(supplier).render()
    assert "'" not in cql
    assert "DROP TABLE x" not in cql
    for value in flatten(supplier.expected):
        if isinstance(value, str):
            assert value not in cql
    assert cql.count("?") == len(params)


def test_in_text_does_not_depend_on_list_length() -> None:
    short = SelectStatement("t", where=[W("k", "IN", [1])]).render()
    long = SelectStatement("t", where=[W("k", "IN", list(range(100)))]).render()
    assert short[0] == long[0] == "SELECT * FROM t WHERE k IN ?"


def test_values_are_passed_through_untouched() -> None:
    aware = datetime(2024, 1, 1, tzinfo=timezone.utc)
    uid = UUID(int=5)
    _, params = InsertStatement("t", values=[("a", aware), ("b", uid), ("c", MinTimeUUID(DT))]).render()
    assert params == [aware, uid, DT]
    assert params[0] is aware


# ---------------------------------------------------------------- batch members


def test_batch_members_are_the_members_own_statements() -> None:
    assert render_batch_members([_INS, _UPD, _DEL]) == [
        ("INSERT INTO t (k, v) VALUES (?, ?)", [1, "a"]),
        ("UPDATE t SET c = c + ? WHERE k = ?", [1, 2]),
        ("DELETE FROM t WHERE k = ?", [3]),
    ]


def test_batch_timestamp_dates_each_member_in_its_own_text() -> None:
    ts = 1_700_000_000_000_000
    with_ttl = InsertStatement("t", values=[("k", 4)], ttl=5)
    assert render_batch_members([_INS, _UPD, _DEL, with_ttl], timestamp=ts) == [
        ("INSERT INTO t (k, v) VALUES (?, ?) USING TIMESTAMP ?", [1, "a", ts]),
        ("UPDATE t USING TIMESTAMP ? SET c = c + ? WHERE k = ?", [ts, 1, 2]),
        ("DELETE FROM t USING TIMESTAMP ? WHERE k = ?", [ts, 3]),
        ("INSERT INTO t (k) VALUES (?) USING TTL ? AND TIMESTAMP ?", [4, 5, ts]),
    ]
    assert _INS.timestamp is None and with_ttl.timestamp is None  # the queued statements are left alone


def test_a_member_keeps_its_own_timestamp_and_conditions_without_a_batch_timestamp() -> None:
    own = InsertStatement("t", values=[("k", 1)], ttl=5, timestamp=6)
    cond = UpdateStatement("t", assignments=[SetAssignment("v", 2)], where=K, if_exists=True)
    assert render_batch_members([own, cond]) == [
        ("INSERT INTO t (k) VALUES (?) USING TTL ? AND TIMESTAMP ?", [1, 5, 6]),
        ("UPDATE t SET v = ? WHERE k = ? IF EXISTS", [2, 1]),
    ]


def test_member_texts_do_not_depend_on_the_batch_size() -> None:
    def insert(k: int, v: Any) -> InsertStatement:
        return InsertStatement("t", values=[("k", k)] + ([("v", v)] if v is not None else []))

    texts: set[str] = set()
    for size in (1, 5, 50):
        members = render_batch_members([insert(k, None if k % 3 else "x") for k in range(size)])
        assert len(members) == size
        texts.update(cql for cql, _ in members)
    assert texts == {"INSERT INTO t (k) VALUES (?)", "INSERT INTO t (k, v) VALUES (?, ?)"}


@settings(max_examples=200)
@given(batch_members(SAFE_NAME), st.data())
def test_each_batch_member_renders_as_it_would_alone(drawn: tuple[list[Builder], bool], data: st.DataObject) -> None:
    builders, has_ts = drawn
    supplier = Supplier(data, PAYLOAD)
    members = build_all(builders, supplier)
    ts = data.draw(st.integers(-(2**63), 2**63 - 1)) if has_ts else None
    rendered = render_batch_members(members, timestamp=ts)
    assert rendered == [(m if ts is None else replace(m, timestamp=ts)).render() for m in members]
    for (cql, params), member in zip(rendered, members):
        assert "'" not in cql and "DROP TABLE x" not in cql
        assert cql.count("?") == len(params)
        assert ("TIMESTAMP ?" in cql) == (ts is not None or member.timestamp is not None)
