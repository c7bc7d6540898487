"""DDL rendering: CQL text for keyspaces, tables, views, indexes and user types. Pure, like :mod:`cqlengine.statements`.

Every function takes names, CQL types (as text) and option values, and
returns the statement text. Identifiers go through
:func:`~cqlengine.statements.quote_identifier`, user type names inside a
type included. Cassandra binds no parameter in DDL, so option values are
written into the text by :func:`cql_literal`, the one place that renders a
value into CQL.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from cqlengine.exceptions import CQLEngineException
from cqlengine.statements import qualified_table, quote_identifier

__all__ = [
    "ColumnDef",
    "ViewSpec",
    "add_column",
    "alter_table_options",
    "alter_type_add_field",
    "column_definition",
    "cql_literal",
    "create_index",
    "create_keyspace",
    "create_table",
    "create_type",
    "create_view",
    "drop_keyspace",
    "drop_table",
    "drop_type",
    "drop_view",
    "normalize_type",
    "options_clause",
    "parse_type",
    "render_type",
    "view_where",
]


# --------------------------------------------------------------------------- literals


def cql_literal(value: Any) -> str:
    """Render ``value`` as a CQL literal for DDL.

    Cassandra cannot bind parameters in DDL (``CREATE TABLE ... WITH comment
    = ?`` is a syntax error), so table options, replication maps and the
    index class name must be written into the statement text. This function
    is the only place the library renders a value into CQL: strings are
    single-quoted with embedded quotes doubled, numbers and booleans are
    written as CQL constants, mappings as ``{'k': v}``. Anything else (None,
    lists, NaN, infinities, other objects) is refused rather than guessed at.
    """
    # The base types' own methods render subclasses too: a subclass's __repr__ or replace
    # could put anything into the text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise CQLEngineException(f"Cannot render {value!r} as a CQL literal in DDL")
        return float.__repr__(value)
    if isinstance(value, str):
        return "'" + str.replace(value, "'", "''") + "'"
    if isinstance(value, Mapping):
        items = ", ".join(f"{cql_literal(k)}: {cql_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise CQLEngineException(
        f"Cannot render {value!r} ({type(value).__name__}) as a CQL literal in DDL: "
        "use a str, int, float, bool or a dict of those"
    )


# --------------------------------------------------------------------------- types

_NATIVE_TYPES = frozenset(
    "ascii bigint blob boolean counter date decimal double duration float inet int smallint text "
    "time timestamp timeuuid tinyint uuid varchar varint list set map tuple frozen vector".split()
)
_TYPE_TOKEN = re.compile(r'\s*(?:("(?:[^"]|"")*")|([A-Za-z_][A-Za-z0-9_]*)|(-?\d+)|([<>,]))')

# (name, quoted, args): name is lower-cased unless it was quoted.
TypeNode = tuple[str, bool, tuple[Any, ...]]


def parse_type(text: str) -> TypeNode:
    """A CQL type as ``(name, quoted, args)`` nodes: ``map<text, frozen<list<int>>>`` and the like."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TYPE_TOKEN.match(text, pos)
        if m is None:
            raise ValueError(text)
        quoted, ident, number, punct = m.groups()
        if quoted is not None:
            tokens.append(("q", quoted[1:-1].replace('""', '"')))
        elif ident is not None:
            tokens.append(("i", ident.lower()))
        elif number is not None:
            tokens.append(("n", number))
        else:
            tokens.append(("p", punct))
        pos = m.end()
    node, rest = _parse_node(tokens, 0)
    if rest != len(tokens):
        raise ValueError(text)
    return node


def _parse_node(tokens: list[tuple[str, str]], i: int) -> tuple[TypeNode, int]:
    kind, value = tokens[i]
    if kind == "p":
        raise ValueError(value)
    i += 1
    args: list[TypeNode] = []
    if i < len(tokens) and tokens[i] == ("p", "<"):
        i += 1
        while True:
            arg, i = _parse_node(tokens, i)
            args.append(arg)
            sep = tokens[i][1]
            i += 1
            if sep == ">":
                break
            if sep != ",":
                raise ValueError(sep)
    return (value, kind == "q", tuple(args)), i


def _render_node(node: TypeNode, canonical: bool) -> str:
    name, quoted, args = node
    if canonical:
        if name == "varchar" and not quoted:
            name = "text"
        # Tuples are always frozen: system_schema says frozen<tuple<...>>
        # where the model says tuple<...>; both mean the same type.
        if name == "frozen" and not quoted and len(args) == 1 and args[0][0] == "tuple" and not args[0][1]:
            return _render_node(args[0], canonical)
    # A vector's dimension is a bare number; a quoted name is always a user type's, even "1".
    bare = not quoted and (name in _NATIVE_TYPES or name.isdigit() or name.startswith("-"))
    head = name if bare else quote_identifier(name)
    if not args:
        return head
    return head + "<" + ", ".join(_render_node(a, canonical) for a in args) + ">"


