"""The live schema, read from ``system_schema`` with bound parameters.

These queries go through :func:`cqlengine.connection.execute` like any other
statement, so they see what the cluster has now, independent of when the
driver last refreshed its own metadata.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from cqlengine import connection as _connection

__all__ = [
    "ColumnInfo",
    "IndexInfo",
    "KeyspaceInfo",
    "TableInfo",
    "UserTypeInfo",
    "ViewInfo",
    "get_keyspace",
    "get_table",
    "get_user_types",
    "get_view",
    "index_target_column",
    "views_of_table",
]

SAI_CLASS = "StorageAttachedIndex"


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a live table."""

    name: str
    type: str
    kind: str = "regular"  # partition_key, clustering, regular or static
    position: int = -1
    clustering_order: str = "none"  # asc, desc or none


@dataclass(frozen=True)
class IndexInfo:
    """A secondary index: ``kind`` is COMPOSITES, KEYS or CUSTOM (SAI among them)."""

    name: str
    kind: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.options.get("target", "")

    @property
    def column(self) -> Optional[str]:
        """The column the index is on (``values(m)`` -> ``m``), or None for unknown targets."""
        return index_target_column(self.target)

    @property
    def target_kind(self) -> str:
        """``values``, ``keys``, ``entries``, ``full`` or ``plain`` (the column itself)."""
        text = self.target.strip()
        for fn in ("values", "keys", "entries", "full"):
            if text.startswith(fn + "(") and text.endswith(")"):
                return fn
        return "plain"

    @property
    def class_name(self) -> Optional[str]:
        return self.options.get("class_name")

    @property
    def is_sai(self) -> bool:
        name = self.class_name or ""
        return self.kind.upper() == "CUSTOM" and name.rsplit(".", 1)[-1] in (SAI_CLASS, "SAI")


@dataclass
class TableInfo:
    """A live table: columns by name, indexes by name, and its options."""

    keyspace: str
    name: str
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    indexes: dict[str, IndexInfo] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    #: column name -> CQL type of columns dropped from the table (Cassandra refuses to re-add
    #: one with a different type)
    dropped_columns: dict[str, str] = field(default_factory=dict)

    def _keys(self, kind: str) -> list[ColumnInfo]:
        return sorted((c for c in self.columns.values() if c.kind == kind), key=lambda c: c.position)

    @property
    def partition_key(self) -> list[ColumnInfo]:
        return self._keys("partition_key")

    @property
    def clustering_key(self) -> list[ColumnInfo]:
        return self._keys("clustering")

    def indexes_on(self, column: str) -> list[IndexInfo]:
        return [i for i in self.indexes.values() if i.column == column]


@dataclass
class ViewInfo(TableInfo):
    """A live materialized view: its columns (as a table's), base table and filter."""

    base_table: str = ""
    #: The view's WHERE clause as Cassandra keeps it (``email IS NOT NULL AND id IS NOT NULL``).
    where_clause: str = ""
    #: Made with ``SELECT *``: the view takes every column of its base, later ones included.
    include_all_columns: bool = False


@dataclass(frozen=True)
class UserTypeInfo:
    """A live user-defined type with its fields in order."""

    keyspace: str
    name: str
    field_names: tuple[str, ...] = ()
    field_types: tuple[str, ...] = ()

    @property
    def fields(self) -> dict[str, str]:
        return dict(zip(self.field_names, self.field_types))


@dataclass(frozen=True)
class KeyspaceInfo:
    """A live keyspace: its replication map (values as strings) and durable_writes."""

    name: str
    replication: dict[str, str] = field(default_factory=dict)
    durable_writes: bool = True


def index_target_column(target: str) -> Optional[str]:
    """The column name inside an index target: ``"Cap"``, ``values(m)``, ``full(f)``..."""
    text = target.strip()
    for fn in ("values", "keys", "entries", "full"):
        if text.startswith(fn + "(") and text.endswith(")"):
            text = text[len(fn) + 1 : -1].strip()
            break
    if not text or "," in text and not text.startswith('"'):
        return None  # a multi-column or unknown target (custom index types)
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return text[1:-1].replace('""', '"')
    return text


def _plain(value: Any) -> Any:
    # The driver returns OrderedMapSerializedKey / SortedSet: turn them into dict / list.
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)) or type(value).__name__ == "SortedSet":
        return [_plain(v) for v in value]
    return value


