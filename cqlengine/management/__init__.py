"""Schema management: keyspaces, and making tables and user types match models.

``sync_table(Model)`` reads the live schema from ``system_schema``, computes
a :class:`SchemaPlan` (``plan(Model)`` or ``sync_table(Model,
dry_run=True)`` return it without changing anything), refuses what cannot
be done in place with :class:`~cqlengine.exceptions.SchemaMismatch` before
sending any statement, and otherwise applies the plan one DDL statement at
a time, waiting for schema agreement after each. It only ever adds: columns
and fields the database has but the model lacks are reported, never dropped.

A :class:`~cqlengine.views.MaterializedView` is synced, and dropped, by the
same functions: ``sync_table(View)`` creates the view once its base table
exists (it never creates the base), and reports a view that differs from its
declaration as a conflict; views are planned after tables.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any, Optional, Union

from cqlengine import connection as _connection
from cqlengine import ddl
from cqlengine.ddl import cql_literal
from cqlengine.definition import ModelDefinition
from cqlengine.exceptions import CQLEngineException, IndexNotReady, SchemaChangeFailed, SchemaMismatch
from cqlengine.management.introspect import (
    ColumnInfo,
    IndexInfo,
    KeyspaceInfo,
    TableInfo,
    UserTypeInfo,
    ViewInfo,
    get_keyspace,
    get_table,
    get_user_types,
    get_view,
    views_of_table,
)
from cqlengine.management.plan import (
    ALTER_TYPE_ADD_FIELD,
    CREATE_INDEX,
    CREATE_TYPE,
    CREATE_VIEW,
    Change,
    ColumnSpec,
    Conflict,
    SchemaPlan,
    TableSpec,
    TypeSpec,
    normalize_type,
    plan_table,
    plan_type,
    plan_view,
    table_spec,
    type_spec,
)
from cqlengine.views import MaterializedView, ViewSpec, is_view, view_keyspace, view_spec

__all__ = [
    "CQLENG_ALLOW_SCHEMA_MANAGEMENT",
    "Change",
    "ColumnInfo",
    "ColumnSpec",
    "Conflict",
    "IndexInfo",
    "KeyspaceInfo",
    "SchemaMismatch",
    "SchemaPlan",
    "TableInfo",
    "TableSpec",
    "TypeSpec",
    "UserTypeInfo",
    "ViewInfo",
    "apply_plan",
    "create_keyspace",
    "create_keyspace_network_topology",
    "create_keyspace_simple",
    "cql_literal",
    "drop_keyspace",
    "drop_table",
    "drop_type",
    "execute_schema_change",
    "get_keyspace",
    "get_table",
    "get_user_types",
    "get_view",
    "normalize_type",
    "plan",
    "plan_table",
    "plan_type",
    "plan_view",
    "sync_table",
    "sync_type",
    "table_spec",
    "type_spec",
]

log = logging.getLogger(__name__)

#: Kept for code ported from the peer, which reads this environment variable;
#: schema management here needs no opt-in.
CQLENG_ALLOW_SCHEMA_MANAGEMENT = "CQLENG_ALLOW_SCHEMA_MANAGEMENT"

Names = Optional[Union[Sequence[str], tuple[str, ...]]]


def _as_list(value: Names, what: str) -> list[Optional[str]]:
    if value is None:
        return [None]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{what} must be a list or a tuple, got {value!r}")
    return list(value) or [None]


def _contexts(keyspaces: Names, connections: Names) -> list[tuple[Optional[str], Optional[str]]]:
    """(connection, keyspace) pairs; None means the model's own."""
    return list(product(_as_list(connections, "connections"), _as_list(keyspaces, "keyspaces")))


def _model_keyspace(model: Any, keyspace: Optional[str], conn: Optional[str]) -> str:
    if keyspace:
        return keyspace
    # A view lives in its base table's keyspace: the base's, unless the view names it.
    name = view_keyspace(model) if is_view(model) else getattr(model, "__keyspace__", None)
    if not name:
        name = _connection.get_connection(conn).default_keyspace
    if not name:
        raise CQLEngineException(
            f"Model {model.__name__} has no keyspace: set __keyspace__, give keyspaces=[...] or set the "
            "connection's default_keyspace"
        )
    return str(name)


