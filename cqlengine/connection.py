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
import copy
import functools
import logging
import math
import socket
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Optional, Sequence, Union

from cassandra import AuthenticationFailed, ConsistencyLevel, InvalidRequest, OperationTimedOut
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    ResponseFuture,
    ResultSet,
    Session,
)
from cassandra.query import (
    BatchStatement,
    BatchType,
    BoundStatement,
    PreparedStatement,
    SimpleStatement,
    Statement,
    dict_factory,
    tuple_factory,
)

from cqlengine import statements
from cqlengine.exceptions import AuthenticationRefused, ConnectionException, ConnectionUnreachable
from cqlengine.prepared import Params, PreparedCache

try:
    from cassandra.cluster import _ConfigMode

    _LEGACY: Any = _ConfigMode.LEGACY
except ImportError:  # pragma: no cover - the driver's private name moved
    _LEGACY = 1

log = logging.getLogger(__name__)

DEFAULT_CONNECTION = "default"
DEFAULT_PREPARED_CACHE_SIZE = 1000


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"

    def __reduce__(self) -> str:
        return "NOT_SET"  # unpickles as the one NOT_SET of this module (a split's timeout is pickled)


#: Leave the driver's default timeout in place (``None`` means no timeout).
NOT_SET: Any = _NotSet()


class LatencyStats:
    """Requests of one kind of statement: how many, how many failed, and their recent latencies.

    ``p50``/``p99`` (seconds) are over the last ``WINDOW`` requests of the
    kind, so they follow what the connection does now; None before any.
    """

    WINDOW = 1024

    def __init__(self) -> None:
        self.count = 0
        self.failed = 0
        self._recent: deque[float] = deque(maxlen=self.WINDOW)
        self._lock = threading.Lock()  # requests of many threads are counted: none may be lost

    def add(self, seconds: float, failed: bool = False) -> None:
        with self._lock:
            self.count += 1
            self.failed += failed
            self._recent.append(seconds)

    def percentile(self, fraction: float) -> Optional[float]:
        """The latency below which ``fraction`` of the recent requests took (nearest rank)."""
        recent = sorted(self._recent)
        if not recent:
            return None
        return recent[min(len(recent) - 1, max(0, math.ceil(fraction * len(recent)) - 1))]

    @property
    def p50(self) -> Optional[float]:
        return self.percentile(0.5)

    @property
    def p99(self) -> Optional[float]:
        return self.percentile(0.99)

    def __repr__(self) -> str:
        def ms(value: Optional[float]) -> str:
            return "-" if value is None else f"{value * 1000:.2f} ms"
        return f"<LatencyStats count={self.count} failed={self.failed} p50={ms(self.p50)} p99={ms(self.p99)}>"


#: The kinds of statement latencies are kept by (any other statement counts as OTHER).
STATEMENT_KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BATCH", "OTHER")


