"""The operations that take one schema state to another: what a new migration holds.

Additive changes (a table, a column, an index, a user type or field, table
options) and the drops of what the models lost (marked destructive) are
operations. What Cassandra cannot change in place (a column's type, a primary
key, a clustering order, a static flag, an index's options, a user type's
field type) is a :class:`MigrationConflict`, raised with every such
difference listed and nothing generated.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cqlengine.ddl import normalize_type
from cqlengine.exceptions import CQLEngineException
from cqlengine.management.plan import TableSpec, table_spec
from cqlengine.migrations.data import Backfill, Deployed, Verify, reference_of
from cqlengine.migrations.operations import (
    AddColumn,
    AddTypeField,
    AlterTableOptions,
    CreateIndex,
    CreateTable,
    CreateType,
    CreateView,
    DropColumn,
    DropIndex,
    DropTable,
    DropType,
    DropView,
    Operation,
    SchemaState,
)
from cqlengine.views import is_view, view_spec

__all__ = ["MigrationConflict", "changes", "state_of_models", "with_data_steps"]


class MigrationConflict(CQLEngineException):
    """Model changes Cassandra cannot make in place; ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} change(s) Cassandra cannot make in place; no migration was written:\n"
                         + "\n".join(f"  - {p}" for p in problems)
                         + "\nA changed type or key needs a new table: keep the old model as it was, declare the "
                           "new one with another __table_name__, mirror(Old, New, transform) where the models are "
                           "imported, and make the migration again: it copies and checks the rows (see the schema "
                           "migrations guide). Or change the model back.")


def state_of_models(models: Iterable[Any]) -> SchemaState:
    """The schema ``models`` describe: one table per table name (a polymorphic family's union), and
    every user type their columns use. Abstract models have no table and are left out."""
    state = SchemaState()
    for model in models:
        if getattr(model, "__abstract__", False):
            continue
        if is_view(model):
            view = view_spec(model)
            state.views[view.name] = view
            continue
        spec = table_spec(model)
        for tspec in spec.types:
            state.types.setdefault(tspec.name, tspec)
        have = state.tables.get(spec.name)
        if have is None or len(spec.columns) > len(have.columns):  # a family's base holds every column
            state.tables[spec.name] = TableSpec(spec.name, dict(spec.columns), list(spec.partition_key),
                                                list(spec.clustering_key), dict(spec.options), [], spec.model_name)
    return state


def changes(old: SchemaState, new: SchemaState) -> list[Operation]:
    """The operations that turn ``old`` into ``new``, in an order Cassandra accepts: types before the
    tables that use them, drops of tables before the drops of their types."""
    problems: list[str] = []
    ops: list[Operation] = []
    for name, tspec in new.types.items():
        have = old.types.get(name)
        if have is None:
            ops.append(CreateType(tspec))
            continue
        old_fields = dict(have.fields)
        for field_name, cql_type in tspec.fields:
            if field_name not in old_fields:
                ops.append(AddTypeField(name, field_name, cql_type))
            elif normalize_type(old_fields[field_name]) != normalize_type(cql_type):
                problems.append(f"type {name} field {field_name}: {old_fields[field_name]} becomes {cql_type}")
        for field_name in old_fields:
            if field_name not in dict(tspec.fields):
                problems.append(f"type {name} field {field_name}: a user type's field cannot be dropped")
    for name, spec in new.tables.items():
        table = old.tables.get(name)
        if table is None:
            ops.append(CreateTable(spec))
        else:
            ops += _table_changes(table, spec, problems)
    ops += _view_changes(old, new, problems, ops)
    for name, spec in old.tables.items():
        if name not in new.tables:
            ops.append(DropTable(spec))
    for name, tspec in old.types.items():
        if name not in new.types:
            ops.append(DropType(tspec))
    if problems:
        raise MigrationConflict(problems)
    return ops