def _model_connection(model: Any, conn: Optional[str]) -> Optional[str]:
    if conn:
        return conn
    getter = getattr(model, "_get_connection", None)
    found = getter() if callable(getter) else getattr(model, "__connection__", None)
    return found or None


def _require_keyspace(keyspace: str, conn: Optional[str], what: str) -> None:
    if get_keyspace(keyspace, connection=conn) is None:
        raise CQLEngineException(f"Keyspace {keyspace!r} for {what} does not exist; create it first")


def _check_model(model: Any) -> None:
    if not isinstance(model, type) or not isinstance(getattr(model, "_meta", None), ModelDefinition):
        raise CQLEngineException(f"{model!r} is not a model class")
    if getattr(model, "__abstract__", False):
        raise CQLEngineException(f"Cannot sync {model.__name__}: it is abstract and has no table")


def plan(*models: Any, keyspaces: Names = None, connections: Names = None) -> SchemaPlan:
    """What ``sync_table`` would do for each model; sends no DDL.

    Reads the live schema; a missing keyspace (or a view's missing base table)
    raises ``CQLEngineException``. Conflicts are listed in the plan, not raised.
    Views are planned after tables, whatever their order in ``models``.
    """
    result = SchemaPlan()
    planned: dict[tuple[Optional[str], str, str], TableSpec] = {}
    for model in sorted(models, key=is_view):  # stable: tables first, each group in the order given
        _check_model(model)
        spec: Union[TableSpec, ViewSpec] = view_spec(model) if is_view(model) else table_spec(model)
        for conn_arg, ks_arg in _contexts(keyspaces, connections):
            conn = _model_connection(model, conn_arg)
            keyspace = _model_keyspace(model, ks_arg, conn)
            _require_keyspace(keyspace, conn, f"model {model.__name__}")
            if isinstance(spec, ViewSpec):
                result.extend(_plan_view_of(model, spec, keyspace, conn, planned))
            else:
                _plan_table_of(result, planned, spec, keyspace, conn)
    return result


def _plan_table_of(result: SchemaPlan, planned: dict[tuple[Optional[str], str, str], TableSpec],
                   spec: TableSpec, keyspace: str, conn: Optional[str]) -> None:
    # Several models of one table (a polymorphic family) plan it once; models that
    # define it differently are a conflict, not a race to create it first.
    earlier = planned.setdefault((conn, keyspace, spec.name), spec)
    if earlier is not spec:
        if _same_table(earlier, spec):
            return
        result.conflicts.append(Conflict(
            f"table {keyspace}.{spec.name}", "definition", "models define this table differently",
            f"model {earlier.model_name}: {_table_summary(earlier)}", _table_summary(spec),
            spec.model_name))
        return
    live = get_table(keyspace, spec.name, connection=conn)
    types = get_user_types(keyspace, connection=conn) if spec.types else {}
    result.extend(plan_table(keyspace, spec, live, types, connection=conn))


def _plan_view_of(view: type[MaterializedView], spec: ViewSpec, keyspace: str, conn: Optional[str],
                  planned: dict[tuple[Optional[str], str, str], TableSpec]) -> SchemaPlan:
    """The view's plan; its base table must exist, or be created earlier in the same plan."""
    base = get_table(keyspace, spec.base_table, connection=conn)
    if base is None and (conn, keyspace, spec.base_table) not in planned:
        raise CQLEngineException(
            f"Cannot sync view {view.__name__}: its base table {keyspace}.{spec.base_table} does not exist; "
            f"sync_table({view.__base_model__.__name__}) first (a view's base table is never created for it)")
    live = get_view(keyspace, spec.name, connection=conn)
    taken = live is None and get_table(keyspace, spec.name, connection=conn) is not None
    return plan_view(keyspace, spec, live, base, conn, view.__name__, name_taken=taken)