@dataclass
class ConnectionStats:
    """What one connection did: counters, latencies by kind of statement, and the driver's metrics.

    ``latency[kind]`` (kinds: ``STATEMENT_KINDS``) is a :class:`LatencyStats`
    of the requests sent one at a time (``execute``, ``aexecute``, batches);
    writes of a bulk call are counted in ``executed`` only. ``driver`` is the
    driver's own ``cassandra.metrics.Metrics`` of the cluster when it was
    built with ``metrics_enabled=True`` (``setup(..., metrics_enabled=True)``),
    else None.
    """

    executed: int = 0
    prepared_hits: int = 0
    prepared_misses: int = 0
    prepared_evictions: int = 0
    #: Statements dropped from the cache because a table they use changed (DDL, ours or another client's).
    prepared_invalidations: int = 0
    #: Statements prepared again because binding failed against their (stale) column types.
    reprepared_on_bind_error: int = 0
    latency: dict[str, LatencyStats] = field(default_factory=lambda: {kind: LatencyStats() for kind in STATEMENT_KINDS})
    driver: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, query: Any, seconds: float, failed: bool = False) -> None:
        self.latency[_kind(query)].add(seconds, failed)

    def count(self, counter: str, n: int = 1) -> None:
        """Add ``n`` to ``counter`` (``executed`` ...): many threads send through one connection."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + n)


def _legacy_mode(cluster: Any) -> bool:
    # The driver keeps its configuration mode private (0 uncommitted, 1 legacy, 2 profiles);
    # legacy mode forbids passing a profile, so it has to be known.
    return getattr(cluster, "_config_mode", None) == _LEGACY


class Connection:
    """A named cluster/session pair with its prepared-statement cache.

    ``statements`` is the :class:`~cqlengine.prepared.PreparedCache`; its
    module docstring tells when an entry is dropped and prepared again
    (after DDL of ours, after the driver learns of another client's, and
    when binding fails against stale column types).
    """

    def __init__(
        self,
        name: str,
        hosts: Optional[Sequence[str]] = None,
        consistency: Optional[int] = None,
        lazy_connect: bool = False,
        retry_connect: bool = False,
        cluster_options: Optional[dict[str, Any]] = None,
        session: Optional[Session] = None,
        default_keyspace: Optional[str] = None,
        prepared_cache_size: int = DEFAULT_PREPARED_CACHE_SIZE,
    ) -> None:
        self.name = name
        self.hosts = list(hosts) if hosts else None
        self.consistency = consistency
        self.lazy_connect = lazy_connect
        self.retry_connect = retry_connect
        self.cluster_options = dict(cluster_options or {})
        self.default_keyspace = default_keyspace
        self.stats = ConnectionStats()
        #: Bounds each request that sets no timeout of its own (NOT_SET: the driver's default).
        self.default_timeout: Any = NOT_SET
        self.cluster: Optional[Cluster] = None
        self.session: Optional[Session] = None
        self._owns_cluster = session is None
        self.statements = PreparedCache(prepared_cache_size, self.stats)
        self._lock = threading.RLock()
        if session is not None:
            _check_borrowed_session(name, session)
            self.session = session
            self.cluster = session.cluster
            self.stats.driver = session.cluster.metrics if session.cluster.metrics_enabled else None
            if self.default_keyspace is None:
                self.default_keyspace = session.keyspace  # as the peer: the session's keyspace
        elif not lazy_connect:
            self.connect()

    def __repr__(self) -> str:
        return f"<Connection {self.name!r} hosts={self.hosts!r}>"

    def connect(self) -> None:
        """Open the cluster and session; a failure names the hosts and the driver's error.

        A failure shuts the half-made cluster down: no thread or socket is left behind.
        """
        with self._lock:
            if self.session is not None:
                return
            cluster = self._new_cluster()
            try:
                session = cluster.connect()
                self._configure_own(cluster, session)
            except Exception as exc:
                cluster.shutdown()
                error = connect_error(self.name, self._hosts_text(), cluster.port, exc)
                if self.retry_connect and isinstance(exc, NoHostAvailable):
                    log.warning("%s; will retry on next use", error)
                    return
                raise error from exc
            self.cluster, self.session = cluster, session
            self.stats.driver = cluster.metrics if cluster.metrics_enabled else None

    def _hosts_text(self) -> str:
        return str(self.hosts) if self.hosts else "['127.0.0.1'] (the driver's default)"

    def _new_cluster(self) -> Cluster:
        options = dict(self.cluster_options)
        # Without TCP_NODELAY a request over ~8 KiB (a batch of 50 rows) waits for a delayed ACK:
        # about 45 ms instead of 1.5 ms here. A caller's own sockopts are kept as given.
        options.setdefault("sockopts", [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        try:
            cluster = Cluster(self.hosts, **options)
        except Exception as exc:
            raise ConnectionException(f"Connection {self.name!r}: the driver refused the cluster options: "
                                      f"{type(exc).__name__}: {exc}") from exc
        if not _legacy_mode(cluster) and not self.cluster_options.get("execution_profiles"):
            # The default profile the driver made for our own cluster is ours to set: plain
            # statements on get_session() read dicts and use `consistency`, as with the peer.
            profile = cluster.profile_manager.default
            profile.row_factory = dict_factory
            if self.consistency is not None:
                profile.consistency_level = self.consistency
        return cluster

    def _configure_own(self, cluster: Cluster, session: Session) -> None:
        """Defaults of a session this connection created (a caller's profiles are left alone).

        Its default profile reads dicts with ``consistency`` (see ``_new_cluster``); the session's
        own legacy settings say the same, so that ``session.default_consistency_level`` reads what
        was set up (as with the peer) and a session attribute set later (``session.default_timeout
        = 30``, which moves the driver to its legacy configuration) leaves every setting in force.
        They are set as the driver sets them itself, without choosing a configuration mode.
        """
        if _legacy_mode(cluster):
            session.row_factory = dict_factory
            if self.consistency is not None:
                session.default_consistency_level = self.consistency
        elif not self.cluster_options.get("execution_profiles"):
            session._row_factory = dict_factory
            if self.consistency is not None:
                session._default_consistency_level = self.consistency

    def ensure_session(self) -> Session:
        if self.session is None:
            self.connect()
            if self.session is None:
                raise ConnectionUnreachable(
                    f"Connection {self.name!r} is not connected to {self._hosts_text()} yet; "
                    "the last attempt failed (see the warning logged)"
                )
        return self.session

    def shutdown(self) -> None:
        with self._lock:
            if self._owns_cluster and self.cluster is not None:
                self.cluster.shutdown()
            self.cluster = self.session = None
            self.statements.clear()

    # -- how rows are read -----------------------------------------------------------

    def execution_profile(self, session: Session, tuple_rows: bool = False, name: Any = EXEC_PROFILE_DEFAULT) -> Any:
        """The profile our statements run with: the session's default, reading rows as dicts.

        With ``tuple_rows`` rows are read as tuples (the result's
        ``column_names`` name their values), which is cheaper for a query of
        many rows. In the driver's legacy mode no profile can be passed, and
        the session's own row factory must be ``dict_factory`` (see
        :func:`_check_borrowed_session`): rows are dicts then, whatever was
        asked. Otherwise a profile whose rows are not what is wanted is copied
        per statement (a shallow copy: its policies are shared), so changes
        the caller makes to it later still apply. ``name`` picks another of the
        session's profiles (or is an ``ExecutionProfile`` itself), read the
        same way; None is the default profile.
        """
        if name is None:
            name = EXEC_PROFILE_DEFAULT
        if _legacy_mode(session.cluster):
            if session.row_factory is not dict_factory:
                raise ConnectionException(_legacy_factory_message(self.name, session))
            if name is not EXEC_PROFILE_DEFAULT:
                raise ConnectionException(
                    f"Connection {self.name!r}: execution profile {name!r} asked for, but the session's cluster "
                    "is in the driver's legacy configuration, which has no profiles")
            return EXEC_PROFILE_DEFAULT
        factory = tuple_factory if tuple_rows else dict_factory
        profiles = session.cluster.profile_manager.profiles
        if isinstance(name, ExecutionProfile):
            if not any(name is registered for registered in profiles.values()):
                # The driver readies a profile's policies when the profile is added to its cluster.
                raise ConnectionException(
                    f"Connection {self.name!r}: an ExecutionProfile not added to the cluster cannot run a "
                    "statement; add it with cluster.add_execution_profile(name, profile) and pass its name")
            profile = name
        else:
            try:
                profile = session.get_execution_profile(name)
            except ValueError:
                known = ", ".join(sorted(repr(key) if isinstance(key, str) else "the default" for key in profiles))
                raise ConnectionException(f"Connection {self.name!r} has no execution profile {name!r} "
                                          f"(its profiles: {known})") from None
        if profile.row_factory is factory:
            return name
        return session.execution_profile_clone_update(profile, row_factory=factory)

    # -- prepared statements (the cache lives in cqlengine.prepared) ------------------

    def cached(self, cql: str, count_hit: bool = True) -> Optional[PreparedStatement]:
        """The cached prepared form of ``cql`` (counted as a hit unless told not to), or None."""
        entry = self.statements.lookup(self.ensure_session(), cql, count_hit)
        return None if entry is None else entry.prepared

    def prepare(self, cql: str) -> PreparedStatement:
        """The prepared form of ``cql``, prepared at most once while it stays cached."""
        return self.statements.entry_for(self.ensure_session(), cql).prepared

    @property
    def prepared_cache_size(self) -> int:
        """How many prepared statements the cache keeps (least recently used go first)."""
        return self.statements.size

    @property
    def prepared_cache_len(self) -> int:
        return len(self.statements)

    def clear_prepared_cache(self) -> None:
        self.statements.clear()

    def forget_table(self, keyspace: Optional[str], table: str) -> int:
        """Drop every cached statement that uses ``keyspace.table`` (None: any keyspace); how many."""
        return self.statements.forget_table(keyspace, table)

    def forget_keyspace(self, keyspace: str) -> int:
        """Drop every cached statement that uses a table of ``keyspace``."""
        return self.statements.forget_keyspace(keyspace)

    def reprepare_if_changed(self, cql: str, sent: Statement) -> bool:
        """After the server refused ``sent``: whether ``cql``'s columns changed (then it is prepared afresh)."""
        return self.statements.reprepare_if_changed(self.ensure_session(), cql, sent)

    def build_statement(
        self,
        query: Union[str, Statement],
        params: Optional[Union[Sequence[Any], dict[str, Any]]] = None,
        consistency: Optional[int] = None,
        fetch_size: Optional[int] = None,
        idempotent: Optional[bool] = None,
        connection_defaults: bool = True,
    ) -> Statement:
        """A driver statement for ``query``: prepared and bound when it has params.

        ``idempotent`` sets the driver's flag (whether it may retry or
        speculatively run the statement); None leaves it as it is (False for a
        new statement). A statement the caller passed in is copied before any
        option is set on it. ``connection_defaults=False`` (a statement run
        with an execution profile of its own) leaves the connection's default
        consistency out, so the profile's applies.
        """
        statement: Statement
        if isinstance(query, str):
            if params:
                statement = self.statements.bind(self.ensure_session(), query, params)
            else:
                # DDL and parameterless text: nothing to bind, nothing worth preparing.
                statement = SimpleStatement(query)
        elif isinstance(query, PreparedStatement):
            statement = query.bind(params or [])
        else:
            if params:
                raise ConnectionException(
                    f"execute: parameters were given with a {type(query).__name__}, which carries its own; "
                    "pass the CQL text (or a PreparedStatement) with the parameters instead"
                )
            statement = query
            if consistency is not None or fetch_size is not None or idempotent is not None:
                statement = copy.copy(query)
        level = consistency if consistency is not None or not connection_defaults else self.consistency
        if level is not None and (statement is not query or consistency is not None):
            statement.consistency_level = level
        if fetch_size is not None:
            statement.fetch_size = fetch_size
        if idempotent is not None:
            statement.is_idempotent = idempotent
        return statement


