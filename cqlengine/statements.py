"""The CQL compiler: statement objects that render ``(cql, params)``.

Pure: no I/O and no knowledge of models. Every value becomes a ``?`` bound
parameter (IN takes one marker bound to a list), and the CQL text depends
only on the statement's shape, so the driver prepares each shape once.
Every identifier goes through :func:`quote_identifier`.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, ClassVar, Union

from cqlengine.exceptions import QueryException
from cqlengine.functions import BaseFunction, Token

__all__ = [
    "RESERVED_KEYWORDS",
    "AddAssignment",
    "BaseStatement",
    "ConditionClause",
    "DeleteStatement",
    "InsertStatement",
    "ItemAssignment",
    "PrependAssignment",
    "RemoveAssignment",
    "SelectStatement",
    "SetAssignment",
    "TokenWhereClause",
    "UpdateStatement",
    "WhereClause",
    "qualified_table",
    "quote_identifier",
    "render_batch_members",
    "without_literals",
]

Rendered = tuple[str, list]

# ---------------------------------------------------------------- identifiers

#: Words that are never left unquoted: the CQL3 reserved keywords, plus
#: non-reserved keywords and type names that clash in some versions or
#: contexts. Quoting a lower-case name never changes its meaning, so the
#: list errs on the generous side.
RESERVED_KEYWORDS = frozenset(
    {
        # CQL3 reserved keywords
        "add", "aggregate", "all", "allow", "alter", "and", "apply", "asc",
        "authorize", "batch", "begin", "by", "columnfamily", "create", "delete",
        "desc", "describe", "drop", "entries", "execute", "from", "full", "grant",
        "if", "in", "index", "infinity", "insert", "into", "is", "keyspace",
        "limit", "materialized", "mbean", "mbeans", "modify", "nan", "norecursive",
        "not", "null", "of", "on", "or", "order", "primary", "rename", "replace",
        "revoke", "schema", "select", "set", "table", "to", "token", "truncate",
        "unlogged", "unset", "update", "use", "using", "view", "where", "with",
        # non-reserved keywords and type names
        "access", "ann", "as", "ascii", "between", "bigint", "blob", "boolean",
        "called", "cast", "cidrs", "clustering", "compact", "contains", "count",
        "counter", "custom", "datacenters", "date", "decimal", "default",
        "deterministic", "distinct", "double", "duration", "exists", "filtering",
        "finalfunc", "float", "frozen", "function", "functions", "group", "hashed",
        "inet", "initcond", "input", "int", "json", "key", "keys", "keyspaces",
        "language", "like", "list", "literal", "login", "map", "mask", "monotonic",
        "nosuperuser", "options", "partition", "password", "per", "permission",
        "permissions", "returns", "role", "roles", "sfunc", "smallint", "static",
        "storage", "stype", "superuser", "text", "time", "timestamp", "timeuuid",
        "tinyint", "trigger", "ttl", "tuple", "type", "types", "unmask", "user",
        "users", "uuid", "values", "varchar", "varint", "vector", "writetime",
    }
)

_PLAIN_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")


def quote_identifier(name: str) -> str:
    """Render a column/table/keyspace name as CQL.

    Lower-case names that are not keywords stay bare; anything else is
    double-quoted (embedded ``"`` doubled), which keeps case and is always safe.
    """
    if not isinstance(name, str) or not name:
        raise QueryException(f"Invalid CQL identifier: {name!r}")
    return _quote(name)


@lru_cache(maxsize=4096)
def _quote(name: str) -> str:
    # Memoized: every render quotes the same few names again.
    if _PLAIN_IDENTIFIER.match(name) and name not in RESERVED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified_table(keyspace: str | None, table: str) -> str:
    """``ks.tbl`` with each part quoted, or just ``tbl`` without a keyspace."""
    if keyspace:
        return f"{quote_identifier(keyspace)}.{quote_identifier(table)}"
    return quote_identifier(table)


# ---------------------------------------------------------------- logging

_LITERAL = re.compile(
    r"""
      (?P<ident>"(?:[^"]|"")*")                                  # a quoted identifier: kept
    | (?P<comment>--[^\n]*|//[^\n]*|/\*.*?\*/)                   # a comment: dropped (it may hold anything)
    | '(?:[^']|'')*'                                             # a string
    | \$\$.*?\$\$                                                  # a dollar-quoted string
    | \b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b     # a uuid
    | \b0[xX][0-9a-fA-F]*\b                                       # a blob
    | (?-i:(?<![\w.])-?P(?=[\dT])[\dYMWDTHS:.-]*(?![\w.]))        # an ISO 8601 duration (P3Y6M4DT12H30M5S)
    | (?<![\w.])-?(?:\d+(?:mo|ms|us|µs|ns|[ywdhms]))+(?![\w.])     # a duration (12h30m)
    | (?<![\w.])-?(?:NaN|Infinity)\b                               # a non-finite float
    | (?<![\w.])-?\d+\.?\d*(?:[eE][+-]?\d+)?(?![\w.])             # a number (1, -1.5, 3., 3.e5, 1e9)
    """,
    re.VERBOSE | re.DOTALL | re.IGNORECASE,
)


@lru_cache(maxsize=1024)
def without_literals(cql: str) -> str:
    """``cql`` with every literal value (string, number, uuid, blob) shown as ``?``: what may be logged.

    Statements of this package carry no literal (every value is bound);
    CQL written by a caller may (``CREATE ROLE r WITH PASSWORD = 'secret'``).
    """
    return _LITERAL.sub(lambda m: m.group("ident") or ("" if m.group("comment") else "?"), cql)


# ---------------------------------------------------------------- values


def _bind(value: Any) -> Rendered:
    """Marker text and params for one value; functions render their own markers."""
    if isinstance(value, BaseFunction):
        return value.marker, list(value.params)
    return "?", [value]


def _normalize_operator(operator: str, allowed: frozenset, what: str) -> str:
    # Accept "contains key" / "Contains  Key" but render one canonical spelling.
    op = " ".join(str(operator).upper().split())
    if op not in allowed:
        raise QueryException(
            f"Unknown operator {operator!r} in {what}; expected one of {sorted(allowed)}"
        )
    return op


def _check_in_value(column: str, value: Any) -> None:
    # IN binds a single list; a string or mapping here is almost surely a bug.
    if isinstance(value, (str, bytes, bytearray, Mapping, BaseFunction)) or not isinstance(
        value, Collection
    ):
        raise QueryException(
            f"IN on column {column!r} needs a list, tuple or set of values, got {value!r}"
        )


def _check_int(option: str, value: Any, minimum: int) -> None:
    # bool is an int subclass, but LIMIT True is never what was meant.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise QueryException(f"{option} must be an integer >= {minimum}, got {value!r}")


# ---------------------------------------------------------------- shapes

#: CQL text by statement shape: everything the text depends on, never a value. A shape seen
#: once renders from here after; a bad shape raises while it is built, so it is never kept.
#: Bounded: an application has a few shapes per model, far below the bound.
_TEXTS: dict[tuple, str] = {}
_TEXTS_MAX = 4096


def _text_of(shape: tuple, build: Any) -> str:
    """The CQL text of ``shape``, built by ``build()`` the first time."""
    text = _TEXTS.get(shape)
    if text is None:
        text = build()
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        _TEXTS[shape] = text
    return text


def _plain(values: Iterable[Any]) -> bool:
    """Whether every value binds as one ``?`` (no function renders its own markers)."""
    for value in values:
        if isinstance(value, BaseFunction):
            return False
    return True


# ---------------------------------------------------------------- relations

WHERE_OPERATORS = frozenset({"=", "IN", "<", "<=", ">", ">=", "CONTAINS", "CONTAINS KEY", "LIKE"})
# LWT conditions (IF ...) take != but not LIKE.
CONDITION_OPERATORS = frozenset({"=", "!=", "IN", "<", "<=", ">", ">=", "CONTAINS", "CONTAINS KEY"})
TOKEN_OPERATORS = frozenset({"=", "<", "<=", ">", ">="})


@dataclass(frozen=True)
class WhereClause:
    """``column <operator> ?`` in a WHERE clause; IN binds one list value."""

    column: str
    operator: str
    value: Any

    operators: ClassVar[frozenset] = WHERE_OPERATORS

    def __post_init__(self) -> None:
        op = self.operator
        if op not in self.operators:  # not already in its canonical spelling
            op = _normalize_operator(op, self.operators, type(self).__name__)
            object.__setattr__(self, "operator", op)
        if op == "IN":
            _check_in_value(self.column, self.value)

    def render(self) -> Rendered:
        marker, params = _bind(self.value)
        return f"{quote_identifier(self.column)} {self.operator} {marker}", params


@dataclass(frozen=True)
class ConditionClause(WhereClause):
    """``column <operator> ?`` in a lightweight transaction's IF clause."""

    operators: ClassVar[frozenset] = CONDITION_OPERATORS


