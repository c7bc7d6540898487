"""Connections: the one place that touches a driver ``Session``.

A registry maps connection names to :class:`Connection` objects; one of them
is the default. :func:`execute` is the single door every statement of the
library goes through: it prepares each distinct parameterised CQL text once
per connection (a bounded LRU cache) and binds the values, so no value is
ever formatted into CQL text.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster, ResponseFuture, ResultSet, Session
from cassandra.query import BoundStatement, PreparedStatement, SimpleStatement, Statement, dict_factory

from cqlengine.exceptions import ConnectionException

log = logging.getLogger(__name__)

DEFAULT_CONNECTION = "default"
DEFAULT_PREPARED_CACHE_SIZE = 1000


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"


#: Leave the driver's default timeout in place (``None`` means no timeout).
NOT_SET: Any = _NotSet()


@dataclass
class ConnectionStats:
    """Counters of one connection, for tests and benchmarks."""

    executed: int = 0
    prepared_hits: int = 0
    prepared_misses: int = 0
    prepared_evictions: int = 0


class Connection:
    """A named cluster/session pair with its prepared-statement cache."""

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
        self.hosts = list(hosts or [])
        self.consistency = consistency
        self.lazy_connect = lazy_connect
        self.retry_connect = retry_connect
        self.cluster_options = dict(cluster_options or {})
        self.default_keyspace = default_keyspace
        self.prepared_cache_size = prepared_cache_size
        self.stats = ConnectionStats()
        self.cluster: Optional[Cluster] = None
        self.session: Optional[Session] = None
        self._owns_cluster = session is None
        self._prepared: OrderedDict[tuple[Optional[str], str], PreparedStatement] = OrderedDict()
        self._preparing: dict[tuple[Optional[str], str], threading.Event] = {}
        self._lock = threading.RLock()
        if session is not None:
            self.session = session
            self.cluster = session.cluster
            session.row_factory = dict_factory
        elif not lazy_connect:
            self.connect()

    def __repr__(self) -> str:
        return f"<Connection {self.name!r} hosts={self.hosts!r}>"

    def connect(self) -> None:
        """Open the cluster and session; a failure names the hosts and the driver's error."""
        with self._lock:
            if self.session is not None:
                return
            cluster = Cluster(self.hosts, **self.cluster_options)
            try:
                session = cluster.connect()
            except Exception as exc:
                cluster.shutdown()
                if self.retry_connect:
                    log.warning("connection %r: could not connect to %s (%s); will retry on next use",
                                self.name, self.hosts, exc)
                    return
                raise ConnectionException(
                    f"Connection {self.name!r} could not reach Cassandra at hosts {self.hosts} "
                    f"(port {cluster.port}): {exc}"
                ) from exc
            session.row_factory = dict_factory
            self.cluster, self.session = cluster, session

    def ensure_session(self) -> Session:
        if self.session is None:
            self.connect()
            if self.session is None:
                raise ConnectionException(
                    f"Connection {self.name!r} is not connected to {self.hosts} yet; "
                    "the last attempt failed (see the warning logged)"
                )
        return self.session

    def shutdown(self) -> None:
        with self._lock:
            if self._owns_cluster and self.cluster is not None:
                self.cluster.shutdown()
            self.cluster = self.session = None
            self._prepared.clear()

    # -- prepared statements -------------------------------------------------------

    def cached(self, cql: str) -> Optional[PreparedStatement]:
        """The cached prepared form of ``cql`` (counted as a hit), or None."""
        session = self.ensure_session()
        key = (session.keyspace, cql)  # unqualified names resolve against the session keyspace
        with self._lock:
            prepared = self._prepared.get(key)
            if prepared is not None:
                self._prepared.move_to_end(key)
                self.stats.prepared_hits += 1
            return prepared

    def prepare(self, cql: str) -> PreparedStatement:
        """The prepared form of ``cql``, prepared at most once while it stays cached.

        Threads racing on a new shape prepare it once: the first prepares, the
        others wait for it; nobody holds the cache's lock across the network.
        """
        while True:
            prepared = self.cached(cql)
            if prepared is not None:
                return prepared
            session = self.ensure_session()
            key = (session.keyspace, cql)
            with self._lock:
                waiting = self._preparing.get(key)
                if waiting is None:
                    done = self._preparing[key] = threading.Event()
            if waiting is not None:
                waiting.wait()
                continue  # prepared by another thread (or it failed: try ourselves)
            try:
                prepared = session.prepare(cql)
                with self._lock:
                    self.stats.prepared_misses += 1
                    self._prepared[key] = prepared
                    while len(self._prepared) > max(self.prepared_cache_size, 0):
                        self._prepared.popitem(last=False)
                        self.stats.prepared_evictions += 1
                return prepared
            finally:
                with self._lock:
                    del self._preparing[key]
                done.set()

    @property
    def prepared_cache_len(self) -> int:
        return len(self._prepared)

    def clear_prepared_cache(self) -> None:
        with self._lock:
            self._prepared.clear()

    def build_statement(
        self,
        query: Union[str, Statement],
        params: Optional[Union[Sequence[Any], dict[str, Any]]] = None,
        consistency: Optional[int] = None,
    ) -> Statement:
        """A driver statement for ``query``: prepared and bound when it has params."""
        if isinstance(query, str):
            statement: Statement
            if params:
                statement = self.prepare(query).bind(params)
            else:
                # DDL and parameterless text: nothing to bind, nothing worth preparing.
                statement = SimpleStatement(query)
        else:
            statement = query
            if params and isinstance(statement, PreparedStatement):
                statement = statement.bind(params)
        level = consistency if consistency is not None else self.consistency
        if level is not None:
            statement.consistency_level = level
        return statement


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
) -> Connection:
    """Register a named connection from ``hosts`` or an existing driver ``session``."""
    global _default_name
    if name in _connections:
        raise ConnectionException(
            f"A connection named {name!r} is already registered; call "
            f"unregister_connection({name!r}) first or choose another name."
        )
    if session is not None and (hosts or cluster_options):
        raise ConnectionException(
            f"register_connection({name!r}): give either hosts (with cluster_options) or a session, not both."
        )
    if session is None and not hosts:
        raise ConnectionException(
            f"register_connection({name!r}) needs hosts (a list of contact points) or a driver session."
        )
    conn = Connection(name, hosts=hosts, consistency=consistency, lazy_connect=lazy_connect,
                      retry_connect=retry_connect, cluster_options=cluster_options, session=session,
                      default_keyspace=default_keyspace, prepared_cache_size=prepared_cache_size)
    with _registry_lock:
        _connections[name] = conn
        if default or _default_name is None:
            _default_name = name
    return conn


