"""Connections: the one place that touches a driver ``Session``.

A registry maps connection names to :class:`Connection` objects; one of them
is the default. :func:`execute` is the single door every statement of the
library goes through: it prepares each distinct parameterised CQL text once
per connection (a bounded LRU cache) and binds the values, so no value is
ever formatted into CQL text.

Driver objects a caller hands over (a session, a cluster built with its own
execution profiles) are used as they are: the library never changes their
row factory, profiles or defaults. Its own statements read rows as dicts
through a copy of the caller's profile when that profile returns other rows.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from functools import partial
from typing import Any, Callable, Optional, Sequence, Union

from cassandra import ConsistencyLevel, InvalidRequest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, NoHostAvailable, ResponseFuture, ResultSet, Session
from cassandra.query import BatchStatement, BatchType, BoundStatement, Statement

from cqlengine import statements
from cqlengine.connection import driver as _driver
from cqlengine.connection import stats as _stats
from cqlengine.connection.driver import DEFAULT_PREPARED_CACHE_SIZE, _checked_timeout
from cqlengine.connection.driver import Connection as Connection
from cqlengine.connection.driver import connect_error as connect_error
from cqlengine.connection.pages import AsyncResult as AsyncResult
from cqlengine.connection.pages import _wait
from cqlengine.connection.pages import next_page as next_page
from cqlengine.connection.stats import ConnectionStats as ConnectionStats
from cqlengine.connection.stats import LatencyStats as LatencyStats
from cqlengine.exceptions import ConnectionException
from cqlengine.prepared import Params

log = logging.getLogger(__name__)

DEFAULT_CONNECTION = "default"

#: Leave the driver's default timeout in place (``None`` means no timeout).
NOT_SET: Any = _driver.NOT_SET

#: The kinds of statement latencies are kept by (any other statement counts as OTHER).
STATEMENT_KINDS = _stats.STATEMENT_KINDS

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
) -> Connection:
    """Register a named connection from ``hosts`` or an existing driver ``session``.

    ``hosts`` None means the driver's default contact point (127.0.0.1), as
    with the peer. ``default_timeout`` (seconds, or None for no limit)
    bounds each request of this connection that sets no ``timeout`` of its
    own; left out, the driver's default applies. A name already registered is replaced, with a warning,
    once the new connection is made; a connection that fails to be made is
    never registered.
    """
    global _default_name
    if session is not None and (hosts or cluster_options or consistency is not None or lazy_connect
                                or retry_connect):
        raise ConnectionException(
            f"register_connection({name!r}): session and the options that build one (hosts, consistency, "
            "lazy_connect, retry_connect, cluster_options) are mutually exclusive."
        )
    conn = Connection(name, hosts=hosts, consistency=consistency, lazy_connect=lazy_connect,
                      retry_connect=retry_connect, cluster_options=cluster_options, session=session,
                      default_keyspace=default_keyspace, prepared_cache_size=prepared_cache_size)
    conn.default_timeout = _checked_timeout(f"register_connection({name!r})", default_timeout)
    with _registry_lock:
        previous = _connections.get(name)
        _connections[name] = conn
        if default or _default_name is None:
            _default_name = name
    if previous is not None:
        log.warning("connection %r was already registered: replaced (the old one is shut down)", name)
        previous.shutdown()
    return conn


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
    ``default_timeout`` and ``prepared_cache_size`` are as in
    :func:`register_connection`; every other keyword goes to the driver's ``Cluster``.
    """
    prepared_cache_size = cluster_options.pop("prepared_cache_size", DEFAULT_PREPARED_CACHE_SIZE)
    default_timeout = cluster_options.pop("default_timeout", NOT_SET)
    return register_connection(
        DEFAULT_CONNECTION, hosts=hosts, consistency=consistency, lazy_connect=lazy_connect,
        retry_connect=retry_connect, cluster_options=cluster_options, default=True,
        default_keyspace=default_keyspace, prepared_cache_size=prepared_cache_size,
        default_timeout=default_timeout,
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



def _timed(conn: Connection, query: Any, send: Callable[[], Any]) -> Any:
    """``send()``, its time recorded in the connection's latency of the statement's kind."""
    started = time.perf_counter()
    try:
        result = send()
    except BaseException:
        conn.stats.record(query, time.perf_counter() - started, failed=True)
        raise
    conn.stats.record(query, time.perf_counter() - started)
    return result


async def _atimed(conn: Connection, query: Any, future: ResponseFuture) -> Any:
    """``_timed()`` for an awaited request: from now until its first page arrives."""
    started = time.perf_counter()
    try:
        rows = await _wait(future)
    except BaseException:
        conn.stats.record(query, time.perf_counter() - started, failed=True)
        raise
    conn.stats.record(query, time.perf_counter() - started)
    return rows


def _log(conn: Connection, query: Union[str, Statement, _BatchText]) -> None:
    """Log the statement's shape at DEBUG: its CQL with literals shown as ``?``, never a value."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("[%s] %s", conn.name, _shape(query))


def _shape(query: Union[str, Statement, _BatchText]) -> str:
    text: Any
    if isinstance(query, str):
        text = query
    elif isinstance(query, BoundStatement):
        text = query.prepared_statement.query_string  # not repr(): it shows the bound values
    elif isinstance(query, BatchStatement):
        return f"a BatchStatement of {len(query._statements_and_parameters)} statement(s)"
    else:
        text = getattr(query, "query_string", None)
    if not isinstance(text, str):
        return f"a {type(query).__name__}"
    return statements.without_literals(text)


def execute(
    query: Union[str, Statement],
    params: Optional[Union[Sequence[Any], dict[str, Any]]] = None,
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
    chooses as usual.
    """
    if consistency is None:
        consistency = consistency_level
    conn = get_connection(connection)
    session = conn.ensure_session()
    statement = conn.build_statement(query, params, consistency, fetch_size, idempotent,
                                     _is_default_profile(execution_profile))
    try:
        options = _send_options(conn, session, query, timeout, paging_state, tuple_rows, execution_profile)
        started = time.perf_counter()
        try:
            result = _execute_routed(session, statement, options, route_to)
        except BaseException:
            conn.stats.record(query, time.perf_counter() - started, failed=True)
            raise
        conn.stats.record(query, time.perf_counter() - started)
        return result
    except InvalidRequest:
        # The server refuses before applying anything; values serialised for column types
        # that changed since the statement was prepared are refused this way. Retry once.
        if not (isinstance(query, str) and params and conn.reprepare_if_changed(query, statement)):
            raise
    statement = conn.build_statement(query, params, consistency, fetch_size, idempotent,
                                     _is_default_profile(execution_profile))
    options = _send_options(conn, session, query, timeout, paging_state, tuple_rows, execution_profile)
    return _timed(conn, query, lambda: session.execute(statement, **options))


def _execute_routed(session: Session, statement: Statement, options: dict[str, Any],
                    route_to: Sequence[str]) -> ResultSet:
    host = _first_host_up(session, route_to) if route_to else None
    if host is not None:
        try:
            return session.execute(statement, host=host, **options)
        except NoHostAvailable:
            pass  # it went down since: any host will do
    return session.execute(statement, **options)


def _first_host_up(session: Session, addresses: Sequence[str]) -> Any:
    hosts = {str(host.address): host for host in session.cluster.metadata.all_hosts() if host.is_up}
    return next((hosts[a] for a in addresses if a in hosts), None)


def token_ring(keyspace: str, connection: Optional[str] = None) -> tuple[str, list[tuple[int, tuple[str, ...]]]]:
    """The cluster's partitioner and its ring (see :meth:`Connection.token_ring`)."""
    return get_connection(connection).token_ring(keyspace)


def _send_options(conn: Connection, session: Session, query: Union[str, Statement, _BatchText],
                  timeout: Any, paging_state: Optional[bytes] = None, tuple_rows: bool = False,
                  profile: Any = EXEC_PROFILE_DEFAULT) -> dict[str, Any]:
    """Count and log one statement about to be sent; the driver's keyword arguments for it."""
    _log(conn, query)
    conn.stats.count("executed")
    options: dict[str, Any] = {"paging_state": paging_state,
                               "execution_profile": conn.execution_profile(session, tuple_rows, profile)}
    if timeout is NOT_SET and _is_default_profile(profile):
        timeout = conn.default_timeout  # a profile chosen for the statement keeps its own request_timeout
    if timeout is not NOT_SET:
        options["timeout"] = timeout
    return options


def _is_default_profile(profile: Any) -> bool:
    return profile is None or profile is EXEC_PROFILE_DEFAULT


def execute_async(
    query: Union[str, Statement],
    params: Optional[Union[Sequence[Any], dict[str, Any]]] = None,
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
    conn = get_connection(connection)
    session = conn.ensure_session()
    statement = conn.build_statement(query, params, consistency)
    return session.execute_async(statement, **_send_options(conn, session, query, timeout))


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
    the driver's concurrent execution runs them all, and every outcome is
    returned in order as ``(True, result)`` or ``(False, error)``: nothing
    stops at the first failure. ``timeout`` bounds each request.
    """
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise ConnectionException(f"execute_concurrently: concurrency must be a positive int, got {concurrency!r}")
    conn = get_connection(connection)
    session = conn.ensure_session()
    defaults = _is_default_profile(execution_profile)
    bound = [conn.build_statement(item[0], item[1], item[2], idempotent=item[3] if len(item) > 3 else None,
                                  connection_defaults=defaults)
             for item in items]
    options: dict[str, Any] = {"execution_profile": conn.execution_profile(session, name=execution_profile)}
    if timeout is NOT_SET and defaults:
        timeout = conn.default_timeout  # a profile chosen for the call keeps its own request_timeout
    if timeout is not NOT_SET:
        options["timeout"] = timeout
    for item in items:
        _log(conn, item[0])
    conn.stats.count("executed", len(bound))
    return _send_all(session, bound, concurrency, options)


def _send_all(session: Session, statements: Sequence[Statement], concurrency: int,
              options: dict[str, Any]) -> list[tuple[bool, Any]]:
    """Send every statement, at most ``concurrency`` in flight; each outcome, in order.

    Not the driver's ``execute_concurrent``: before 3.30 it sends every request
    with ``timeout=None``, so no request of a bulk call would ever time out.
    """
    outcomes: list[tuple[bool, Any]] = [(False, None)] * len(statements)
    slots = threading.BoundedSemaphore(concurrency)
    all_done = threading.Event()
    left = [len(statements)]
    count = threading.Lock()

    def settle(index: int, future: Any, ok: bool, value: Any) -> None:
        try:
            outcomes[index] = (True, ResultSet(future, value)) if ok else (False, value)
        except Exception as exc:  # noqa: BLE001 - reported as this statement's outcome, never a hang
            outcomes[index] = (False, exc)
        finally:
            slots.release()
            with count:
                left[0] -= 1
                if not left[0]:
                    all_done.set()

    for index, statement in enumerate(statements):
        slots.acquire()
        try:
            future = session.execute_async(statement, **options)
        except Exception as exc:  # noqa: BLE001 - an outcome like any other, reported in order
            settle(index, None, False, exc)
            continue
        future.add_callbacks(partial(settle, index, future, True), partial(settle, index, future, False))
    if statements:
        all_done.wait()
    return outcomes


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
    conn = get_connection(connection)
    session = conn.ensure_session()
    out: dict[str, list[Any]] = {}
    for host in session.cluster.metadata.all_hosts():
        if not host.is_up:
            continue
        statement = conn.build_statement(query, params)
        options = _send_options(conn, session, query, timeout)
        out[str(host.endpoint)] = list(session.execute(statement, host=host, **options))
    return out



async def aexecute(
    query: Union[str, Statement],
    params: Optional[Union[Sequence[Any], dict[str, Any]]] = None,
    consistency: Optional[int] = None,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
    fetch_size: Optional[int] = None,
    paging_state: Optional[bytes] = None,
    tuple_rows: bool = False,
    idempotent: Optional[bool] = None,
    execution_profile: Any = EXEC_PROFILE_DEFAULT,
) -> AsyncResult:
    """:func:`execute` for asyncio: the first page of rows, without blocking the event loop.

    A lazy connection's connect and the preparing of a new statement shape run
    in the loop's executor; a cached statement is bound on the spot.
    """
    conn = get_connection(connection)
    loop = asyncio.get_running_loop()
    if conn.session is None:
        await loop.run_in_executor(None, conn.ensure_session)
    if isinstance(query, str) and params and conn.cached(query, count_hit=False) is None:
        await loop.run_in_executor(None, conn.prepare, query)
    session = conn.ensure_session()
    statement = conn.build_statement(query, params, consistency, fetch_size, idempotent,
                                     _is_default_profile(execution_profile))
    future = session.execute_async(statement, **_send_options(conn, session, query, timeout, paging_state,
                                                               tuple_rows, execution_profile))
    try:
        return AsyncResult(future, await _atimed(conn, query, future))
    except InvalidRequest:
        # As in execute(): a refusal caused by column types that changed is retried once.
        if not (isinstance(query, str) and params):
            raise
        changed: bool = await loop.run_in_executor(None, conn.reprepare_if_changed, query, statement)
        if not changed:
            raise
    statement = conn.build_statement(query, params, consistency, fetch_size, idempotent,
                                     _is_default_profile(execution_profile))
    future = session.execute_async(statement, **_send_options(conn, session, query, timeout, paging_state,
                                                               tuple_rows, execution_profile))
    return AsyncResult(future, await _atimed(conn, query, future))


# --------------------------------------------------------------------------- batches

#: One member of a batch: its parameterised CQL text and the values bound to it.
BatchMember = tuple[str, Params]

_BATCH_TYPES = {"LOGGED": BatchType.LOGGED, "UNLOGGED": BatchType.UNLOGGED, "COUNTER": BatchType.COUNTER}


def _batch_type(batch_type: Union[str, BatchType, None]) -> BatchType:
    """The driver's batch type for a name (``LOGGED``, ``UNLOGGED``, ``COUNTER``) or a driver ``BatchType``."""
    if isinstance(batch_type, BatchType):
        return batch_type
    found = _BATCH_TYPES.get(str(batch_type or "LOGGED").upper())
    if found is None:
        raise ValueError(f"unknown batch type {batch_type!r}: LOGGED, UNLOGGED or COUNTER")
    return found


class _BatchText:
    """What the debug log shows of a batch: its type and its members' CQL texts (never their values)."""

    def __init__(self, batch_type: BatchType, members: Sequence[BatchMember]) -> None:
        self.batch_type = batch_type
        self.members = members

    @property
    def query_string(self) -> str:
        return f"{self.batch_type} BATCH: " + "; ".join(cql for cql, _ in self.members)


def _bind_batch(conn: Connection, session: Session, members: Sequence[BatchMember], batch_type: BatchType,
                consistency: Optional[int],
                idempotent: bool = False) -> tuple[BatchStatement, dict[str, BoundStatement]]:
    """The driver batch of ``members``, each bound through the prepared cache; nothing is sent.

    Each member shape is prepared once and reused, and a member whose values
    do not bind is prepared afresh once, as a single statement is; a second
    failure raises here, before anything of the batch is sent. Also returns
    one bound statement per distinct text, for :func:`_reprepare_changed`.
    """
    batch = BatchStatement(batch_type=batch_type)
    batch.is_idempotent = idempotent
    sent: dict[str, BoundStatement] = {}
    for (cql, _), bound in zip(members, conn.statements.bind_many(session, members)):
        batch.add(bound)
        sent.setdefault(cql, bound)
    level = consistency if consistency is not None else conn.consistency
    if level is not None:
        batch.consistency_level = level
    return batch, sent


def _reprepare_changed(conn: Connection, sent: dict[str, BoundStatement]) -> bool:
    """After the server refused a batch: whether the columns of any member's text changed (those are re-prepared)."""
    return any([conn.reprepare_if_changed(cql, bound) for cql, bound in sent.items()])


def _prepare_each(conn: Connection, texts: Sequence[str]) -> None:
    for cql in texts:
        conn.prepare(cql)


def _batch_members(members: Sequence[BatchMember]) -> list[BatchMember]:
    members = list(members)
    if not members:
        raise ValueError("an empty batch: there is nothing to send")
    return members


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
    refused with nothing of it applied: a member did not bind (nothing was
    sent), or the server answered ``InvalidRequest``.
    A batch-wide ``USING TIMESTAMP`` belongs in each member's text (see
    :func:`cqlengine.statements.render_batch_members`): the driver sets the
    request's own timestamp from the cluster's timestamp generator only.
    """
    members = _batch_members(members)
    kind = _batch_type(batch_type)
    conn = get_connection(connection)
    session = conn.ensure_session()
    in_flight = False  # whether a request that may have been applied is out
    try:
        batch, sent = _bind_batch(conn, session, members, kind, consistency, idempotent)
        try:
            in_flight = True
            options = _send_options(conn, session, _BatchText(kind, members), timeout, profile=execution_profile)
            return _timed(conn, batch, lambda: session.execute(batch, **options))
        except InvalidRequest:
            in_flight = False  # refused before anything was applied
            if not _reprepare_changed(conn, sent):
                raise
        batch, _ = _bind_batch(conn, session, members, kind, consistency, idempotent)
        in_flight = True
        options = _send_options(conn, session, _BatchText(kind, members), timeout, profile=execution_profile)
        return _timed(conn, batch, lambda: session.execute(batch, **options))
    except Exception as exc:
        if on_refused is not None and (isinstance(exc, InvalidRequest) or not in_flight):
            on_refused()
        raise


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

    A lazy connection's connect and the preparing of member shapes not yet
    cached run in the loop's executor; cached members are bound on the spot.
    """
    members = _batch_members(members)
    kind = _batch_type(batch_type)
    conn = get_connection(connection)
    loop = asyncio.get_running_loop()
    in_flight = False
    try:
        if conn.session is None:
            await loop.run_in_executor(None, conn.ensure_session)
        new = [cql for cql in dict.fromkeys(cql for cql, _ in members) if conn.cached(cql, count_hit=False) is None]
        if new:
            await loop.run_in_executor(None, _prepare_each, conn, new)
        session = conn.ensure_session()
        batch, sent = _bind_batch(conn, session, members, kind, consistency, idempotent)
        try:
            in_flight = True
            future = session.execute_async(batch, **_send_options(conn, session, _BatchText(kind, members), timeout,
                                                        profile=execution_profile))
            return AsyncResult(future, await _atimed(conn, batch, future))
        except InvalidRequest:
            in_flight = False
            changed: bool = await loop.run_in_executor(None, _reprepare_changed, conn, sent)
            if not changed:
                raise
        batch, _ = _bind_batch(conn, session, members, kind, consistency, idempotent)
        in_flight = True
        future = session.execute_async(batch, **_send_options(conn, session, _BatchText(kind, members), timeout,
                                                        profile=execution_profile))
        return AsyncResult(future, await _atimed(conn, batch, future))
    except Exception as exc:
        if on_refused is not None and (isinstance(exc, InvalidRequest) or not in_flight):
            on_refused()
        raise


__all__ = [
    "AsyncResult",
    "aexecute",
    "aexecute_batch",
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
    "register_connection",
    "set_session",
    "set_default_connection",
    "setup",
    "unregister_connection",
]