def _view_changes(old: SchemaState, new: SchemaState, problems: list[str], ops: list[Operation]) -> list[Operation]:
    """Views: made after the tables (their bases), dropped before anything of their bases is dropped. A
    changed view is a conflict, as for ``sync_table``: drop it in one migration, make it in the next."""
    drops: list[Operation] = [DropView(spec) for name, spec in old.views.items() if name not in new.views]
    creates: list[Operation] = []
    for name, spec in new.views.items():
        have = old.views.get(name)
        if have is None:
            creates.append(CreateView(spec))
        elif have != spec:
            problems.append(f"view {name}: its definition changes (key, columns or base); remove the view class, "
                            "make a migration (it drops the view), then declare it anew and make another")
    # The drops go first of all: Cassandra refuses to drop a table, or a column a view selects, under a view.
    ops[:0] = drops
    return creates


def _table_changes(old: TableSpec, new: TableSpec, problems: list[str]) -> list[Operation]:
    name = new.name
    if old.partition_key != new.partition_key:
        problems.append(f"table {name}: partition key ({', '.join(old.partition_key)}) becomes "
                        f"({', '.join(new.partition_key)})")
    if old.clustering_key != new.clustering_key or any(
            old.columns[c].clustering_order != new.columns[c].clustering_order
            for c in new.clustering_key if c in old.columns):
        problems.append(f"table {name}: clustering key or order changes")
    ops: list[Operation] = []
    for column in new.columns.values():
        was = old.columns.get(column.name)
        if was is None:
            if column.kind not in ("partition_key", "clustering"):
                ops.append(AddColumn(name, column))
            continue
        if normalize_type(was.type) != normalize_type(column.type):
            problems.append(f"table {name} column {column.name}: {was.type} becomes {column.type}")
        if (was.kind == "static") != (column.kind == "static"):
            problems.append(f"table {name} column {column.name}: its static flag changes")
        for sai, flag in ((False, "index"), (True, "custom_index")):
            before, after = getattr(was, flag), getattr(column, flag)
            if after and not before:
                ops.append(CreateIndex(name, column, sai))
            elif before and not after:
                ops.append(DropIndex(name, was, sai))
            elif sai and after and was.index_options != column.index_options:
                problems.append(f"table {name} column {column.name}: its index options change "
                                f"({dict(was.index_options)} becomes {dict(column.index_options)})")
    for column in old.columns.values():
        if column.name not in new.columns and column.kind not in ("partition_key", "clustering"):
            ops.append(DropColumn(name, column))
    changed = {k: v for k, v in new.options.items() if old.options.get(k) != v}
    if changed:
        ops.append(AlterTableOptions(name, changed, {k: old.options.get(k) for k in changed}))
    return ops


def with_data_steps(operations: list[Operation], models: Iterable[Any], old: SchemaState) -> list[Operation]:
    """``operations`` with the data steps of each new table that a declared mirror writes from a table the
    migrations already hold: after its creation, a gate for the deploy that mirrors, the backfill, the
    check, and a gate for the switch (see :mod:`cqlengine.migrations.data`)."""
    created = {op.table.name for op in operations if isinstance(op, CreateTable)}
    carried: dict[str, list[Operation]] = {}
    for model in models:
        for mirror in getattr(model, "_mirrors", ()):
            if mirror.source is not model or mirror.keyspace is not None:
                continue  # a base's mirror (its own model carries it); another keyspace's table
            source, target = model._meta.table_name(), mirror.target._meta.table_name()
            if target not in created or source not in old.tables or target in carried:
                continue
            transform = None if hasattr(mirror.transform, "same_names_as") else reference_of(mirror.transform)
            via = f"mirror({model.__name__}, {mirror.target.__name__}" + (f", {transform})" if transform else ")")
            carried[target] = [
                Deployed(f"the writes branch is deployed: every write of {source} also goes to {target} ({via})"),
                Backfill(source, target, transform),
                Verify(source, target, transform),
                Deployed(f"the reads branch is deployed: the application reads {target} "
                         f"({mirror.target.__name__}) and no longer writes {source}"),
            ]
    out: list[Operation] = []
    for op in operations:
        out.append(op)
        if isinstance(op, CreateTable):
            out += carried.get(op.table.name, [])
    return out
