"""Connections: the one place that touches a driver ``Session``.

A registry maps connection names to :class:`Connection` objects; one of them
is the default. :func:`execute` is the single door every statement of the
library goes through: it prepares each distinct parameterised CQL text once
per connection (a bounded LRU cache) and binds the values, so no value is
ever formatted into CQL text.

This module holds the registry and its configuration, and the doors: each
looks its connection up here and hands it to the module of this package that
does the work. ``driver`` holds :class:`Connection` (the driver's cluster and
session, execution profiles, the prepared-statement cache); ``sending`` one
statement, ``batches`` one batch, ``concurrent`` many statements at once or
one on every host; ``steps`` runs the one body each sync/async pair
(``execute``/``aexecute``, ``execute_batch``/``aexecute_batch``) shares;
``pages`` waits for pages, from a thread or an event loop; ``stats`` counts.
Every name is imported from here.
"""
from __future__ import annotations

# A name imported "as" itself is re-exported: users import it from here (the private ones: the
# tests of the batch log and of batch types).
import logging
import os
import threading
from typing import Any, Callable, Optional, Sequence, Union

from cassandra import ConsistencyLevel as ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT as EXEC_PROFILE_DEFAULT
from cassandra.cluster import Cluster, ResponseFuture, ResultSet, Session
from cassandra.query import BatchType, Statement
from cassandra.query import BoundStatement as BoundStatement

from cqlengine.connection import batches as _batches
from cqlengine.connection import concurrent as _concurrent
from cqlengine.connection import driver as _driver
from cqlengine.connection import pages as _pages
from cqlengine.connection import sending as _sending
from cqlengine.connection import stats as _stats
from cqlengine.connection import telemetry as _telemetry
from cqlengine.connection.acsylla_transport import TRANSPORTS, AcsyllaTransport, load_acsylla
from cqlengine.connection.batches import Batch, batch_steps
from cqlengine.connection.batches import _batch_members as _batch_members
from cqlengine.connection.batches import _batch_type as _batch_type
from cqlengine.connection.batches import _BatchText as _BatchText
from cqlengine.connection.driver import DEFAULT_PREPARED_CACHE_SIZE, checked_timeout
from cqlengine.connection.driver import Connection as Connection
from cqlengine.connection.driver import connect_error as connect_error
from cqlengine.connection.pages import AsyncResult as AsyncResult
from cqlengine.connection.pages import next_page as next_page
from cqlengine.connection.sending import Request, asend, execute_steps
from cqlengine.connection.sending import _log as _log
from cqlengine.connection.stats import ConnectionStats as ConnectionStats
from cqlengine.connection.stats import LatencyStats as LatencyStats
from cqlengine.connection.steps import arun, run
from cqlengine.exceptions import ConnectionException
from cqlengine.prepared import Params

log = logging.getLogger(__name__)

DEFAULT_CONNECTION = "default"

#: Leave the driver's default timeout in place (``None`` means no timeout).
NOT_SET: Any = _driver.NOT_SET

#: The kinds of statement latencies are kept by (any other statement counts as OTHER).
STATEMENT_KINDS = _stats.STATEMENT_KINDS

#: One member of a batch: its parameterised CQL text and the values bound to it.
BatchMember = _batches.BatchMember

# Documented, pickled and shown as this module's: users import them from here.
for _public in (Connection, ConnectionStats, LatencyStats, AsyncResult, connect_error, next_page):
    _public.__module__ = __name__
del _public

# --------------------------------------------------------------------------- registry

_connections: dict[str, Connection] = {}
_default_name: Optional[str] = None
_registry_lock = threading.Lock()