def unregister_connection(name: str) -> None:
    """Shut down and forget connection ``name``."""
    global _default_name
    with _registry_lock:
        conn = _connections.pop(name, None)
        if conn is None:
            raise ConnectionException(f"No connection named {name!r} is registered.")
        if _default_name == name:
            _default_name = None
    conn.shutdown()


def set_default_connection(name: str) -> None:
    global _default_name
    if name not in _connections:
        raise ConnectionException(f"No connection named {name!r} is registered.")
    _default_name = name


def setup(
    hosts: Sequence[str],
    default_keyspace: Optional[str] = None,
    consistency: Optional[int] = None,
    lazy_connect: bool = False,
    retry_connect: bool = False,
    **cluster_options: Any,
) -> Connection:
    """Set up the default connection (replacing an earlier one)."""
    if DEFAULT_CONNECTION in _connections:
        unregister_connection(DEFAULT_CONNECTION)
    prepared_cache_size = cluster_options.pop("prepared_cache_size", DEFAULT_PREPARED_CACHE_SIZE)
    return register_connection(
        DEFAULT_CONNECTION, hosts=hosts, consistency=consistency, lazy_connect=lazy_connect,
        retry_connect=retry_connect, cluster_options=cluster_options, default=True,
        default_keyspace=default_keyspace, prepared_cache_size=prepared_cache_size,
    )


def set_session(session: Session) -> Connection:
    """Make an existing driver session the default connection (its row factory becomes dicts)."""
    if DEFAULT_CONNECTION in _connections:
        unregister_connection(DEFAULT_CONNECTION)
    return register_connection(DEFAULT_CONNECTION, session=session, default=True)


def default() -> Connection:
    """The default connection to a Cassandra on 127.0.0.1 with the driver's defaults."""
    return setup(["127.0.0.1"])


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


def _log(conn: Connection, query: Union[str, Statement]) -> None:
    if log.isEnabledFor(logging.DEBUG):
        text = query if isinstance(query, str) else getattr(query, "query_string", repr(query))
        log.debug("[%s] %s", conn.name, text)  # CQL text only: values never reach the log