@dataclass(frozen=True)
class TokenWhereClause:
    """``token(a, b) <operator> token(?, ?)`` over the partition key columns.

    ``value`` is a :class:`~cqlengine.functions.Token`, a tuple/list of
    partition key values, or a raw token number (rendered ``?``).
    """

    columns: Sequence[str]
    operator: str
    value: Any

    def __post_init__(self) -> None:
        columns = (self.columns,) if isinstance(self.columns, str) else tuple(self.columns)
        if not columns:
            raise QueryException("A token relation needs at least one partition key column")
        object.__setattr__(self, "columns", columns)
        op = _normalize_operator(self.operator, TOKEN_OPERATORS, "TokenWhereClause")
        object.__setattr__(self, "operator", op)
        value = self.value
        if isinstance(value, (tuple, list)):
            value = Token(list(value))  # one list: unambiguous even if a value is a list
            object.__setattr__(self, "value", value)
        if isinstance(value, Token) and len(value.params) != len(columns):
            raise QueryException(
                f"token({', '.join(columns)}) compared with {value!r}: "
                f"expected {len(columns)} values, got {len(value.params)}"
            )

    def render(self) -> Rendered:
        marker, params = _bind(self.value)
        columns = ", ".join(quote_identifier(c) for c in self.columns)
        return f"token({columns}) {self.operator} {marker}", params