def get_keyspace(name: str, connection: Optional[str] = None) -> Optional[KeyspaceInfo]:
    """The live keyspace ``name`` or None."""
    row = _connection.execute(
        "SELECT keyspace_name, durable_writes, replication FROM system_schema.keyspaces "
        "WHERE keyspace_name = ?",
        [name], connection=connection,
    ).one()
    if row is None:
        return None
    return KeyspaceInfo(
        name=row["keyspace_name"],
        replication={str(k): str(v) for k, v in (row["replication"] or {}).items()},
        durable_writes=bool(row["durable_writes"]),
    )


def get_table(keyspace: str, table: str, connection: Optional[str] = None) -> Optional[TableInfo]:
    """The live table ``keyspace.table`` (names as stored, case-sensitive) or None."""
    params = [keyspace, table]
    row = _connection.execute(
        "SELECT * FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?",
        params, connection=connection,
    ).one()
    if row is None:
        return None
    skip = {"keyspace_name", "table_name", "id", "flags"}
    options = {k: _plain(v) for k, v in row.items() if k not in skip}
    info = TableInfo(keyspace=keyspace, name=table, options=options, columns=_columns(params, connection))
    for idx in _connection.execute(
        "SELECT index_name, kind, options FROM system_schema.indexes "
        "WHERE keyspace_name = ? AND table_name = ?",
        params, connection=connection,
    ):
        info.indexes[idx["index_name"]] = IndexInfo(
            name=idx["index_name"], kind=idx["kind"],
            options={str(k): str(v) for k, v in (idx["options"] or {}).items()},
        )
    for dropped in _connection.execute(
        "SELECT column_name, type FROM system_schema.dropped_columns WHERE keyspace_name = ? AND table_name = ?",
        params, connection=connection,
    ):
        if dropped["column_name"] not in info.columns:  # a column re-added since is live again
            info.dropped_columns[dropped["column_name"]] = dropped["type"]
    return info


def _columns(params: list[str], connection: Optional[str]) -> dict[str, ColumnInfo]:
    """The columns of the table or view ``params`` names (keyspace, name), by name."""
    out: dict[str, ColumnInfo] = {}
    for col in _connection.execute(
        "SELECT column_name, type, kind, position, clustering_order FROM system_schema.columns "
        "WHERE keyspace_name = ? AND table_name = ?",
        params, connection=connection,
    ):
        out[col["column_name"]] = ColumnInfo(
            name=col["column_name"], type=col["type"], kind=col["kind"],
            position=col["position"], clustering_order=(col["clustering_order"] or "none").lower(),
        )
    return out


def get_view(keyspace: str, view: str, connection: Optional[str] = None) -> Optional[ViewInfo]:
    """The live materialized view ``keyspace.view`` (names as stored, case-sensitive) or None."""
    params = [keyspace, view]
    row = _connection.execute(
        "SELECT * FROM system_schema.views WHERE keyspace_name = ? AND view_name = ?",
        params, connection=connection,
    ).one()
    if row is None:
        return None
    skip = {"keyspace_name", "view_name", "id", "base_table_id", "base_table_name", "include_all_columns",
            "where_clause"}
    return ViewInfo(
        keyspace=keyspace, name=view, columns=_columns(params, connection),
        options={k: _plain(v) for k, v in row.items() if k not in skip},
        base_table=row["base_table_name"], where_clause=row["where_clause"] or "",
        include_all_columns=bool(row["include_all_columns"]),
    )


def views_of_table(keyspace: str, table: str, connection: Optional[str] = None) -> list[str]:
    """The names of the live materialized views over ``keyspace.table``, sorted."""
    rows = _connection.execute(
        "SELECT view_name, base_table_name FROM system_schema.views WHERE keyspace_name = ?",
        [keyspace], connection=connection,
    )
    return sorted(row["view_name"] for row in rows if row["base_table_name"] == table)


def get_user_types(keyspace: str, connection: Optional[str] = None) -> dict[str, UserTypeInfo]:
    """Every user type of ``keyspace`` by name."""
    out: dict[str, UserTypeInfo] = {}
    for row in _connection.execute(
        "SELECT type_name, field_names, field_types FROM system_schema.types WHERE keyspace_name = ?",
        [keyspace], connection=connection,
    ):
        out[row["type_name"]] = UserTypeInfo(
            keyspace=keyspace, name=row["type_name"],
            field_names=tuple(row["field_names"] or ()), field_types=tuple(row["field_types"] or ()),
        )
    return out