def connect_error(name: str, hosts: str, port: int, exc: BaseException) -> ConnectionException:
    """The error of a failed connect: credentials refused, no host reached, or the driver's own error."""
    errors = dict(getattr(exc, "errors", None) or {}) if isinstance(exc, NoHostAvailable) else {}
    refused = [error for error in errors.values() if isinstance(error, AuthenticationFailed)]
    if refused:
        return AuthenticationRefused(
            f"Connection {name!r}: Cassandra at hosts {hosts} (port {port}) refused the credentials: {refused[0]}; "
            "check the username and password (setup(..., auth_provider=PlainTextAuthProvider(...)))", errors)
    message = f"Connection {name!r} could not reach Cassandra at hosts {hosts} (port {port}): {exc}"
    if isinstance(exc, NoHostAvailable):
        return ConnectionUnreachable(message, errors)
    return ConnectionException(message)


def _checked_timeout(owner: str, timeout: Any) -> Any:
    if timeout is NOT_SET or timeout is None:
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConnectionException(f"{owner}: default_timeout must be a positive number of seconds or None, "
                                  f"got {timeout!r}")
    return float(timeout)


def _legacy_factory_message(name: str, session: Session) -> str:
    factory = getattr(session.row_factory, "__name__", repr(session.row_factory))
    return (f"Connection {name!r}: the session's cluster is in the driver's legacy configuration with "
            f"row_factory={factory}; cqlengine reads rows as dicts and does not change a session it was "
            "handed. Build the cluster with execution profiles (any row factory works then), or set "
            "session.row_factory = dict_factory before handing it over.")