# Union (not X | Y): runtime aliases must work on Python 3.9.
Relation = Union[WhereClause, TokenWhereClause]


def _render_relations(keyword: str, relations: Iterable[Relation]) -> Rendered:
    """`` WHERE a = ? AND b IN ?`` (or `` IF ...``), or empty when there are none."""
    texts: list[str] = []
    params: list = []
    for relation in relations:
        text, relation_params = relation.render()
        texts.append(text)
        params.extend(relation_params)
    if not texts:
        return "", []
    return f" {keyword} " + " AND ".join(texts), params


# ---------------------------------------------------------------- assignments


@dataclass(frozen=True)
class SetAssignment:
    """``c = ?``

    ``idempotent=False`` marks an assignment that changes the row again each
    time it runs (a counter increment, a list append or prepend), so its
    statement is never retried by the driver.
    """

    column: str
    value: Any
    idempotent: bool = True

    #: The assignment's shape: ``{c}`` is the quoted column, ``{m}`` the value's marker.
    template: ClassVar[str] = "{c} = {m}"

    def render(self) -> Rendered:
        marker, params = _bind(self.value)
        return self.template.format(c=quote_identifier(self.column), m=marker), params


@dataclass(frozen=True)
class AddAssignment(SetAssignment):
    """``c = c + ?``: list append, set add, map merge, counter increment."""

    template: ClassVar[str] = "{c} = {c} + {m}"


@dataclass(frozen=True)
class PrependAssignment(SetAssignment):
    """``c = ? + c``: list prepend."""

    template: ClassVar[str] = "{c} = {m} + {c}"


@dataclass(frozen=True)
class RemoveAssignment(SetAssignment):
    """``c = c - ?``: list/set element removal, map key removal (set of keys), counter decrement."""

    template: ClassVar[str] = "{c} = {c} - {m}"


@dataclass(frozen=True)
class ItemAssignment:
    """``c[?] = ?``: set one map key or list index."""

    column: str
    key: Any
    value: Any

    def render(self) -> Rendered:
        key_marker, key_params = _bind(self.key)
        marker, params = _bind(self.value)
        return f"{quote_identifier(self.column)}[{key_marker}] = {marker}", key_params + params