def _same_table(a: TableSpec, b: TableSpec) -> bool:
    return (a.columns, a.partition_key, a.clustering_key, a.options, a.types) == (
        b.columns, b.partition_key, b.clustering_key, b.options, b.types)


def _table_summary(spec: TableSpec) -> str:
    cols = ", ".join(f"{c.name} {c.type}" for c in spec.columns.values())
    return f"({cols}) PRIMARY KEY ({', '.join(spec.partition_key)}; {', '.join(spec.clustering_key)})"


def _wait_for_schema_agreement(conn: Optional[str], after: str) -> None:
    cluster = _connection.get_cluster(conn)
    if not cluster.control_connection.wait_for_schema_agreement():
        raise CQLEngineException(
            f"The cluster did not reach schema agreement after {after!r}; the changes after it were not "
            "applied. Check the nodes and run sync again: it only applies what is still missing."
        )


#: Seconds a DDL statement may take: dropping a keyspace of many tables outlasts the driver's default.
DDL_TIMEOUT = 120.0


def execute_schema_change(cql: str, connection: Optional[str] = None, keyspace: Optional[str] = None,
                          table: Optional[str] = None) -> None:
    """Send one DDL statement as ``sync_table`` does: logged, bounded by ``DDL_TIMEOUT``, followed by
    a (bounded) wait for schema agreement, and the prepared statements of ``keyspace`` (of ``table`` only,
    when given) forgotten, since their columns may have changed."""
    _execute_ddl(cql, connection, keyspace, table)


def _execute_ddl(cql: str, conn: Optional[str], keyspace: Optional[str] = None,
                 table: Optional[str] = None) -> None:
    """Send one DDL statement, wait for agreement, and drop the statements it made stale.

    ``table`` names the table changed; without it every cached statement of
    ``keyspace`` is dropped (a keyspace or a user type changed).
    """
    log.info("schema change: %s", cql)
    try:
        _connection.execute(cql, connection=conn, timeout=DDL_TIMEOUT)
        _wait_for_schema_agreement(conn, cql)
    finally:
        # Even a DDL that failed midway may have changed the table: forget rather than guess.
        if keyspace is not None:
            cache = _connection.get_connection(conn)
            if table is not None:
                cache.forget_table(keyspace, table)
            else:
                cache.forget_keyspace(keyspace)


#: Changes whose statements may touch any table of the keyspace (a user type several tables use).
_KEYSPACE_WIDE = frozenset({CREATE_TYPE, ALTER_TYPE_ADD_FIELD})

#: Seconds ``sync_table`` waits, by default, for the indexes it created to become queryable.
INDEX_TIMEOUT = 120.0


def apply_plan(schema_plan: SchemaPlan, index_timeout: Optional[float] = INDEX_TIMEOUT) -> None:
    """Send each change of a conflict-free plan, waiting for schema agreement after each.

    Then wait, up to ``index_timeout`` seconds, until every index the plan
    created has been built on every node that is up (a query on an index
    still building fails); ``IndexNotReady`` names those still building.
    ``index_timeout=None`` does not wait for them.
    """
    schema_plan.raise_for_conflicts()
    applied: list[str] = []
    for change in schema_plan.changes:
        table = None if change.kind in _KEYSPACE_WIDE else change.target or None
        try:
            _execute_ddl(change.cql, change.connection, change.keyspace or None, table)
        except Exception as exc:
            raise SchemaChangeFailed(
                f"{change.description} failed: {type(exc).__name__}: {exc}. Applied before it: "
                f"{'; '.join(applied) or 'nothing'}. Nothing after it was sent; once the cause is fixed, "
                "sync again: it applies only what is still missing.",
                applied,
            ) from exc
        applied.append(change.description)
    schema_plan.applied = True
    created = [c for c in schema_plan.changes if c.kind == CREATE_INDEX]
    if created and index_timeout is not None:
        wait_for_indexes(created, index_timeout)
    views = [c for c in schema_plan.changes if c.kind == CREATE_VIEW]
    if views and index_timeout is not None:
        wait_for_views(views, index_timeout)