def _check_borrowed_session(name: str, session: Session) -> None:
    """A borrowed session must be usable as it is (the peer requires dict rows in legacy mode too)."""
    if _legacy_mode(session.cluster) and session.row_factory is not dict_factory:
        raise ConnectionException(_legacy_factory_message(name, session))


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


def _kind(query: Any) -> str:
    if isinstance(query, str):
        return _kind_of_text(query)
    if isinstance(query, (_BatchText, BatchStatement)):
        return "BATCH"
    if isinstance(query, BoundStatement):
        query = query.prepared_statement.query_string
    text = query if isinstance(query, str) else getattr(query, "query_string", None)
    return _kind_of_text(text) if isinstance(text, str) else "OTHER"


@functools.lru_cache(maxsize=1024)
def _kind_of_text(cql: str) -> str:
    # Once per text: the same statement texts are sent again and again.
    word = cql.lstrip()[:6].upper()
    if word.startswith("BEGIN"):
        return "BATCH"
    return word if word in STATEMENT_KINDS else "OTHER"


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
    """The cluster's partitioner and its ring: each token, in order, with the replicas (in ``keyspace``)
    of the range that ends at it. The ring is empty when the driver keeps no token metadata."""
    session = get_connection(connection).ensure_session()
    metadata = session.cluster.metadata
    token_map = metadata.token_map
    if token_map is None:
        return metadata.partitioner or "", []
    ring = []
    for token in token_map.ring:
        replicas = tuple(str(host.address) for host in token_map.get_replicas(keyspace, token))
        ring.append((int(token.value), replicas))
    return metadata.partitioner or "", ring


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