def execute(
    query: Union[str, Statement],
    params: Optional[Union[Sequence[Any], dict[str, Any]]] = None,
    consistency: Optional[int] = None,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
    fetch_size: Optional[int] = None,
    paging_state: Optional[bytes] = None,
    consistency_level: Optional[int] = None,
) -> ResultSet:
    """Run ``query`` on a connection; parameterised text is prepared once and bound.

    ``fetch_size`` sets the page size; ``paging_state`` resumes a paged query.
    ``consistency_level`` is the peer's spelling of ``consistency``.
    """
    if consistency is None:
        consistency = consistency_level
    conn = get_connection(connection)
    statement = conn.build_statement(query, params, consistency)
    return conn.ensure_session().execute(statement, **_send_options(conn, query, statement, timeout,
                                                                     fetch_size, paging_state))


def _send_options(conn: Connection, query: Union[str, Statement], statement: Statement, timeout: Any,
                  fetch_size: Optional[int] = None, paging_state: Optional[bytes] = None) -> dict[str, Any]:
    """Count and log one statement about to be sent; the driver's keyword arguments for it."""
    if fetch_size is not None:
        statement.fetch_size = fetch_size
    _log(conn, query)
    conn.stats.executed += 1
    options: dict[str, Any] = {"paging_state": paging_state}
    if timeout is not NOT_SET:
        options["timeout"] = timeout
    return options


def execute_async(
    query: Union[str, Statement],
    params: Optional[Union[Sequence[Any], dict[str, Any]]] = None,
    consistency: Optional[int] = None,
    timeout: Any = NOT_SET,
    connection: Optional[str] = None,
) -> ResponseFuture:
    """Like :func:`execute` but returns the driver's ``ResponseFuture``."""
    conn = get_connection(connection)
    statement = conn.build_statement(query, params, consistency)
    return conn.ensure_session().execute_async(statement, **_send_options(conn, query, statement, timeout))


class AsyncResult:
    """One page of an asyncio execution's rows, and the way to the next page."""

    def __init__(self, response_future: ResponseFuture, rows: Optional[list[Any]]) -> None:
        self.response_future = response_future
        self.current_rows: list[Any] = list(rows or [])

    @property
    def has_more_pages(self) -> bool:
        return bool(self.response_future.has_more_pages)

    @property
    def paging_state(self) -> Optional[bytes]:
        return self.response_future._paging_state if self.has_more_pages else None

    def one(self) -> Any:
        return self.current_rows[0] if self.current_rows else None

    async def fetch_next_page(self) -> None:
        """Replace ``current_rows`` with the next page."""
        self.current_rows = list(await _wait(self.response_future, next_page=True) or [])


def _settle(waiter: asyncio.Future, rows: Any, error: Optional[BaseException]) -> None:
    if waiter.done():
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(rows)


async def _wait(response_future: ResponseFuture, next_page: bool = False) -> Any:
    """Await the driver's callback-based future from the event loop."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    response_future.clear_callbacks()
    if next_page:
        # Start first: a callback added while the previous page is still the result would get that page.
        response_future.start_fetching_next_page()

    def deliver(rows: Any, error: Optional[BaseException]) -> None:
        try:
            loop.call_soon_threadsafe(_settle, waiter, rows, error)
        except RuntimeError:
            pass  # the loop has closed: nobody is waiting any more

    response_future.add_callbacks(lambda rows: deliver(rows, None), lambda error: deliver(None, error))
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
) -> AsyncResult:
    """:func:`execute` for asyncio: the first page of rows, without blocking the event loop.

    A lazy connection's connect and the preparing of a new statement shape run
    in the loop's executor; a cached statement is bound on the spot.
    """
    conn = get_connection(connection)
    loop = asyncio.get_running_loop()
    if conn.session is None:
        await loop.run_in_executor(None, conn.ensure_session)
    if isinstance(query, str) and params:
        query = conn.cached(query) or await loop.run_in_executor(None, conn.prepare, query)
    statement = conn.build_statement(query, params, consistency)
    future = conn.ensure_session().execute_async(
        statement, **_send_options(conn, query, statement, timeout, fetch_size, paging_state))
    return AsyncResult(future, await _wait(future))


__all__ = [
    "AsyncResult",
    "aexecute",
    "BoundStatement",
    "Connection",
    "ConnectionStats",
    "ConsistencyLevel",
    "DEFAULT_CONNECTION",
    "NOT_SET",
    "execute",
    "execute_async",
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