Assignment = Union[SetAssignment, ItemAssignment]

#: Assignments that bind exactly their one value.
_ONE_VALUE_ASSIGNMENTS = (SetAssignment, AddAssignment, PrependAssignment, RemoveAssignment)

# ---------------------------------------------------------------- statements


def _render_using(ttl: int | None, timestamp: int | None) -> Rendered:
    """`` USING TTL ? AND TIMESTAMP ?`` with whichever options are present."""
    texts: list[str] = []
    params: list = []
    if ttl is not None:
        _check_int("TTL", ttl, 0)
        texts.append("TTL ?")
        params.append(ttl)
    if timestamp is not None:
        _check_int("TIMESTAMP", timestamp, -(2**63))
        texts.append("TIMESTAMP ?")
        params.append(timestamp)
    if not texts:
        return "", []
    return " USING " + " AND ".join(texts), params


def _render_conditions(
    statement: str, if_exists: bool, conditions: Sequence[ConditionClause], timestamp: int | None
) -> Rendered:
    """`` IF EXISTS`` / `` IF a = ? AND ...`` for UPDATE and DELETE."""
    if if_exists and conditions:
        raise QueryException(f"{statement}: use either IF EXISTS or IF conditions, not both")
    if (if_exists or conditions) and timestamp is not None:
        raise QueryException(
            f"{statement}: Cassandra refuses a custom TIMESTAMP on a conditional (IF) statement"
        )
    if if_exists:
        return " IF EXISTS", []
    return _render_relations("IF", conditions)


class BaseStatement:
    """A CQL statement; ``render()`` gives ``(cql, params)``."""

    table: str
    keyspace: str | None

    def render(self) -> Rendered:
        raise NotImplementedError

    @property
    def is_conditional(self) -> bool:
        """Whether this is a lightweight transaction (returns ``[applied]``)."""
        return False

    @property
    def is_idempotent(self) -> bool:
        """Whether running it twice leaves what running it once does, so the driver may retry it.

        A lightweight transaction is not (a retry can report a write that
        applied as not applied), nor is any non-idempotent assignment.
        """
        return not self.is_conditional

    def __str__(self) -> str:
        return self.render()[0]


#: The similarity functions of vector search, ``similarity_<name>(column, vector)``.
SIMILARITY_FUNCTIONS = ("cosine", "euclidean", "dot_product")
#: The name a ``similarity`` selector is given in the results.
SCORE = "cqlengine_score"