def register_connection(
    name: str,
    hosts: Optional[Sequence[str]] = None,
    consistency: Optional[int] = None,
    lazy_connect: bool = False,
    retry_connect: bool = False,
    cluster_options: Optional[dict[str, Any]] = None,
    default: bool = False,
    session: Optional[Session] = None,
    default_keyspace: Optional[str] = None,
    prepared_cache_size: int = DEFAULT_PREPARED_CACHE_SIZE,
    default_timeout: Any = NOT_SET,
    transport: str = "cassandra-driver",
) -> Connection:
    """Register a named connection from ``hosts`` or an existing driver ``session``.

    ``hosts`` None means the driver's default contact point (127.0.0.1), as
    with the peer. ``default_timeout`` (seconds, or None for no limit)
    bounds each request of this connection that sets no ``timeout`` of its
    own; left out, the driver's default applies. A name already registered is replaced, with a warning,
    once the new connection is made; a connection that fails to be made is
    never registered. ``transport="acsylla"`` sends the statements of awaited
    calls through acsylla (see :mod:`cqlengine.connection.acsylla_transport`);
    everything else stays on cassandra-driver.
    """
    global _default_name
    if transport not in TRANSPORTS:
        raise ConnectionException(f"register_connection({name!r}): transport must be one of {TRANSPORTS}, "
                                  f"not {transport!r}")
    if transport == "acsylla":
        load_acsylla()  # refused before anything is made when it is not installed
    if session is not None and (hosts or cluster_options or consistency is not None or lazy_connect
                                or retry_connect):
        raise ConnectionException(
            f"register_connection({name!r}): session and the options that build one (hosts, consistency, "
            "lazy_connect, retry_connect, cluster_options) are mutually exclusive."
        )
    conn = Connection(name, hosts=hosts, consistency=consistency, lazy_connect=lazy_connect,
                      retry_connect=retry_connect, cluster_options=cluster_options, session=session,
                      default_keyspace=default_keyspace, prepared_cache_size=prepared_cache_size)
    conn.default_timeout = checked_timeout(f"register_connection({name!r})", default_timeout)
    if transport == "acsylla":
        conn.transport = AcsyllaTransport(conn)
    with _registry_lock:
        previous = _connections.get(name)
        _connections[name] = conn
        if default or _default_name is None:
            _default_name = name
    if previous is not None:
        log.warning("connection %r was already registered: replaced (the old one is shut down)", name)
        previous.shutdown()
    return conn


def _after_fork_in_child() -> None:
    """A child made by ``fork()`` (pre-fork servers, multiprocessing) reconnects on first use.

    The registry, each connection's settings and the default stay as they
    were; what belongs to the parent (its sessions, and locks its threads
    may have held) is let go of (see :meth:`Connection.forget_inherited`).
    """
    global _registry_lock
    _registry_lock = threading.Lock()
    _pages.reset_after_fork()
    for conn in list(_connections.values()):
        conn.forget_inherited()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork()
    os.register_at_fork(after_in_child=_after_fork_in_child)


def unregister_connection(name: str) -> None:
    """Shut down and forget connection ``name`` (an unknown name is ignored, as with the peer)."""
    global _default_name
    with _registry_lock:
        conn = _connections.pop(name, None)
        if conn is None:
            log.debug("unregister_connection(%r): no such connection", name)
            return
        if _default_name == name:
            _default_name = None
    conn.shutdown()


def set_default_connection(name: str) -> None:
    global _default_name
    if name not in _connections:
        raise ConnectionException(f"No connection named {name!r} is registered.")
    _default_name = name