class AsyncResult:
    """One page of an asyncio execution's rows, and the way to the next page."""

    def __init__(self, response_future: ResponseFuture, rows: Optional[list[Any]]) -> None:
        self.response_future = response_future
        self.current_rows: list[Any] = list(rows or [])

    @property
    def column_names(self) -> Optional[list[str]]:
        """The names of the rows' values, in order (as ``ResultSet.column_names``)."""
        return self.response_future._col_names  # type: ignore[no-any-return]

    @property
    def has_more_pages(self) -> bool:
        return bool(self.response_future.has_more_pages)

    @property
    def paging_state(self) -> Optional[bytes]:
        return self.response_future._paging_state if self.has_more_pages else None

    def one(self) -> Any:
        return self.current_rows[0] if self.current_rows else None

    async def fetch_next_page(self) -> None:
        """Replace ``current_rows`` with the next page, waited for no longer than the request's timeout."""
        future = self.response_future
        try:
            rows = await asyncio.wait_for(_wait(future, next_page=True), future.timeout)
        except asyncio.TimeoutError:
            raise _page_timed_out(future) from None
        self.current_rows = list(rows or [])


def next_page(result: ResultSet) -> ResultSet:
    """The page after ``result``'s, waited for no longer than the request's timeout.

    The driver times a paged request from its first page, and waits for a
    next page without a limit: with a node stalled, ``fetch_next_page()``
    would wait as long as the node does. The same request goes on here (so
    the previous page's rows are let go at once), and the wait is bounded by
    the timeout the first page was sent with (the query's, the connection's
    default, or the profile's; None: no limit, as asked).
    """
    future = result.response_future
    arrived = threading.Event()
    future.clear_callbacks()
    future.start_fetching_next_page()  # first: a callback added before would get the previous page
    future.add_callbacks(lambda _: arrived.set(), lambda _: arrived.set())
    if not arrived.wait(future.timeout):
        future.clear_callbacks()
        raise _page_timed_out(future)
    return future.result()


