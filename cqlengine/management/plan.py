"""Schema plans: what ``sync_table`` would change, computed without I/O.

A plan compares what a model wants (a :class:`TableSpec`, built from the
model by :func:`table_spec`; for a materialized view a
:class:`~cqlengine.ddl.ViewSpec`, see :func:`plan_view`) with what the cluster has (the dataclasses of
:mod:`cqlengine.management.introspect`) and lists ordered :class:`Change`
objects, :class:`Conflict` objects (what cannot be done in place) and
warnings (what the database has and the model does not: never dropped).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from cqlengine import ddl
from cqlengine.ddl import ColumnDef, ViewSpec, cql_literal, normalize_type, render_type

# Read from here by cqlengine.named: the type parser lives with the DDL renderer now.
from cqlengine.ddl import TypeNode as TypeNode
from cqlengine.ddl import parse_type as parse_type
from cqlengine.exceptions import CQLEngineException, SchemaMismatch
from cqlengine.management.introspect import SAI_CLASS, ColumnInfo, TableInfo, UserTypeInfo, ViewInfo

__all__ = [
    "Change",
    "ColumnSpec",
    "Conflict",
    "SchemaPlan",
    "TableSpec",
    "TypeSpec",
    "cql_literal",
    "normalize_type",
    "plan_table",
    "plan_type",
    "plan_view",
    "render_type",
    "table_spec",
    "type_spec",
    "type_specs_for_columns",
]

CREATE_TYPE = "create_type"
ALTER_TYPE_ADD_FIELD = "alter_type_add_field"
CREATE_TABLE = "create_table"
ADD_COLUMN = "add_column"
CREATE_INDEX = "create_index"
ALTER_TABLE_OPTIONS = "alter_table_options"
CREATE_VIEW = "create_view"


def _is_counter_type(cql_type: str) -> bool:
    return normalize_type(cql_type) == "counter"


# --------------------------------------------------------------------------- specs


#: What a SchemaMismatch's message suggests: Cassandra cannot change these in place.
WAYS_FORWARD = (
    "Ways forward: (1) keep the data: define the model on a new table (another __table_name__), then "
    "copy the rows over with cqlengine.migrate (mirror the writes, backfill, verify; see the migrations "
    "guide) and switch; (2) give the data up: change the table yourself (ALTER TABLE ... DROP, or DROP "
    "TABLE) and run sync_table again; (3) change the model back to match the table."
)


@dataclass(frozen=True)
class ColumnSpec:
    """One column as the model wants it."""

    name: str
    type: str
    kind: str = "regular"  # partition_key, clustering, regular or static
    clustering_order: str = "none"  # asc, desc or none (for non-clustering columns)
    index: bool = False
    custom_index: bool = False
    attr: Optional[str] = None
    #: The options of its SAI index, as ``(name, value)`` pairs (a vector's ``similarity_function``).
    index_options: tuple[tuple[str, str], ...] = ()
    #: Other live types that count as in sync (a UDT column left frozen by default also
    #: matches the non-frozen column created when that was the default).
    also_accepts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypeSpec:
    """A user type as the model wants it: fields (CQL name, CQL type) in order."""

    name: str
    fields: tuple[tuple[str, str], ...]
    class_name: str = ""


@dataclass
class TableSpec:
    """A table as a model wants it."""

    name: str
    columns: dict[str, ColumnSpec]
    partition_key: list[str]
    clustering_key: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    types: list[TypeSpec] = field(default_factory=list)
    model_name: str = ""


def type_spec(user_type: Any) -> TypeSpec:
    """The spec of a ``UserType`` class."""
    fields = tuple((col.db_field_name, col.cql_type()) for col in user_type._fields.values())
    return TypeSpec(name=user_type.type_name(), fields=fields, class_name=user_type.__name__)


def type_specs_for_columns(columns: Iterable[Any]) -> list[TypeSpec]:
    """Specs of every user type the columns use, nested types first, each once."""
    from cqlengine.columns import resolve_udts

    found: list[Any] = []
    for col in columns:
        resolve_udts(col, found)
    return [type_spec(t) for t in found]


def table_spec(model: Any) -> TableSpec:
    """The table a model class describes (the union of columns for a polymorphic family)."""
    if getattr(model, "__abstract__", False):
        raise CQLEngineException(f"{model.__name__} is abstract: it has no table")
    table_columns = dict(model._meta.table_columns())
    partition = [c.db_field_name for c in model._meta.partition_keys.values()]
    clustering = [c.db_field_name for c in model._meta.clustering_keys.values()]
    ordered = partition + clustering + [n for n in table_columns if n not in partition and n not in clustering]
    columns: dict[str, ColumnSpec] = {}
    for name in ordered:
        col = table_columns[name]
        if name in partition:
            kind, order = "partition_key", "none"
        elif name in clustering:
            kind, order = "clustering", str(col.clustering_order or "asc").lower()
        else:
            kind, order = ("static" if col.static else "regular"), "none"
        columns[name] = ColumnSpec(
            name=name, type=col.cql_type(), kind=kind, clustering_order=order,
            index=bool(getattr(col, "index", False)), custom_index=bool(getattr(col, "custom_index", False)),
            attr=getattr(col, "attr_name", None),
            index_options=tuple(sorted(getattr(col, "index_options", dict)().items())),
            also_accepts=tuple(getattr(col, "compatible_cql_types", lambda: [])()),
        )
    options = dict(getattr(model, "__options__", None) or {})
    ttl = getattr(model, "__default_ttl__", None)
    if ttl is not None:
        options["default_time_to_live"] = ttl
    return TableSpec(
        name=model._meta.table_name(), columns=columns, partition_key=partition,
        clustering_key=clustering, options=options, types=type_specs_for_columns(table_columns.values()),
        model_name=model.__name__,
    )


# --------------------------------------------------------------------------- plan objects


@dataclass(frozen=True)
class Change:
    """One DDL statement of a plan."""

    kind: str
    cql: str
    description: str
    keyspace: str = ""
    target: str = ""  # table or type name
    connection: Optional[str] = None

    def __str__(self) -> str:
        return f"[{self.kind}] {self.description}\n    {self.cql}"


@dataclass(frozen=True)
class Conflict:
    """A difference Cassandra cannot apply in place."""

    table: str
    column: str
    problem: str
    live: str
    model: str
    model_name: str = ""

    def __str__(self) -> str:
        who = f"model {self.model_name}" if self.model_name else "model"
        return f"{self.table} {self.column}: {self.problem}: database has {self.live}, {who} has {self.model}"


@dataclass
class SchemaPlan:
    """The ordered changes that would bring the live schema in line with models."""

    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # qualified tables/types compared
    #: Set by ``apply_plan`` once every change was sent (``sync_table`` returns an applied plan).
    applied: bool = False

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.changes)

    def add(self, change: Change) -> None:
        # Two models may share a user type or a table: each statement once.
        if not any(c.cql == change.cql and c.connection == change.connection for c in self.changes):
            self.changes.append(change)

    def extend(self, other: SchemaPlan) -> SchemaPlan:
        for change in other.changes:
            self.add(change)
        for w in other.warnings:
            if w not in self.warnings:
                self.warnings.append(w)
        for c in other.conflicts:
            if c not in self.conflicts:
                self.conflicts.append(c)
        for name in other.checked:
            if name not in self.checked:
                self.checked.append(name)
        return self

    def kinds(self) -> list[str]:
        return [c.kind for c in self.changes]

    def raise_for_conflicts(self) -> None:
        """Raise ``SchemaMismatch`` naming every conflict, if there is any."""
        if self.conflicts:
            lines = "\n".join(f"  - {c}" for c in self.conflicts)
            error = SchemaMismatch(
                f"{len(self.conflicts)} schema difference(s) cannot be applied in place; "
                f"nothing was changed:\n{lines}\n{WAYS_FORWARD}"
            )
            error.conflicts = list(self.conflicts)  # type: ignore[attr-defined]
            raise error

    def __str__(self) -> str:
        lines: list[str] = []
        if self.changes:
            lines.append(f"{len(self.changes)} change(s) {'applied' if self.applied else 'pending'}:")
            for i, change in enumerate(self.changes, 1):
                lines.append(f"  {i}. [{change.kind}] {change.description}")
                lines.append(f"     {change.cql}")
        elif not self.conflicts:
            checked = ", ".join(self.checked) or "nothing checked"
            lines.append(f"in sync: {checked}")
        if self.warnings:
            lines.append("warnings (left as they are):")
            lines.extend(f"  - {w}" for w in self.warnings)
        if self.conflicts:
            lines.append("conflicts (refused, nothing will be applied):")
            lines.extend(f"  - {c}" for c in self.conflicts)
        return "\n".join(lines)


# --------------------------------------------------------------------------- diff


def _column_def(col: ColumnSpec) -> ColumnDef:
    return ColumnDef(col.name, col.type, static=col.kind == "static")


def _key_string(partition: list[str], clustering: list[str], orders: Mapping[str, str]) -> str:
    text = "PRIMARY KEY ((" + ", ".join(partition) + ")"
    if clustering:
        text += ", " + ", ".join(clustering)
    text += ")"
    if clustering:
        text += " CLUSTERING ORDER BY (" + ", ".join(f"{c} {orders.get(c, 'asc').upper()}" for c in clustering) + ")"
    return text


def index_target_kind(cql_type: str) -> str:
    """What an index on a column of this type covers: ``values`` (a collection's elements, map
    values), ``full`` (a frozen collection as a whole) or ``plain`` (a scalar)."""
    normal = normalize_type(cql_type)
    if re.match(r"frozen<(list|set|map)<", normal):
        return "full"
    if re.match(r"(list|set|map)<", normal):
        return "values"
    return "plain"


#: What an SAI index holds when an option is not given.
SAI_OPTION_DEFAULTS = {"similarity_function": "cosine"}


def _index_change(keyspace: str, table: str, col: ColumnSpec, sai: bool, connection: Optional[str]) -> Change:
    full = index_target_kind(col.type) == "full"  # a frozen collection is indexed as a whole value
    if sai:
        cql = ddl.create_index(keyspace, table, col.name, full=full, using=SAI_CLASS, options=dict(col.index_options))
        what = f"SAI index on {keyspace}.{table}.{col.name}"
    else:
        cql = ddl.create_index(keyspace, table, col.name, full=full)
        what = f"secondary index on {keyspace}.{table}.{col.name}"
    return Change(CREATE_INDEX, cql, f"create {what}", keyspace, table, connection)


#: The table properties Cassandra 5.0 accepts in CREATE/ALTER TABLE ... WITH.
TABLE_OPTIONS = frozenset({
    "additional_write_policy", "allow_auto_snapshot", "bloom_filter_fp_chance", "caching", "cdc", "comment",
    "compaction", "compression", "crc_check_chance", "default_time_to_live", "extensions", "gc_grace_seconds",
    "incremental_backups", "max_index_interval", "memtable", "memtable_flush_period_in_ms",
    "min_index_interval", "read_repair", "speculative_retry",
})


def _norm_option_scalar(name: str, value: Any) -> Any:
    if name == "comment":
        return str(value)  # free text: compared exactly
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    text = text.lower()
    if text in ("true", "false"):
        return text
    m = re.match(r"(\d+(?:\.\d+)?)(?:percentile|p)\Z", text)  # speculative_retry spellings
    if m:
        return f"{float(m.group(1))}p"
    return text


def _option_differs(name: str, wanted: Any, live: Any) -> bool:
    if isinstance(wanted, Mapping):
        if not isinstance(live, Mapping):
            return True
        for key, value in wanted.items():
            if key not in live:
                return True
            have = live[key]
            if key == "class":
                # 'LeveledCompactionStrategy' and its fully qualified name are the same class
                if str(value).rsplit(".", 1)[-1] != str(have).rsplit(".", 1)[-1]:
                    return True
            elif _norm_option_scalar(key, value) != _norm_option_scalar(key, have):
                return True
        return False
    if isinstance(live, Mapping):
        return True
    return _norm_option_scalar(name, wanted) != _norm_option_scalar(name, live)


def plan_type(
    keyspace: str, spec: TypeSpec, live: Optional[UserTypeInfo], connection: Optional[str] = None
) -> SchemaPlan:
    """Create the type, or add the fields it lacks; a changed field type is a conflict."""
    plan = SchemaPlan(checked=[f"type {keyspace}.{spec.name}"])
    if live is None:
        plan.add(Change(CREATE_TYPE, ddl.create_type(keyspace, spec.name, spec.fields),
                        f"create type {keyspace}.{spec.name}", keyspace, spec.name, connection))
        return plan
    have = live.fields
    for name, cql_type in spec.fields:
        if name not in have:
            plan.add(Change(
                ALTER_TYPE_ADD_FIELD, ddl.alter_type_add_field(keyspace, spec.name, name, cql_type),
                f"add field {name} {cql_type} to type {keyspace}.{spec.name}", keyspace, spec.name, connection,
            ))
        elif normalize_type(have[name]) != normalize_type(cql_type):
            plan.conflicts.append(Conflict(
                f"type {keyspace}.{spec.name}", f"field {name}", "field type differs",
                have[name], cql_type, spec.class_name,
            ))
    wanted = {n for n, _ in spec.fields}
    for name in live.field_names:
        if name not in wanted:
            plan.warnings.append(f"type {keyspace}.{spec.name} has field {name} ({have[name]}) "
                                 f"that {spec.class_name or 'the model'} does not declare")
    return plan


@dataclass
class _TableDiff:
    """One table being compared: where it lives, what the model wants, and the plan that collects the result."""

    keyspace: str
    spec: TableSpec
    connection: Optional[str]
    plan: SchemaPlan

    @property
    def label(self) -> str:
        return f"{self.keyspace}.{self.spec.name}"

    @property
    def indexed(self) -> list[ColumnSpec]:
        return [c for c in self.spec.columns.values() if c.index or c.custom_index]

    def change(self, kind: str, cql: str, description: str) -> None:
        self.plan.add(Change(kind, cql, description, self.keyspace, self.spec.name, self.connection))

    def create_index(self, col: ColumnSpec, sai: bool) -> None:
        self.plan.add(_index_change(self.keyspace, self.spec.name, col, sai, self.connection))

    def conflict(self, column: str, problem: str, have: str, want: str) -> None:
        self.plan.conflicts.append(Conflict(f"table {self.label}", column, problem, have, want,
                                            self.spec.model_name))

    def warn(self, text: str) -> None:
        self.plan.warnings.append(text)


def plan_table(
    keyspace: str,
    spec: TableSpec,
    live: Optional[TableInfo],
    live_types: Optional[Mapping[str, UserTypeInfo]] = None,
    connection: Optional[str] = None,
) -> SchemaPlan:
    """The plan that makes ``live`` (None: no table yet) match ``spec`` in ``keyspace``."""
    plan = SchemaPlan()
    live_types = live_types or {}
    for tspec in spec.types:
        plan.extend(plan_type(keyspace, tspec, live_types.get(tspec.name), connection))
    diff = _TableDiff(keyspace, spec, connection, plan)
    plan.checked.append(f"table {diff.label}")
    _refuse_unknown_options(diff)
    if live is None:
        _plan_new_table(diff)
        return plan
    _plan_primary_key(diff, live)
    _plan_columns(diff, live)
    _plan_options(diff, live)
    _plan_indexes(diff, live)
    return plan


def _refuse_unknown_options(diff: _TableDiff) -> None:
    # Refused here, before anything is sent: Cassandra would refuse it midway through the plan.
    for name in sorted(name for name in diff.spec.options if name not in TABLE_OPTIONS):
        diff.conflict(f"option {name}", "unknown table option", "no such option in Cassandra 5.0",
                      repr(diff.spec.options[name]))


def _plan_new_table(diff: _TableDiff) -> None:
    """CREATE TABLE with every column, key and option, then its indexes."""
    spec = diff.spec
    clustering = [(name, spec.columns[name].clustering_order) for name in spec.clustering_key]
    cql = ddl.create_table(diff.keyspace, spec.name, [_column_def(c) for c in spec.columns.values()],
                           spec.partition_key, clustering, spec.options)
    diff.change(CREATE_TABLE, cql, f"create table {diff.label} ({len(spec.columns)} columns)")
    for col in diff.indexed:
        if col.index:
            diff.create_index(col, sai=False)
        if col.custom_index:
            diff.create_index(col, sai=True)


def _plan_primary_key(diff: _TableDiff, live: TableInfo) -> None:
    """A primary key or clustering order that differs is a conflict: neither changes in place."""
    spec = diff.spec
    live_part = [c.name for c in live.partition_key]
    live_clust = [c.name for c in live.clustering_key]
    live_orders = {c.name: c.clustering_order for c in live.clustering_key}
    want_orders = {n: spec.columns[n].clustering_order for n in spec.clustering_key}
    if live_part != spec.partition_key or live_clust != spec.clustering_key:
        problem = "partition key differs" if live_part != spec.partition_key else "clustering key differs"
        diff.conflict("PRIMARY KEY", problem, _key_string(live_part, live_clust, live_orders),
                      _key_string(spec.partition_key, spec.clustering_key, want_orders))
        return
    for name in spec.clustering_key:
        if live_orders.get(name) != want_orders[name]:
            diff.conflict(f"column {name}", "clustering order differs",
                          live_orders.get(name, "none").upper(), want_orders[name].upper())


def _plan_columns(diff: _TableDiff, live: TableInfo) -> None:
    """Add the columns the table lacks; a column it has with another type or static flag is a conflict."""
    counter_table = any(_is_counter_type(c.type) for c in live.columns.values())
    for col in diff.spec.columns.values():
        have = live.columns.get(col.name)
        if have is None:
            _plan_new_column(diff, live, col, counter_table)
        else:
            _compare_column(diff, col, have)
    for name, have in live.columns.items():
        if name not in diff.spec.columns:
            diff.warn(f"table {diff.label} has column {name} ({have.type}) that "
                      f"{diff.spec.model_name or 'the model'} does not declare; it is left as is")


def _plan_new_column(diff: _TableDiff, live: TableInfo, col: ColumnSpec, counter_table: bool) -> None:
    if col.kind in ("partition_key", "clustering"):
        return  # reported with the primary key
    if _is_counter_type(col.type) != counter_table:
        diff.conflict(f"column {col.name}", "cannot add this column",
                      "a counter table" if counter_table else "a table without counters",
                      f"{col.type} (counter and non-counter columns cannot share a table)")
        return
    dropped = live.dropped_columns.get(col.name)
    if dropped is not None and normalize_type(dropped) != normalize_type(col.type):
        diff.conflict(f"column {col.name}", "was dropped with another type (Cassandra refuses to re-add it "
                      "with a different one)", f"dropped {dropped}", col.type)
        return
    diff.change(ADD_COLUMN, ddl.add_column(diff.keyspace, diff.spec.name, _column_def(col)),
                f"add column {col.name} {col.type}{' static' if col.kind == 'static' else ''} to {diff.label}")


def _compare_column(diff: _TableDiff, col: ColumnSpec, have: ColumnInfo) -> None:
    live_type, want_type = normalize_type(have.type), normalize_type(col.type)
    if live_type != want_type and live_type not in {normalize_type(t) for t in col.also_accepts}:
        if (live_type == "counter") != (want_type == "counter"):
            diff.conflict(f"column {col.name}", "counter vs non-counter", have.type, col.type)
        else:
            diff.conflict(f"column {col.name}", "type differs", have.type, col.type)
    if (have.kind == "static") != (col.kind == "static"):
        diff.conflict(f"column {col.name}", "static flag differs",
                      "static" if have.kind == "static" else "not static",
                      "static" if col.kind == "static" else "not static")


def _plan_options(diff: _TableDiff, live: TableInfo) -> None:
    """One ALTER TABLE ... WITH for every option whose live value differs."""
    changed: dict[str, Any] = {}
    for name, wanted in diff.spec.options.items():
        have = live.options.get(name)
        if have is None:
            # Cassandra 5 leaves some options (cdc, memtable, incremental_backups...) null in
            # system_schema: what it holds cannot be read, so it is not set again every time.
            diff.warn(f"table {diff.label}: option {name} cannot be read back from system_schema; "
                      "it was set when the table was created and is not compared")
        elif _option_differs(name, wanted, have):
            changed[name] = wanted
    if changed:
        diff.change(ALTER_TABLE_OPTIONS, ddl.alter_table_options(diff.keyspace, diff.spec.name, changed),
                    f"set table options {', '.join(sorted(changed))} on {diff.label}")


def _plan_indexes(diff: _TableDiff, live: TableInfo) -> None:
    """Create the indexes the table lacks; an SAI index with other options is a conflict."""
    indexed = diff.indexed
    for col in indexed:
        if col.name not in live.columns and col.kind in ("partition_key", "clustering"):
            continue
        kind = index_target_kind(col.type)
        # A keys(m) index does not serve the model's index on m's values: match the target too.
        existing = [i for i in live.indexes_on(col.name) if i.target_kind == kind]
        if col.index and not any(not i.is_sai for i in existing):
            diff.create_index(col, sai=False)
        sai = [i for i in existing if i.is_sai]
        if col.custom_index and not sai:
            diff.create_index(col, sai=True)
        for name, wanted in col.index_options if col.custom_index else ():
            found = [i.options.get(name, SAI_OPTION_DEFAULTS.get(name, "")) for i in sai]
            if found and not any(value.lower() == wanted.lower() for value in found):
                # An index's options cannot change in place: it would have to be dropped and built again.
                diff.conflict(f"index on {col.name}", f"{name} differs",
                              ", ".join(f"{i.name}: {i.options.get(name)}" for i in sai), wanted)
    wanted_idx = {c.name for c in indexed}
    for idx in live.indexes.values():
        if idx.column not in wanted_idx:
            diff.warn(f"table {diff.label} has index {idx.name} on {idx.target or '?'} "
                      "that the model does not declare; it is left as is")


# --------------------------------------------------------------------------- materialized views

#: What a view conflict suggests: a view holds nothing of its own, so it can be rebuilt.
VIEW_WAY_FORWARD = ("a view cannot change in place, but holds nothing of its own: drop_table(the view) "
                    "and sync_table(the view) rebuild it from its base table")


@dataclass
class _ViewDiff:
    """One view being compared, and the plan that collects the result."""

    keyspace: str
    spec: ViewSpec
    connection: Optional[str]
    model_name: str
    plan: SchemaPlan

    @property
    def label(self) -> str:
        return f"{self.keyspace}.{self.spec.name}"

    def conflict(self, column: str, problem: str, have: str, want: str) -> None:
        self.plan.conflicts.append(Conflict(f"view {self.label}", column, problem, have, want, self.model_name))


def plan_view(
    keyspace: str,
    spec: ViewSpec,
    live: Optional[ViewInfo],
    base: Optional[TableInfo],
    connection: Optional[str] = None,
    model_name: str = "",
    name_taken: bool = False,
) -> SchemaPlan:
    """The plan that makes ``live`` (None: no view yet) match ``spec`` in ``keyspace``.

    ``base`` is the live base table (None: created earlier in the same plan, as
    its model declares it); ``name_taken``: a table has the view's name. A
    view that differs in any way (base, key, columns, filter) is a conflict:
    Cassandra cannot alter a view's definition.
    """
    diff = _ViewDiff(keyspace, spec, connection, model_name, SchemaPlan(checked=[f"view {keyspace}.{spec.name}"]))
    if live is not None:
        _compare_view(diff, live)
        return diff.plan
    if name_taken:
        diff.conflict("name", "a table has this name", f"table {diff.label}", f"a view of {spec.base_table}")
    if base is not None:
        _check_base_columns(diff, base)
    if not diff.plan.conflicts:
        diff.plan.add(Change(CREATE_VIEW, ddl.create_view(keyspace, spec),
                             f"create materialized view {diff.label} of {keyspace}.{spec.base_table}",
                             keyspace, spec.name, connection))
    return diff.plan


def _check_base_columns(diff: _ViewDiff, base: TableInfo) -> None:
    """Every column the view selects must be in the live base table, with its type."""
    for name, cql_type in zip(diff.spec.columns, diff.spec.types or [""] * len(diff.spec.columns)):
        have = base.columns.get(name)
        if have is None:
            diff.conflict(f"column {name}", "the base table lacks it (sync the base model first)",
                          f"table {base.keyspace}.{base.name} without it", f"{name} {cql_type}".strip())
        elif cql_type and normalize_type(have.type) != normalize_type(cql_type):
            diff.conflict(f"column {name}", "type differs from the base table's", have.type, cql_type)


def _where_terms(text: str) -> frozenset[str]:
    return frozenset(" ".join(t.split()) for t in re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE) if t)


def _compare_view(diff: _ViewDiff, live: ViewInfo) -> None:
    spec = diff.spec
    if live.base_table != spec.base_table:
        diff.conflict("base table", f"base table differs; {VIEW_WAY_FORWARD}", live.base_table, spec.base_table)
    live_part = [c.name for c in live.partition_key]
    live_clust = [c.name for c in live.clustering_key]
    live_orders = {c.name: c.clustering_order for c in live.clustering_key}
    want_orders = {n: o.lower() for n, o in zip(spec.clustering_key, spec.clustering_orders)}
    if (live_part, live_clust, live_orders) != (list(spec.partition_key), list(spec.clustering_key), want_orders):
        diff.conflict("PRIMARY KEY", f"primary key differs; {VIEW_WAY_FORWARD}",
                      _key_string(live_part, live_clust, live_orders),
                      _key_string(list(spec.partition_key), list(spec.clustering_key), want_orders))
    if set(live.columns) != set(spec.columns):
        diff.conflict("columns", f"selected columns differ; {VIEW_WAY_FORWARD}",
                      ", ".join(sorted(live.columns)), ", ".join(sorted(spec.columns)))
    for name, cql_type in zip(spec.columns, spec.types):
        have = live.columns.get(name)
        if have is not None and normalize_type(have.type) != normalize_type(cql_type):
            diff.conflict(f"column {name}", f"type differs; {VIEW_WAY_FORWARD}", have.type, cql_type)
    if spec.where and _where_terms(live.where_clause) != _where_terms(spec.where):
        diff.conflict("WHERE", f"filter differs; {VIEW_WAY_FORWARD}", live.where_clause, spec.where)