@dataclass
class SelectStatement(BaseStatement):
    """``SELECT [DISTINCT] fields FROM t WHERE .. ORDER BY .. PER PARTITION LIMIT ? LIMIT ? ALLOW FILTERING``.

    ``fields=None`` selects ``*``; ``count=True`` selects ``COUNT(*)`` (fields
    are then ignored). ``order_by`` items are ``(column, 'ASC'|'DESC')`` or a
    bare column name (ascending). ``writetime_of`` / ``ttl_of`` add
    ``WRITETIME(c)`` / ``TTL(c)`` selectors after the fields, and
    ``token_of`` (the partition key columns) a last ``token(a, b)`` selector.
    ``ann_of`` ``(column, vector)`` orders by ``column ANN OF ?`` (in place of
    ``order_by``); ``similarity`` ``(function, column, vector)`` adds a last
    selector ``similarity_<function>(column, ?) AS score`` (see ``SCORE``).
    """

    table: str
    keyspace: str | None = None
    fields: Sequence[str] | None = None
    where: Sequence[Relation] = ()
    order_by: Sequence[str | tuple[str, str]] = ()
    limit: int | None = None
    per_partition_limit: int | None = None
    allow_filtering: bool = False
    distinct: bool = False
    count: bool = False
    writetime_of: Sequence[str] = ()
    ttl_of: Sequence[str] = ()
    token_of: Sequence[str] = ()
    ann_of: tuple[str, Any] | None = None
    similarity: tuple[str, str, Any] | None = None
    #: ``(function, column or None for *, alias)`` selectors after the fields: ``SUM("x") AS "total"``.
    aggregates: Sequence[tuple[str, str | None, str]] = ()
    group_by: Sequence[str] = ()

    def _selectors(self) -> str:
        if self.aggregates:
            return ", ".join([quote_identifier(f) for f in self.fields or ()]
                             + [_aggregate_selector(*a) for a in self.aggregates])
        if self.count:
            if self.distinct:
                raise QueryException("SELECT COUNT(*) cannot be combined with DISTINCT")
            return "COUNT(*)"
        selectors = [quote_identifier(f) for f in self.fields or ()]
        selectors += [f"WRITETIME({quote_identifier(c)})" for c in self.writetime_of]
        selectors += [f"TTL({quote_identifier(c)})" for c in self.ttl_of]
        if self.token_of:
            selectors.append(f"token({', '.join(quote_identifier(c) for c in self.token_of)})")
        if self.similarity is not None:
            function, column, _ = self.similarity
            if function not in SIMILARITY_FUNCTIONS:
                raise QueryException(f"similarity: {function!r} is not one of {', '.join(SIMILARITY_FUNCTIONS)}")
            selectors.append(f"similarity_{function}({quote_identifier(column)}, ?) AS {SCORE}")
        if self.fields is None:
            if selectors or self.distinct:
                # CQL has no "*, WRITETIME(c)" nor "DISTINCT *".
                raise QueryException(
                    "DISTINCT, WRITETIME, TTL and token selectors need an explicit list of fields"
                )
            return "*"
        if not selectors:
            raise QueryException("SELECT needs at least one field (use fields=None for *)")
        return ", ".join(selectors)

    def _order_by(self) -> str:
        if self.ann_of is not None:
            if self.order_by:
                raise QueryException("ORDER BY ... ANN OF cannot be combined with another ordering")
            return f" ORDER BY {quote_identifier(self.ann_of[0])} ANN OF ?"
        items = []
        for item in self.order_by:
            column, direction = (item, "ASC") if isinstance(item, str) else item
            direction = str(direction).upper()
            if direction not in ("ASC", "DESC"):
                raise QueryException(
                    f"ORDER BY {column!r}: direction must be ASC or DESC, got {direction!r}"
                )
            items.append(f"{quote_identifier(column)} {direction}")
        return " ORDER BY " + ", ".join(items) if items else ""

    def render(self) -> Rendered:
        distinct = "DISTINCT " if self.distinct else ""
        cql = f"SELECT {distinct}{self._selectors()} FROM {qualified_table(self.keyspace, self.table)}"
        where, params = _render_relations("WHERE", self.where)
        if self.similarity is not None and not self.count:
            params.insert(0, self.similarity[2])  # the selector's marker comes first in the text
        if self.group_by:
            where += " GROUP BY " + ", ".join(quote_identifier(c) for c in self.group_by)
        cql += where + self._order_by()
        if self.ann_of is not None:
            params.append(self.ann_of[1])
        if self.per_partition_limit is not None:
            _check_int("PER PARTITION LIMIT", self.per_partition_limit, 1)
            cql += " PER PARTITION LIMIT ?"
            params.append(self.per_partition_limit)
        if self.limit is not None:
            _check_int("LIMIT", self.limit, 1)
            cql += " LIMIT ?"
            params.append(self.limit)
        if self.allow_filtering:
            cql += " ALLOW FILTERING"
        return cql, params


#: The aggregate functions of CQL a SELECT may name.
AGGREGATE_FUNCTIONS = ("COUNT", "SUM", "AVG", "MIN", "MAX")


def _aggregate_selector(function: str, column: str | None, alias: str) -> str:
    if function not in AGGREGATE_FUNCTIONS:
        raise QueryException(f"aggregate {function!r} is not one of {', '.join(AGGREGATE_FUNCTIONS)}")
    if column is None and function != "COUNT":
        raise QueryException(f"{function} needs a column (only COUNT counts rows)")
    argument = "*" if column is None else quote_identifier(column)
    return f"{function}({argument}) AS {quote_identifier(alias)}"