def setup(
    hosts: Optional[Sequence[str]],
    default_keyspace: Optional[str] = None,
    consistency: Optional[int] = None,
    lazy_connect: bool = False,
    retry_connect: bool = False,
    **cluster_options: Any,
) -> Connection:
    """Set up the default connection (replacing an earlier one once the new one is made).

    ``consistency`` becomes the default of the session this creates (the
    default execution profile's, or the legacy session's); with execution
    profiles of the caller's, it is set on each statement instead.
    ``default_timeout``, ``prepared_cache_size`` and ``transport`` are as in
    :func:`register_connection`; every other keyword goes to the driver's ``Cluster``.
    """
    prepared_cache_size = cluster_options.pop("prepared_cache_size", DEFAULT_PREPARED_CACHE_SIZE)
    default_timeout = cluster_options.pop("default_timeout", NOT_SET)
    transport = cluster_options.pop("transport", "cassandra-driver")
    return register_connection(
        DEFAULT_CONNECTION, hosts=hosts, consistency=consistency, lazy_connect=lazy_connect,
        retry_connect=retry_connect, cluster_options=cluster_options, default=True,
        default_keyspace=default_keyspace, prepared_cache_size=prepared_cache_size,
        default_timeout=default_timeout, transport=transport,
    )


def set_session(session: Session) -> Connection:
    """Make an existing driver session the default connection; it is used as it is.

    Its keyspace, if it has one, becomes the default keyspace (as with the peer).
    As with the peer, the default connection set up before keeps its settings
    for the new session: its default keyspace (when the session has none), its
    consistency and its default timeout.
    """
    with _registry_lock:
        previous = _connections.get(_default_name) if _default_name is not None else None
    conn = register_connection(DEFAULT_CONNECTION, session=session, default=True)
    if previous is not None:
        if conn.default_keyspace is None:
            conn.default_keyspace = previous.default_keyspace
        conn.consistency = previous.consistency
        conn.default_timeout = previous.default_timeout
    return conn


def default() -> Connection:
    """The default connection to a Cassandra on 127.0.0.1 with the driver's defaults."""
    return setup(None)


def get_connection(name: Optional[str] = None) -> Connection:
    """The named connection, or the default one."""
    if name is None:
        name = _default_name
        if name is None:
            raise ConnectionException(
                "No connection has been set up: call cqlengine.connection.setup(hosts, ...) or "
                "register_connection(name, hosts=..., default=True) before running queries."
            )
    try:
        return _connections[name]
    except KeyError:
        raise ConnectionException(
            f"No connection named {name!r} is registered (registered: {sorted(_connections)})."
        ) from None


def get_session(connection: Optional[str] = None) -> Session:
    return get_connection(connection).ensure_session()


def get_cluster(connection: Optional[str] = None) -> Cluster:
    conn = get_connection(connection)
    conn.ensure_session()
    assert conn.cluster is not None
    return conn.cluster


def connections() -> dict[str, Connection]:
    """A snapshot of the registry."""
    return dict(_connections)


# --------------------------------------------------------------------------- the doors statements go through


#: A ``Request`` from its fields in order: the NamedTuple's own ``__new__`` is a Python call, a
#: quarter of a microsecond on every statement.
_request = tuple.__new__


def execute(
    query: Union[str, Statement],
    params: Optional[Params] = None,
    consistency: Optional[int] = None,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
    fetch_size: Optional[int] = None,
    paging_state: Optional[bytes] = None,
    consistency_level: Optional[int] = None,
    tuple_rows: bool = False,
    idempotent: Optional[bool] = None,
    execution_profile: Any = EXEC_PROFILE_DEFAULT,
    route_to: Sequence[str] = (),
) -> ResultSet:
    """Run ``query`` on a connection; parameterised text is prepared once and bound.

    ``fetch_size`` sets the page size; ``paging_state`` resumes a paged query.
    ``consistency_level`` is the peer's spelling of ``consistency``. Rows are
    dicts; with ``tuple_rows`` they are tuples, named by the result's
    ``column_names`` (except on a legacy-mode session, whose rows stay dicts).
    ``idempotent`` tells the driver it may retry the statement (see
    :meth:`Connection.build_statement`). ``execution_profile`` names one of
    the session's profiles (its policies, consistency and timeout apply).
    ``route_to`` (host addresses, e.g. a token range's replicas) sends the
    statement to the first of them that is up, so it is served locally; when
    none is up, or that host cannot be reached, the load balancing policy
    chooses as usual. A refusal caused by column types that changed since the
    statement was prepared is retried once, prepared afresh.
    """
    request = _request(Request, (query, params, consistency, timeout, fetch_size, paging_state, consistency_level,
                                 tuple_rows, idempotent, execution_profile, route_to))
    return run(execute_steps(get_connection(connection), request))