def render_type(cql_type: str) -> str:
    """A CQL type as written in DDL: user type names quoted through ``quote_identifier``."""
    try:
        return _render_node(parse_type(cql_type), canonical=False)
    except (ValueError, IndexError):
        return cql_type.strip()


def normalize_type(cql_type: str) -> str:
    """A canonical spelling for comparing a live type with a model's."""
    try:
        return _render_node(parse_type(cql_type), canonical=True)
    except (ValueError, IndexError):
        return " ".join(cql_type.split())


# --------------------------------------------------------------------------- clauses

# Option names are written bare (CQL reads a quoted one as another name): only this shape is let through.
_OPTION_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
_ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class ColumnDef:
    """One column of a CREATE TABLE or an ALTER TABLE ... ADD."""

    name: str
    type: str
    static: bool = False


def column_definition(column: ColumnDef) -> str:
    """``name type`` (``static`` appended for a static column)."""
    text = f"{quote_identifier(column.name)} {render_type(column.type)}"
    return text + " static" if column.static else text


def options_clause(options: Mapping[str, Any]) -> str:
    """``a = 1 AND b = 'x'``: table options in name order, values through :func:`cql_literal`."""
    parts = []
    for name in sorted(options):
        if not isinstance(name, str) or not _OPTION_NAME.match(name):
            raise CQLEngineException(f"Invalid table option name {name!r}")
        parts.append(f"{name} = {cql_literal(options[name])}")
    return " AND ".join(parts)


def _names(names: Sequence[str]) -> str:
    return ", ".join(quote_identifier(n) for n in names)


def _clustering_order(clustering: Sequence[tuple[str, str]]) -> str:
    parts = []
    for name, order in clustering:
        if str(order).lower() not in _ORDERS:
            raise CQLEngineException(f"Invalid clustering order {order!r} for column {name!r}: use 'asc' or 'desc'")
        parts.append(f"{quote_identifier(name)} {str(order).upper()}")
    return "CLUSTERING ORDER BY (" + ", ".join(parts) + ")"


# --------------------------------------------------------------------------- tables


def create_table(
    keyspace: Optional[str],
    table: str,
    columns: Sequence[ColumnDef],
    partition_key: Sequence[str],
    clustering: Sequence[tuple[str, str]] = (),
    options: Optional[Mapping[str, Any]] = None,
) -> str:
    """``CREATE TABLE``: ``clustering`` holds ``(name, 'asc' | 'desc')`` in key order."""
    if not partition_key:
        raise CQLEngineException(f"CREATE TABLE {table!r}: a table needs a partition key")
    key = "(" + _names(partition_key) + ")"
    if clustering:
        key += ", " + _names([name for name, _ in clustering])
    defs = [column_definition(c) for c in columns] + [f"PRIMARY KEY ({key})"]
    cql = f"CREATE TABLE {qualified_table(keyspace, table)} ({', '.join(defs)})"
    withs = []
    if clustering:
        withs.append(_clustering_order(clustering))
    if options:
        withs.append(options_clause(options))
    if withs:
        cql += " WITH " + " AND ".join(withs)
    return cql


def add_column(keyspace: Optional[str], table: str, column: ColumnDef) -> str:
    """``ALTER TABLE ... ADD`` one column."""
    return f"ALTER TABLE {qualified_table(keyspace, table)} ADD {column_definition(column)}"


def alter_table_options(keyspace: Optional[str], table: str, options: Mapping[str, Any]) -> str:
    """``ALTER TABLE ... WITH`` the options given."""
    if not options:
        raise CQLEngineException(f"ALTER TABLE {table!r} WITH needs at least one option")
    return f"ALTER TABLE {qualified_table(keyspace, table)} WITH {options_clause(options)}"


def drop_table(keyspace: Optional[str], table: str) -> str:
    return f"DROP TABLE IF EXISTS {qualified_table(keyspace, table)}"


# --------------------------------------------------------------------------- materialized views


@dataclass(frozen=True)
class ViewSpec:
    """A materialized view as declared: what ``CREATE MATERIALIZED VIEW`` says, names unquoted.

    ``columns`` are the selected columns (the key's first); ``clustering_orders`` hold ``"ASC"`` or
    ``"DESC"``, one per clustering column; ``where`` is the view's filter as CQL (each key column
    ``IS NOT NULL``, see :func:`view_where`); ``types`` the CQL type of each column of ``columns``.
    """

    name: str
    base_table: str
    columns: tuple[str, ...]
    partition_key: tuple[str, ...]
    clustering_key: tuple[str, ...] = ()
    clustering_orders: tuple[str, ...] = ()
    where: str = ""
    types: tuple[str, ...] = ()


