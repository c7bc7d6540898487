"""The operations a schema migration is made of, and the state they build.

A migration file lists operations (``CreateTable``, ``AddColumn`` ...); each
knows the CQL it sends in a keyspace, how it changes the schema state (the
tables and user types the migrations so far describe), whether it destroys
data (``destructive``), and its reverse, when it has one. Everything here is
pure: nothing is sent, no server is needed.

The state is built from the files alone, never read from a cluster: a new
migration is the difference between the models and that state, so the same
models and files always give the same migration.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

from cqlengine import ddl
from cqlengine.management.introspect import SAI_CLASS
from cqlengine.management.plan import ColumnSpec, TableSpec, TypeSpec, index_target_kind
from cqlengine.statements import qualified_table, quote_identifier

__all__ = ["AddColumn", "AddTypeField", "AlterTableOptions", "CreateIndex", "CreateTable", "CreateType",
           "CreateView", "DropColumn", "DropIndex", "DropTable", "DropType", "DropView", "Operation", "SchemaState"]


@dataclass
class SchemaState:
    """The tables and user types a sequence of migrations describes, by name."""

    tables: dict[str, TableSpec] = field(default_factory=dict)
    types: dict[str, TypeSpec] = field(default_factory=dict)
    views: dict[str, ddl.ViewSpec] = field(default_factory=dict)

    def copy(self) -> SchemaState:
        return SchemaState({name: dataclasses.replace(spec, columns=dict(spec.columns), options=dict(spec.options))
                            for name, spec in self.tables.items()}, dict(self.types), dict(self.views))


class Operation:
    """One change of the schema: its CQL, its effect on the state, its reverse."""

    #: Whether applying it loses data (a dropped table, column or type).
    destructive = False
    #: Whether it moves or checks rows (or waits) rather than sending DDL: see
    #: :mod:`cqlengine.migrations.data`. Rolling back skips it; its table's drop undoes it.
    data_step = False

    def statements(self, keyspace: str) -> list[str]:
        raise NotImplementedError

    def apply(self, state: SchemaState) -> None:
        """Change ``state`` as the statements change the schema."""
        raise NotImplementedError

    def reverse(self) -> Optional[Operation]:
        """The operation that undoes this one, or None when Cassandra cannot undo it."""
        return None

    def describe(self) -> str:
        raise NotImplementedError


def _column_def(column: ColumnSpec) -> ddl.ColumnDef:
    return ddl.ColumnDef(column.name, column.type, static=column.kind == "static")


def _index_statement(keyspace: str, table: str, column: ColumnSpec, sai: bool) -> str:
    full = index_target_kind(column.type) == "full"
    name = index_name(table, column.name, sai)
    if sai:
        cql = ddl.create_index(keyspace, table, column.name, full=full, using=SAI_CLASS,
                               options=dict(column.index_options))
    else:
        cql = ddl.create_index(keyspace, table, column.name, full=full)
    # The index is named, so that a later migration can drop it by name.
    return cql.replace("INDEX ON", f"INDEX {name} ON", 1)


def index_name(table: str, column: str, sai: bool) -> str:
    """The name a migration gives the index of ``table.column`` (``_sai`` for a Storage-Attached one)."""
    return f"{table}_{column}_{'sai' if sai else 'idx'}"


@dataclass(frozen=True)
class CreateType(Operation):
    type: TypeSpec

    def statements(self, keyspace: str) -> list[str]:
        return [ddl.create_type(keyspace, self.type.name, self.type.fields)]

    def apply(self, state: SchemaState) -> None:
        state.types[self.type.name] = self.type

    def reverse(self) -> Operation:
        return DropType(self.type)

    def describe(self) -> str:
        return f"create type {self.type.name}"


@dataclass(frozen=True)
class AddTypeField(Operation):
    type_name: str
    field: str
    cql_type: str

    def statements(self, keyspace: str) -> list[str]:
        return [ddl.alter_type_add_field(keyspace, self.type_name, self.field, self.cql_type)]

    def apply(self, state: SchemaState) -> None:
        spec = state.types[self.type_name]
        state.types[self.type_name] = dataclasses.replace(spec, fields=(*spec.fields, (self.field, self.cql_type)))

    def describe(self) -> str:
        return f"add field {self.field} {self.cql_type} to type {self.type_name}"


@dataclass(frozen=True)
class DropType(Operation):
    type: TypeSpec
    destructive = True

    def statements(self, keyspace: str) -> list[str]:
        return [ddl.drop_type(keyspace, self.type.name)]

    def apply(self, state: SchemaState) -> None:
        state.types.pop(self.type.name, None)

    def reverse(self) -> Operation:
        return CreateType(self.type)

    def describe(self) -> str:
        return f"drop type {self.type.name}"


@dataclass(frozen=True)
class CreateTable(Operation):
    table: TableSpec

    def statements(self, keyspace: str) -> list[str]:
        spec = self.table
        clustering = [(name, spec.columns[name].clustering_order) for name in spec.clustering_key]
        out = [ddl.create_table(keyspace, spec.name, [_column_def(c) for c in spec.columns.values()],
                                spec.partition_key, clustering, spec.options)]
        for column in spec.columns.values():
            if column.index:
                out.append(_index_statement(keyspace, spec.name, column, sai=False))
            if column.custom_index:
                out.append(_index_statement(keyspace, spec.name, column, sai=True))
        return out

    def apply(self, state: SchemaState) -> None:
        state.tables[self.table.name] = dataclasses.replace(self.table, types=[])

    def reverse(self) -> Operation:
        return DropTable(self.table)

    def describe(self) -> str:
        return f"create table {self.table.name} ({len(self.table.columns)} columns)"


@dataclass(frozen=True)
class DropTable(Operation):
    table: TableSpec
    destructive = True

    def statements(self, keyspace: str) -> list[str]:
        return [ddl.drop_table(keyspace, self.table.name)]

    def apply(self, state: SchemaState) -> None:
        state.tables.pop(self.table.name, None)

    def reverse(self) -> Operation:
        return CreateTable(self.table)

    def describe(self) -> str:
        return f"drop table {self.table.name}"


@dataclass(frozen=True)
class AddColumn(Operation):
    table: str
    column: ColumnSpec

    def statements(self, keyspace: str) -> list[str]:
        out = [ddl.add_column(keyspace, self.table, _column_def(self.column))]
        if self.column.index:
            out.append(_index_statement(keyspace, self.table, self.column, sai=False))
        if self.column.custom_index:
            out.append(_index_statement(keyspace, self.table, self.column, sai=True))
        return out

    def apply(self, state: SchemaState) -> None:
        state.tables[self.table].columns[self.column.name] = self.column

    def reverse(self) -> Operation:
        return DropColumn(self.table, self.column)

    def describe(self) -> str:
        static = " static" if self.column.kind == "static" else ""
        return f"add column {self.column.name} {self.column.type}{static} to {self.table}"


@dataclass(frozen=True)
class DropColumn(Operation):
    table: str
    column: ColumnSpec
    destructive = True

    def statements(self, keyspace: str) -> list[str]:
        out = []
        # An index on the column must go first: Cassandra refuses to drop an indexed column.
        if self.column.index:
            out.append(_drop_index(keyspace, index_name(self.table, self.column.name, sai=False)))
        if self.column.custom_index:
            out.append(_drop_index(keyspace, index_name(self.table, self.column.name, sai=True)))
        out.append(f"ALTER TABLE {qualified_table(keyspace, self.table)} DROP {quote_identifier(self.column.name)}")
        return out

    def apply(self, state: SchemaState) -> None:
        state.tables[self.table].columns.pop(self.column.name, None)

    def reverse(self) -> Operation:
        return AddColumn(self.table, self.column)

    def describe(self) -> str:
        return f"drop column {self.column.name} from {self.table}"


def _drop_index(keyspace: str, name: str) -> str:
    return f"DROP INDEX IF EXISTS {qualified_table(keyspace, name)}"


@dataclass(frozen=True)
class CreateIndex(Operation):
    table: str
    column: ColumnSpec
    sai: bool

    def statements(self, keyspace: str) -> list[str]:
        return [_index_statement(keyspace, self.table, self.column, self.sai)]

    def apply(self, state: SchemaState) -> None:
        columns = state.tables[self.table].columns
        was = columns[self.column.name]
        if self.sai:
            columns[self.column.name] = dataclasses.replace(was, custom_index=True,
                                                            index_options=self.column.index_options)
        else:
            columns[self.column.name] = dataclasses.replace(was, index=True)

    def reverse(self) -> Operation:
        return DropIndex(self.table, self.column, self.sai)

    def describe(self) -> str:
        return f"create {'SAI ' if self.sai else ''}index on {self.table}.{self.column.name}"


@dataclass(frozen=True)
class DropIndex(Operation):
    table: str
    column: ColumnSpec
    sai: bool

    def statements(self, keyspace: str) -> list[str]:
        return [_drop_index(keyspace, index_name(self.table, self.column.name, self.sai))]

    def apply(self, state: SchemaState) -> None:
        columns = state.tables[self.table].columns
        was = columns[self.column.name]
        columns[self.column.name] = (dataclasses.replace(was, custom_index=False) if self.sai
                                     else dataclasses.replace(was, index=False))

    def reverse(self) -> Operation:
        return CreateIndex(self.table, self.column, self.sai)

    def describe(self) -> str:
        return f"drop {'SAI ' if self.sai else ''}index on {self.table}.{self.column.name}"


@dataclass(frozen=True)
class AlterTableOptions(Operation):
    table: str
    options: dict[str, Any]
    #: The values they replace (None: the option was not set), for the reverse.
    previous: dict[str, Any]

    def statements(self, keyspace: str) -> list[str]:
        return [ddl.alter_table_options(keyspace, self.table, self.options)]

    def apply(self, state: SchemaState) -> None:
        state.tables[self.table].options.update(self.options)

    def reverse(self) -> Optional[Operation]:
        if any(value is None for value in self.previous.values()):
            return None  # Cassandra's default for an option is not known here: it cannot be set back
        return AlterTableOptions(self.table, dict(self.previous), dict(self.options))

    def describe(self) -> str:
        return f"set table options {', '.join(sorted(self.options))} on {self.table}"


@dataclass(frozen=True)
class CreateView(Operation):
    """A materialized view over a table of the state (Cassandra builds it from the table's rows)."""

    view: ddl.ViewSpec

    def statements(self, keyspace: str) -> list[str]:
        return [ddl.create_view(keyspace, self.view)]

    def apply(self, state: SchemaState) -> None:
        state.views[self.view.name] = self.view

    def reverse(self) -> Operation:
        return DropView(self.view)

    def describe(self) -> str:
        return f"create materialized view {self.view.name} of {self.view.base_table}"


@dataclass(frozen=True)
class DropView(Operation):
    """Dropping a view loses no data of its own (its table holds it all), but its readers break until it
    is made again and rebuilt: marked destructive, to be reviewed like a drop."""

    view: ddl.ViewSpec
    destructive = True

    def statements(self, keyspace: str) -> list[str]:
        return [ddl.drop_view(keyspace, self.view)]

    def apply(self, state: SchemaState) -> None:
        state.views.pop(self.view.name, None)

    def reverse(self) -> Operation:
        return CreateView(self.view)

    def describe(self) -> str:
        return f"drop materialized view {self.view.name}"