@dataclass
class InsertStatement(BaseStatement):
    """``INSERT INTO t (a, b) VALUES (?, ?) [IF NOT EXISTS] [USING TTL ? AND TIMESTAMP ?]``."""

    table: str
    keyspace: str | None = None
    values: Sequence[tuple[str, Any]] | Mapping[str, Any] = ()
    if_not_exists: bool = False
    ttl: int | None = None
    timestamp: int | None = None

    @property
    def is_conditional(self) -> bool:
        return self.if_not_exists

    def render(self) -> Rendered:
        values = self.values
        pairs = list(values) if isinstance(values, (list, tuple)) else list(
            values.items() if isinstance(values, Mapping) else values)
        params = [value for _, value in pairs]
        if not _plain(params):
            return self._render(pairs)
        using, using_params = _render_using(self.ttl, self.timestamp)
        # A list made and then frozen: one call where a generator would resume once per column.
        columns = tuple([column for column, _ in pairs])
        shape = ("INSERT", self.keyspace, self.table, columns, self.if_not_exists, using)
        cql = _text_of(shape, lambda: self._render(pairs)[0])
        return cql, params + using_params

    def _render(self, pairs: list[tuple[str, Any]]) -> Rendered:
        if not pairs:
            raise QueryException(f"INSERT INTO {self.table}: no values to insert")
        columns = [column for column, _ in pairs]
        if len(set(columns)) != len(columns):
            raise QueryException(f"INSERT INTO {self.table}: a column is given twice in {columns}")
        if self.if_not_exists and self.timestamp is not None:
            raise QueryException(
                f"INSERT INTO {self.table}: Cassandra refuses a custom TIMESTAMP with IF NOT EXISTS"
            )
        markers: list[str] = []
        params: list = []
        for _, value in pairs:
            marker, value_params = _bind(value)
            markers.append(marker)
            params.extend(value_params)
        cql = (
            f"INSERT INTO {qualified_table(self.keyspace, self.table)} "
            f"({', '.join(quote_identifier(c) for c in columns)}) VALUES ({', '.join(markers)})"
        )
        if self.if_not_exists:
            cql += " IF NOT EXISTS"
        using, using_params = _render_using(self.ttl, self.timestamp)
        return cql + using, params + using_params


@dataclass
class UpdateStatement(BaseStatement):
    """``UPDATE t [USING TTL ? AND TIMESTAMP ?] SET ... WHERE ... [IF EXISTS | IF cond AND ...]``."""

    table: str
    keyspace: str | None = None
    assignments: Sequence[Assignment] = ()
    where: Sequence[Relation] = ()
    ttl: int | None = None
    timestamp: int | None = None
    if_exists: bool = False
    conditions: Sequence[ConditionClause] = ()

    @property
    def is_conditional(self) -> bool:
        return bool(self.if_exists or self.conditions)

    @property
    def is_idempotent(self) -> bool:
        return not self.is_conditional and all(getattr(a, "idempotent", True) for a in self.assignments)

    def render(self) -> Rendered:
        shape = self._shape()
        if shape is None:
            return self._render()
        using, params = _render_using(self.ttl, self.timestamp)
        for assignment in self.assignments:
            params.append(assignment.value)
        for relation in self.where:
            params.append(relation.value)
        for condition in self.conditions:
            params.append(condition.value)
        return _text_of(shape, lambda: self._render()[0]), params

    def _shape(self) -> tuple | None:
        """What the text depends on, when each assignment, relation and condition binds one plain value."""
        shape: list[Any] = ["UPDATE", self.keyspace, self.table, self.ttl is not None, self.timestamp is not None,
                            self.if_exists]
        for assignment in self.assignments:
            if (not isinstance(assignment, SetAssignment) or type(assignment) not in _ONE_VALUE_ASSIGNMENTS
                    or isinstance(assignment.value, BaseFunction)):
                return None
            shape.append((assignment.template, assignment.column))
        for group in (self.where, self.conditions):
            shape.append(None)
            for relation in group:
                if not isinstance(relation, WhereClause) or isinstance(relation.value, BaseFunction):
                    return None  # a token relation renders its own markers
                shape.append((relation.column, relation.operator))
        return tuple(shape)

    def _render(self) -> Rendered:
        if not self.assignments:
            raise QueryException(f"UPDATE {self.table}: nothing to set")
        if not self.where:
            raise QueryException(f"UPDATE {self.table}: a WHERE clause is required")
        cql, params = _render_using(self.ttl, self.timestamp)
        cql = f"UPDATE {qualified_table(self.keyspace, self.table)}{cql} SET "
        texts = []
        for assignment in self.assignments:
            text, assignment_params = assignment.render()
            texts.append(text)
            params.extend(assignment_params)
        cql += ", ".join(texts)
        for text, clause_params in (
            _render_relations("WHERE", self.where),
            _render_conditions("UPDATE " + self.table, self.if_exists, self.conditions, self.timestamp),
        ):
            cql += text
            params.extend(clause_params)
        return cql, params