def _page_timed_out(future: ResponseFuture) -> OperationTimedOut:
    return OperationTimedOut({"next page": f"no answer within {future.timeout} s"},
                             getattr(future, "_current_host", None))


def _settle(waiter: asyncio.Future, rows: Any, error: Optional[BaseException]) -> None:
    if waiter.done():
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(rows)


class _LoopBridge:
    """Hands the driver's results, which arrive on its own threads, to one event loop.

    Waking a loop from another thread costs a write to its self-pipe and a
    turn of its selector. Results that arrive while a wake-up is already on
    its way ride along with it: with many requests in flight, one wake-up
    settles a whole run of them. The bridge holds its loop and the awaiters
    weakly, so a closed loop is freed with everything it waited for.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = weakref.ref(loop)
        self.pending: list[tuple[weakref.ref[asyncio.Future], Any, Optional[BaseException]]] = []
        self.scheduled = False
        self.lock = threading.Lock()

    def rows(self, rows: Any, waiter: asyncio.Future) -> None:
        self._deliver(waiter, rows, None)

    def error(self, error: BaseException, waiter: asyncio.Future) -> None:
        self._deliver(waiter, None, error)

    def _deliver(self, waiter: asyncio.Future, rows: Any, error: Optional[BaseException]) -> None:
        loop = self.loop()
        with self.lock:
            if loop is None or loop.is_closed():
                self.pending.clear()  # nobody is waiting any more, and no wake-up will come
                self.scheduled = False
                return
            self.pending.append((weakref.ref(waiter), rows, error))
            if self.scheduled:
                return  # the wake-up on its way settles this one too
            self.scheduled = True
        try:
            loop.call_soon_threadsafe(self._settle_pending)
        except RuntimeError:
            with self.lock:  # the loop closed in between
                self.pending.clear()
                self.scheduled = False

    def _settle_pending(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, []
            self.scheduled = False
        for waiter_ref, rows, error in pending:
            waiter = waiter_ref()
            if waiter is not None:  # else its task is gone: nobody awaits it
                _settle(waiter, rows, error)


_bridges: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBridge] = weakref.WeakKeyDictionary()
_bridges_lock = threading.Lock()


def _bridge(loop: asyncio.AbstractEventLoop) -> _LoopBridge:
    bridge = _bridges.get(loop)
    if bridge is None:
        with _bridges_lock:
            bridge = _bridges.get(loop)
            if bridge is None:
                bridge = _bridges[loop] = _LoopBridge(loop)
    return bridge


async def _wait(response_future: ResponseFuture, next_page: bool = False) -> Any:
    """Await the driver's callback-based future from the event loop."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    if next_page:
        response_future.clear_callbacks()  # the previous page's
        # Start first: a callback added while the previous page is still the result would get that page.
        response_future.start_fetching_next_page()
    bridge = _bridge(loop)
    response_future.add_callbacks(bridge.rows, bridge.error, callback_args=(waiter,), errback_args=(waiter,))
    try:
        return await waiter
    except asyncio.CancelledError:
        response_future.clear_callbacks()
        raise


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