def view_where(key_columns: Sequence[str]) -> str:
    """``a IS NOT NULL AND b IS NOT NULL``: the filter Cassandra requires on each view key column."""
    return " AND ".join(f"{quote_identifier(name)} IS NOT NULL" for name in key_columns)


def create_view(keyspace: Optional[str], spec: ViewSpec) -> str:
    """``CREATE MATERIALIZED VIEW IF NOT EXISTS`` of ``spec``, over its base table in the same keyspace."""
    if not spec.partition_key:
        raise CQLEngineException(f"CREATE MATERIALIZED VIEW {spec.name!r}: a view needs a partition key")
    if len(spec.clustering_orders) != len(spec.clustering_key):
        raise CQLEngineException(f"CREATE MATERIALIZED VIEW {spec.name!r}: one clustering order per "
                                 f"clustering column ({spec.clustering_key} / {spec.clustering_orders})")
    key = "(" + _names(spec.partition_key) + ")"
    if spec.clustering_key:
        key += ", " + _names(spec.clustering_key)
    where = spec.where or view_where([*spec.partition_key, *spec.clustering_key])
    cql = (f"CREATE MATERIALIZED VIEW IF NOT EXISTS {qualified_table(keyspace, spec.name)} AS "
           f"SELECT {_names(spec.columns)} FROM {qualified_table(keyspace, spec.base_table)} "
           f"WHERE {where} PRIMARY KEY ({key})")
    if spec.clustering_key:
        cql += " WITH " + _clustering_order(list(zip(spec.clustering_key, spec.clustering_orders)))
    return cql


def drop_view(keyspace: Optional[str], spec: ViewSpec) -> str:
    """``DROP MATERIALIZED VIEW IF EXISTS``."""
    return f"DROP MATERIALIZED VIEW IF EXISTS {qualified_table(keyspace, spec.name)}"


# --------------------------------------------------------------------------- indexes


def create_index(
    keyspace: Optional[str],
    table: str,
    column: str,
    *,
    full: bool = False,
    using: Optional[str] = None,
    options: Optional[Mapping[str, Any]] = None,
) -> str:
    """``CREATE INDEX`` on ``column``, or ``CREATE CUSTOM INDEX ... USING`` the class ``using`` names.

    ``full`` indexes a frozen collection as a whole value; ``options`` (a
    custom index's, such as SAI's ``similarity_function``) go in ``WITH OPTIONS``.
    """
    target = quote_identifier(column)
    if full:
        target = f"full({target})"
    where = qualified_table(keyspace, table)
    if using is None:
        if options:
            raise CQLEngineException(f"index on {table}.{column}: options need a custom index class (using=...)")
        return f"CREATE INDEX ON {where} ({target})"
    cql = f"CREATE CUSTOM INDEX ON {where} ({target}) USING {cql_literal(using)}"
    if options:
        cql += f" WITH OPTIONS = {cql_literal(dict(options))}"
    return cql


# --------------------------------------------------------------------------- user types


def create_type(keyspace: Optional[str], name: str, fields: Sequence[tuple[str, str]]) -> str:
    """``CREATE TYPE`` with ``(field name, CQL type)`` pairs in order."""
    body = ", ".join(f"{quote_identifier(n)} {render_type(t)}" for n, t in fields)
    return f"CREATE TYPE {qualified_table(keyspace, name)} ({body})"


def alter_type_add_field(keyspace: Optional[str], name: str, field: str, cql_type: str) -> str:
    """``ALTER TYPE ... ADD`` one field."""
    return f"ALTER TYPE {qualified_table(keyspace, name)} ADD {quote_identifier(field)} {render_type(cql_type)}"


def drop_type(keyspace: Optional[str], name: str) -> str:
    return f"DROP TYPE IF EXISTS {qualified_table(keyspace, name)}"


# --------------------------------------------------------------------------- keyspaces


def create_keyspace(name: str, replication: Mapping[str, Any], durable_writes: bool = True) -> str:
    """``CREATE KEYSPACE IF NOT EXISTS`` with a replication map (``{'class': ..., ...}``)."""
    return (f"CREATE KEYSPACE IF NOT EXISTS {quote_identifier(name)} WITH replication = "
            f"{cql_literal(replication)} AND durable_writes = {cql_literal(bool(durable_writes))}")


def drop_keyspace(name: str) -> str:
    return f"DROP KEYSPACE IF EXISTS {quote_identifier(name)}"