async def aexecute(
    query: Union[str, Statement],
    params: Optional[Params] = None,
    consistency: Optional[int] = None,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
    fetch_size: Optional[int] = None,
    paging_state: Optional[bytes] = None,
    consistency_level: Optional[int] = None,
    tuple_rows: bool = False,
    idempotent: Optional[bool] = None,
    execution_profile: Any = EXEC_PROFILE_DEFAULT,
    route_to: Sequence[str] = (),
) -> AsyncResult:
    """:func:`execute` for asyncio: the first page of rows, without blocking the event loop.

    It takes what :func:`execute` takes and does the same with it. A lazy
    connection's connect and the preparing of a new statement shape run in
    the loop's executor; a cached statement is bound on the spot.
    """
    request = _request(Request, (query, params, consistency, timeout, fetch_size, paging_state, consistency_level,
                                 tuple_rows, idempotent, execution_profile, route_to))
    return await asend(get_connection(connection), request)


def execute_async(
    query: Union[str, Statement],
    params: Optional[Params] = None,
    consistency: Optional[int] = None,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
) -> ResponseFuture:
    """Like :func:`execute` but returns the driver's ``ResponseFuture``.

    The statement is bound as :func:`execute` binds it (so a failed bind is
    prepared afresh once), but a server refusal arrives on the future, too late
    for :func:`execute`'s one retry after another client changed column types:
    the caller sees the ``InvalidRequest``.
    """
    return _sending.send_async(get_connection(connection), query, params, consistency, timeout)


def execute_batch(
    members: Sequence[BatchMember],
    batch_type: Union[str, BatchType, None] = "LOGGED",
    consistency: Optional[int] = None,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
    on_refused: Optional[Callable[[], Any]] = None,
    idempotent: bool = False,
    execution_profile: Any = EXEC_PROFILE_DEFAULT,
) -> ResultSet:
    """Send ``members``, each ``(cql, params)``, as one batch of their own prepared statements.

    Each member's text is prepared once per connection and bound, as
    :func:`execute` does for a single statement, so the cache holds the
    members' shapes, whatever the batches' sizes. Every member is bound before
    anything is sent: one that does not bind, even after being prepared
    afresh, refuses the whole batch with its error. A server refusal caused by
    column types that changed under a cached member is retried once, as in
    :func:`execute`.

    ``idempotent`` tells the driver it may retry the batch (every member is).
    ``on_refused`` is called, before the error is raised, when the batch is
    refused with nothing of it applied: it could not be sent (the connection
    could not be made, a member did not bind), or the server answered
    ``InvalidRequest``.
    A batch-wide ``USING TIMESTAMP`` belongs in each member's text (see
    :func:`cqlengine.statements.render_batch_members`): the driver sets the
    request's own timestamp from the cluster's timestamp generator only.
    """
    batch = Batch(members, batch_type, consistency, timeout, on_refused, idempotent, execution_profile)
    return run(batch_steps(get_connection(connection), batch))


async def aexecute_batch(
    members: Sequence[BatchMember],
    batch_type: Union[str, BatchType, None] = "LOGGED",
    consistency: Optional[int] = None,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
    on_refused: Optional[Callable[[], Any]] = None,
    idempotent: bool = False,
    execution_profile: Any = EXEC_PROFILE_DEFAULT,
) -> AsyncResult:
    """:func:`execute_batch` for asyncio, without blocking the event loop.

    A lazy connection's connect and the binding of a batch with member shapes
    not yet cached (they are prepared first) run in the loop's executor; a
    batch of cached shapes is bound on the spot.
    """
    batch = Batch(members, batch_type, consistency, timeout, on_refused, idempotent, execution_profile)
    return await arun(batch_steps(get_connection(connection), batch, awaited=True))