def wait_for_indexes(changes: Sequence[Change], timeout: float) -> None:
    """Wait until the indexes of the tables in ``changes`` are built on every node that is up."""
    deadline = time.monotonic() + timeout
    tables = list(dict.fromkeys((c.keyspace, c.target, c.connection) for c in changes))
    while True:
        building = []
        for keyspace, table, conn in tables:
            info = get_table(keyspace, table, connection=conn)
            names = sorted(info.indexes) if info is not None else []
            if not names:
                continue
            per_host = _connection.execute_on_each_host(
                'SELECT index_name FROM system."IndexInfo" WHERE table_name = ?', [keyspace], connection=conn)
            for host, rows in sorted(per_host.items()):
                built = {row["index_name"] for row in rows}
                building += [f"{keyspace}.{name} on {host}" for name in names if name not in built]
        if not building:
            return
        if time.monotonic() >= deadline:
            raise IndexNotReady(
                f"index(es) still building after {timeout:g} s: {', '.join(building)}; the schema change "
                "itself is applied: queries on these indexes fail until the build ends",
                building,
            )
        time.sleep(0.1)


def wait_for_views(changes: Sequence[Change], timeout: float) -> None:
    """Wait until the views created by ``changes`` are built on every node that is up: until then a view
    reads only part of the base rows written before it was made."""
    deadline = time.monotonic() + timeout
    views = list(dict.fromkeys((c.keyspace, c.target, c.connection) for c in changes))
    while True:
        building = []
        for keyspace, view, conn in views:
            per_host = _connection.execute_on_each_host(
                "SELECT view_name FROM system.built_views WHERE keyspace_name = ?", [keyspace], connection=conn)
            building += [f"{keyspace}.{view} on {host}" for host, rows in sorted(per_host.items())
                         if view not in {row["view_name"] for row in rows}]
        if not building:
            return
        if time.monotonic() >= deadline:
            raise IndexNotReady(
                f"materialized view(s) still building after {timeout:g} s: {', '.join(building)}; the views "
                "exist, but read only part of the base rows written before they were made until built",
                building,
            )
        time.sleep(0.1)


def sync_table(
    model: Any, keyspaces: Names = None, connections: Names = None, dry_run: bool = False,
    index_timeout: Optional[float] = INDEX_TIMEOUT,
) -> SchemaPlan:
    """Create or extend the model's table (and its user types) to match the model.

    ``keyspaces`` / ``connections`` (lists) override the model's keyspace /
    connection. Every conflict, in every context, raises ``SchemaMismatch``
    before anything is sent. With ``dry_run=True`` nothing is sent and the
    plan is returned (conflicts included, not raised). Indexes it creates are
    queryable when it returns (see :func:`apply_plan` for ``index_timeout``,
    which also bounds the wait for a materialized view to be built).
    Returns the plan.

    ``model`` may be a :class:`~cqlengine.views.MaterializedView`: the view is
    created once its base table exists (``CQLEngineException`` otherwise).
    """
    schema_plan = plan(model, keyspaces=keyspaces, connections=connections)
    if dry_run:
        return schema_plan
    apply_plan(schema_plan, index_timeout=index_timeout)
    return schema_plan


def sync_type(
    ks_name: str, type_model: Any, connection: Optional[str] = None, dry_run: bool = False
) -> SchemaPlan:
    """Create a user type (and the types it nests) or add its missing fields."""
    if not isinstance(type_model, type) or not hasattr(type_model, "_fields"):
        raise CQLEngineException(f"{type_model!r} is not a UserType class")
    _require_keyspace(ks_name, connection, f"type {type_model.__name__}")
    from cqlengine.management.plan import type_specs_for_columns

    specs = type_specs_for_columns(type_model._fields.values()) + [type_spec(type_model)]
    live = get_user_types(ks_name, connection=connection)
    schema_plan = SchemaPlan()
    for spec in specs:
        schema_plan.extend(plan_type(ks_name, spec, live.get(spec.name), connection))
    if not dry_run:
        apply_plan(schema_plan)
    return schema_plan