@dataclass
class DeleteStatement(BaseStatement):
    """``DELETE [a, m[?]] FROM t [USING TIMESTAMP ?] WHERE ... [IF EXISTS | IF ...]``.

    ``columns`` empty deletes the whole row; an entry ``(column, key)``
    deletes one map key or list index.
    """

    table: str
    keyspace: str | None = None
    columns: Sequence[str | tuple[str, Any]] = ()
    where: Sequence[Relation] = ()
    timestamp: int | None = None
    if_exists: bool = False
    conditions: Sequence[ConditionClause] = ()

    @property
    def is_conditional(self) -> bool:
        return bool(self.if_exists or self.conditions)

    @property
    def is_idempotent(self) -> bool:
        # ``DELETE l[?]`` removes the element at an index, which a first run shifts: never retried.
        return not self.is_conditional and all(isinstance(column, str) for column in self.columns)

    def render(self) -> Rendered:
        if not self.where:
            raise QueryException(f"DELETE FROM {self.table}: a WHERE clause is required")
        targets: list[str] = []
        params: list = []
        for column in self.columns:
            if isinstance(column, str):
                targets.append(quote_identifier(column))
            else:
                name, key = column
                marker, key_params = _bind(key)
                targets.append(f"{quote_identifier(name)}[{marker}]")
                params.extend(key_params)
        cql = "DELETE " + ", ".join(targets) + " " if targets else "DELETE "
        cql += f"FROM {qualified_table(self.keyspace, self.table)}"
        for text, clause_params in (
            _render_using(None, self.timestamp),
            _render_relations("WHERE", self.where),
            _render_conditions("DELETE FROM " + self.table, self.if_exists, self.conditions, self.timestamp),
        ):
            cql += text
            params.extend(clause_params)
        return cql, params


Mutation = Union[InsertStatement, UpdateStatement, DeleteStatement]

#: The kinds of batch, as the driver's ``cassandra.query.BatchType`` names them.
BATCH_TYPES = ("LOGGED", "UNLOGGED", "COUNTER")


def render_batch_members(members: Sequence[Mutation], timestamp: int | None = None) -> list[Rendered]:
    """The ``(cql, params)`` of each member of a batch, in order.

    A batch is sent as the driver's batch of its members' own prepared
    statements, so a member's text depends only on its own shape, never on
    the batch's size or its other members. A batch ``timestamp`` is rendered
    into every member as its own ``USING TIMESTAMP ?``, which is what
    Cassandra does with a batch-level timestamp. Under a batch timestamp a
    member with a timestamp of its own, or a conditional member, is refused,
    as Cassandra refuses both in a batch with a timestamp.
    """
    if not members:
        raise QueryException("Empty batch: there is nothing to send")
    rendered: list[Rendered] = []
    for member in members:
        if not isinstance(member, (InsertStatement, UpdateStatement, DeleteStatement)):
            raise QueryException(f"A batch holds only INSERT, UPDATE and DELETE statements, got {member!r}")
        if timestamp is not None:
            if member.timestamp is not None:
                raise QueryException(
                    "A statement in a batch with a batch-level timestamp cannot carry its own "
                    f"timestamp: {member!r}"
                )
            if member.is_conditional:
                raise QueryException("Cassandra refuses a custom TIMESTAMP on a conditional batch")
            member = replace(member, timestamp=timestamp)
        rendered.append(member.render())
    return rendered