def _connection_stats() -> list[ConnectionStats]:
    return [conn.stats for conn in list(_connections.values())]


def enable_telemetry(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Report a span and metrics of every request to OpenTelemetry (the ``otel`` extra).

    The global tracer and meter providers are used unless others are given.
    ``CQLENGINE_OTEL=1`` in the environment does the same when the package is
    first imported. See :mod:`cqlengine.connection.telemetry` for what is
    reported.
    """
    _telemetry.enable(tracer_provider, meter_provider, counters=_connection_stats)


def disable_telemetry() -> None:
    """Stop reporting to OpenTelemetry."""
    _telemetry.disable()


if _telemetry.enabled_by_environment():
    try:
        enable_telemetry()
    except ImportError as _missing:  # the setting without the extra: say so, and go on without it
        log.warning("CQLENGINE_OTEL is set, but telemetry is off: %s", _missing)


def execute_concurrently(
    items: Sequence[tuple[Any, ...]],
    concurrency: int = 100,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
    execution_profile: Any = EXEC_PROFILE_DEFAULT,
) -> list[tuple[bool, Any]]:
    """Run many parameterised statements with at most ``concurrency`` in flight.

    ``items`` are ``(cql, params, consistency)`` or ``(cql, params, consistency,
    idempotent)`` (see :meth:`Connection.build_statement`). Every statement is bound
    first (a value that cannot be bound raises before anything is sent); then
    they are all sent, and every outcome is returned in order as
    ``(True, result)`` or ``(False, error)``: nothing stops at the first
    failure. ``timeout`` bounds each request.
    """
    return _concurrent.send_concurrently(get_connection(connection), items, concurrency, timeout, execution_profile)


async def aexecute_concurrently(
    items: Sequence[tuple[Any, ...]],
    concurrency: int = 100,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
    execution_profile: Any = EXEC_PROFILE_DEFAULT,
) -> list[tuple[bool, Any]]:
    """:func:`execute_concurrently` for asyncio: every outcome, in order, without blocking the event loop.

    On a connection with ``transport="acsylla"`` the statements go through acsylla.
    """
    return await _concurrent.asend_concurrently(get_connection(connection), items, concurrency, timeout,
                                                execution_profile)


def execute_on_each_host(
    query: str,
    params: Optional[Sequence[Any]] = None,
    connection: Optional[str] = None,
    timeout: Any = NOT_SET,
) -> dict[str, list[Any]]:
    """Run a read of node-local state (``system`` tables) on every host that is up.

    Returns the rows per host address. Used to see what each node itself
    knows, e.g. which indexes it has finished building.
    """
    return _concurrent.on_each_host(get_connection(connection), query, params, timeout)


def token_ring(keyspace: str, connection: Optional[str] = None) -> tuple[str, list[tuple[int, tuple[str, ...]]]]:
    """The cluster's partitioner and its ring (see :meth:`Connection.token_ring`)."""
    return get_connection(connection).token_ring(keyspace)


__all__ = [
    "AsyncResult",
    "aexecute",
    "aexecute_batch",
    "aexecute_concurrently",
    "BatchMember",
    "BoundStatement",
    "Connection",
    "ConnectionStats",
    "ConsistencyLevel",
    "DEFAULT_CONNECTION",
    "NOT_SET",
    "execute",
    "execute_async",
    "execute_batch",
    "execute_concurrently",
    "execute_on_each_host",
    "get_cluster",
    "get_connection",
    "get_session",
    "default",
    "disable_telemetry",
    "enable_telemetry",
    "register_connection",
    "set_session",
    "set_default_connection",
    "setup",
    "unregister_connection",
]