def drop_table(model: Any, keyspaces: Names = None, connections: Names = None) -> None:
    """Drop the model's table (a MaterializedView's view) if it exists.

    A table that materialized views depend on is refused with
    ``CQLEngineException`` naming them, before anything is dropped: drop the
    views first.
    """
    _check_model(model)
    name = model._meta.table_name()
    found: list[tuple[str, Optional[str]]] = []
    for conn_arg, ks_arg in _contexts(keyspaces, connections):
        conn = _model_connection(model, conn_arg)
        keyspace = _model_keyspace(model, ks_arg, conn)
        if is_view(model):
            if get_view(keyspace, name, connection=conn) is not None:
                found.append((keyspace, conn))
        elif get_table(keyspace, name, connection=conn) is not None:
            _refuse_dropping_a_base(model, keyspace, name, conn)
            found.append((keyspace, conn))
    for keyspace, conn in found:
        cql = ddl.drop_view(keyspace, view_spec(model)) if is_view(model) else ddl.drop_table(keyspace, name)
        _execute_ddl(cql, conn, keyspace, name)


def _refuse_dropping_a_base(model: Any, keyspace: str, table: str, conn: Optional[str]) -> None:
    # Cassandra refuses too, without naming the views.
    views = views_of_table(keyspace, table, connection=conn)
    if views:
        raise CQLEngineException(
            f"drop_table({model.__name__}): materialized view(s) {', '.join(f'{keyspace}.{v}' for v in views)} "
            f"depend on table {keyspace}.{table}; drop them first (drop_table of each view); nothing was dropped")


def drop_type(ks_name: str, type_model: Any, connection: Optional[str] = None) -> None:
    """Drop a user type if it exists (Cassandra refuses while a table still uses it)."""
    name = type_model.type_name()
    if name in get_user_types(ks_name, connection=connection):
        _execute_ddl(ddl.drop_type(ks_name, name), connection, ks_name)


# --------------------------------------------------------------------------- keyspaces


def _short_class(name: str) -> str:
    return str(name).rsplit(".", 1)[-1]


def _replication_matches(live: Mapping[str, str], wanted: Mapping[str, Any]) -> bool:
    # Cassandra drops datacentres given a replication factor of 0: they are not a difference.
    live_rest = {k: str(v) for k, v in live.items() if k != "class" and str(v) != "0"}
    want_rest = {k: str(v) for k, v in wanted.items() if k != "class" and str(v) != "0"}
    return _short_class(live.get("class", "")) == _short_class(wanted["class"]) and live_rest == want_rest


def _show_replication(replication: Mapping[str, Any]) -> str:
    shown = {k: (_short_class(v) if k == "class" else str(v)) for k, v in replication.items()}
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in shown.items()) + "}"


def _create_keyspace(
    name: str, replication: dict[str, Any], durable_writes: bool, connections: Names,
    chosen_for_us: bool = False,
) -> None:
    """Create ``name`` where it is missing. An existing keyspace must match, except for a replication
    ``chosen_for_us`` (the default of ``create_keyspace``): one made when the cluster was smaller stays."""
    # Check every connection first: a mismatch anywhere means nothing is created anywhere.
    pending: list[Optional[str]] = []
    problems: list[str] = []
    for conn in _as_list(connections, "connections"):
        live = get_keyspace(name, connection=conn)
        if live is None:
            pending.append(conn)
            continue
        if not chosen_for_us and not _replication_matches(live.replication, replication):
            problems.append(f"keyspace {name}: replication differs: database has "
                            f"{_show_replication(live.replication)}, requested {_show_replication(replication)}")
        if live.durable_writes != durable_writes:
            problems.append(f"keyspace {name}: durable_writes differs: database has "
                            f"{str(live.durable_writes).lower()}, requested {str(durable_writes).lower()}")
    if problems:
        raise SchemaMismatch("; ".join(problems) + " (ALTER KEYSPACE it yourself if the change is intended)")
    for conn in pending:
        _execute_ddl(ddl.create_keyspace(name, replication, durable_writes), conn)


def create_keyspace_simple(
    name: str, replication_factor: int, durable_writes: bool = True, connections: Names = None
) -> None:
    """Create a SimpleStrategy keyspace; an existing one must have the same replication."""
    _create_keyspace(name, {"class": "SimpleStrategy", "replication_factor": str(int(replication_factor))},
                     durable_writes, connections)


def create_keyspace(
    name: str, replication: Union[None, int, Mapping[str, Any]] = None, durable_writes: bool = True,
    connections: Names = None,
) -> None:
    """Create a keyspace; an existing one must have the same replication.

    ``replication`` is NetworkTopologyStrategy unless it says otherwise:

    - None (the default): the local datacenter (the one the connection's
      coordinator is in), with as many replicas as it has nodes, up to 3;
      a keyspace of that name already there is kept as it is (it may have
      been made when the datacenter had fewer nodes);
    - an int: that many replicas in the local datacenter;
    - ``{"dc1": 3, "dc2": 2}``: replicas per datacenter;
    - a mapping with a ``"class"``: the replication as written.

    NetworkTopologyStrategy is what production clusters use, and what
    ScyllaDB's tablet keyspaces require (they refuse SimpleStrategy). The local
    datacenter is read through the first of ``connections``.
    """
    if isinstance(replication, Mapping) and "class" in replication:
        chosen = {str(k): str(v) for k, v in replication.items()}
    elif isinstance(replication, Mapping):
        chosen = {"class": "NetworkTopologyStrategy", **{str(dc): str(int(rf)) for dc, rf in replication.items()}}
    elif replication is None or isinstance(replication, int) and not isinstance(replication, bool) \
            and replication >= 1:
        datacenter, nodes = _local_datacenter(_as_list(connections, "connections")[0])
        chosen = {"class": "NetworkTopologyStrategy", datacenter: str(replication or min(3, nodes))}
    else:
        raise CQLEngineException(f"create_keyspace({name!r}): replication must be None, a number of replicas "
                                 f"(1 or more) or a mapping, got {replication!r}")
    _create_keyspace(name, chosen, durable_writes, connections, chosen_for_us=replication is None)


def _local_datacenter(conn: Optional[str]) -> tuple[str, int]:
    """The datacenter of the node that answers ``conn``'s statements, and how many nodes it has (at least 1)."""
    row = _connection.execute("SELECT data_center FROM system.local", connection=conn).one()
    if row is None or not row["data_center"]:
        raise CQLEngineException("create_keyspace: the node does not say its datacenter; pass replication=")
    datacenter = str(row["data_center"])
    hosts = _connection.get_cluster(conn).metadata.all_hosts()
    return datacenter, max(1, sum(1 for host in hosts if host.datacenter == datacenter))


def create_keyspace_network_topology(
    name: str, dc_replication_map: Mapping[str, int], durable_writes: bool = True, connections: Names = None
) -> None:
    """Create a NetworkTopologyStrategy keyspace; an existing one must have the same replication.

    A datacentre named ``class`` is refused: the replication map's own key, it would replace the strategy."""
    if "class" in map(str, dc_replication_map):
        raise CQLEngineException(f"create_keyspace_network_topology({name!r}): a datacentre cannot be named "
                                 "'class' (the replication map's key for the strategy)")
    replication: dict[str, Any] = {"class": "NetworkTopologyStrategy"}
    replication.update({str(dc): str(int(rf)) for dc, rf in dc_replication_map.items()})
    _create_keyspace(name, replication, durable_writes, connections)


def drop_keyspace(name: str, connections: Names = None) -> None:
    """Drop a keyspace if it exists."""
    for conn in _as_list(connections, "connections"):
        if get_keyspace(name, connection=conn) is not None:
            _execute_ddl(ddl.drop_keyspace(name), conn, name)
