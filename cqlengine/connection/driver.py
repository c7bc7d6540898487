"""A :class:`Connection`: one named cluster and session of the driver, and how its statements are built.

Driver objects a caller hands over (a session, a cluster built with its own
execution profiles) are used as they are: the library never changes their
row factory, profiles or defaults. Its own statements read rows as dicts
through a copy of the caller's profile when that profile returns other rows.
"""
from __future__ import annotations

import copy
import logging
import socket
import threading
from typing import Any, Optional, Protocol, Sequence, Union

from cassandra import AuthenticationFailed
from cassandra import cluster as cluster_module
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable, Session
from cassandra.query import PreparedStatement, SimpleStatement, Statement, dict_factory, tuple_factory

from cqlengine.connection.refusals import RememberingConvictionPolicy
from cqlengine.connection.stats import ConnectionStats
from cqlengine.exceptions import AuthenticationRefused, ConnectionException, ConnectionUnreachable
from cqlengine.prepared import PreparedCache

try:
    from cassandra.cluster import _ConfigMode

    _LEGACY: Any = _ConfigMode.LEGACY
except ImportError:  # pragma: no cover - the driver's private name moved
    _LEGACY = 1

log = logging.getLogger(__name__)

DEFAULT_PREPARED_CACHE_SIZE = 1000


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"

    def __reduce__(self) -> str:
        return "NOT_SET"  # unpickles as the one NOT_SET of this module (a split's timeout is pickled)


#: Leave the driver's default timeout in place (``None`` means no timeout).
NOT_SET: Any = _NotSet()


def _legacy_mode(cluster: Cluster) -> bool:
    # The driver keeps its configuration mode private (0 uncommitted, 1 legacy, 2 profiles);
    # legacy mode forbids passing a profile, so it has to be known.
    return getattr(cluster, "_config_mode", None) == _LEGACY


class Transport(Protocol):
    """Another driver sending a connection's awaited statements (see ``acsylla_transport``)."""

    def forget_inherited(self) -> None:
        """In a child made by ``fork()``: let go of what the parent's driver made."""


class Connection:
    """A named cluster/session pair with its prepared-statement cache.

    ``cluster`` and ``session`` are the driver's (None until connected).
    ``default_timeout`` bounds each request that sets no timeout of its own
    (``NOT_SET``: the driver's default). ``prepared_cache`` is the
    :class:`~cqlengine.prepared.PreparedCache` of its statements; that module's
    docstring tells when an entry is dropped and prepared again (after DDL of
    ours, after the driver learns of another client's, and when binding fails
    against stale column types).
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
        self.default_timeout: Any = NOT_SET
        self.cluster: Optional[Cluster] = None
        self.session: Optional[Session] = None
        self._owns_cluster = session is None
        self._forked_borrowed = False  # a handed-over session inherited through fork(): unusable here
        #: The last error each host (by endpoint) gave a request, for the message when none is up.
        self.host_errors: dict[str, BaseException] = {}
        self.prepared_cache = PreparedCache(prepared_cache_size, self.stats)
        self._profile_copies = ProfileCopies()
        #: Another driver sending this connection's awaited statements (``transport="acsylla"``), or None.
        self.transport: Optional[Transport] = None
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
        # The driver's default policy, keeping each host's last connection error for the message of
        # a request that finds no host up (see refusals.unreachable).
        options.setdefault("conviction_policy_factory", RememberingConvictionPolicy)
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
            if self._forked_borrowed:
                raise ConnectionException(
                    f"Connection {self.name!r} uses a driver session handed over before this process was "
                    "forked; its sockets belong to the parent process. Hand a session made in this process "
                    "over again (connection.set_session(...) or register_connection(..., session=...), e.g. "
                    "in the server's post-fork hook), or let cqlengine make the cluster (connection.setup("
                    "hosts, ...)), which reconnects in a forked process by itself")
            self.connect()
            if self.session is None:
                raise ConnectionUnreachable(
                    f"Connection {self.name!r} is not connected to {self._hosts_text()} yet; "
                    "the last attempt failed (see the warning logged)"
                )
        return self.session

    def forget_inherited(self) -> None:
        """In a child made by ``fork()``: let go of the parent's cluster and session; the next statement
        connects afresh, with the same settings.

        Their sockets, and the driver's I/O thread that would answer them, belong to the parent (a wait
        on them here would never end). They are neither used nor shut down (shutting down would close
        what the parent still uses), and kept referenced so that nothing of them is finalized here.
        A session handed over by the caller cannot be made again by this library: the next statement
        raises :class:`ConnectionException` saying so.
        """
        self._lock = threading.RLock()
        self.stats.reset_locks()
        self.prepared_cache.reset_after_fork()
        self._profile_copies.clear()
        if self.transport is not None:
            self.transport.forget_inherited()
        if self.session is None:
            return
        _INHERITED.append((self.cluster, self.session))
        if self._owns_cluster and self.cluster is not None:
            _forget_at_exit(self.cluster)
        else:
            self._forked_borrowed = True
        self.cluster = self.session = None

    @property
    def session_keyspace(self) -> Optional[str]:
        """The keyspace the driver session uses for unqualified tables (``USE``), or None."""
        session = self.session
        return None if session is None else session.keyspace

    def shutdown(self) -> None:
        with self._lock:
            if self._owns_cluster and self.cluster is not None:
                self.cluster.shutdown()
            self.cluster = self.session = None
            self.prepared_cache.clear()
            self._profile_copies.clear()

    def token_ring(self, keyspace: str) -> tuple[str, list[tuple[int, tuple[str, ...]]]]:
        """The cluster's partitioner and its ring: each token, in order, with the replicas (in ``keyspace``)
        of the range that ends at it. The ring is empty when the driver keeps no token metadata."""
        metadata = self.ensure_session().cluster.metadata
        token_map = metadata.token_map
        if token_map is None:
            return metadata.partitioner or "", []
        ring = []
        for token in token_map.ring:
            replicas = tuple(str(host.address) for host in token_map.get_replicas(keyspace, token))
            ring.append((int(token.value), replicas))
        return metadata.partitioner or "", ring

    # -- how rows are read -----------------------------------------------------------

    def execution_profile(self, session: Session, tuple_rows: bool = False, name: Any = EXEC_PROFILE_DEFAULT) -> Any:
        """The profile our statements run with: the session's default, reading rows as dicts.

        With ``tuple_rows`` rows are read as tuples (the result's
        ``column_names`` name their values), which is cheaper for a query of
        many rows. In the driver's legacy mode no profile can be passed, and
        the session's own row factory must be ``dict_factory`` (see
        :func:`_check_borrowed_session`): rows are dicts then, whatever was
        asked. Otherwise a profile whose rows are not what is wanted is read
        through a shallow copy (its policies are shared), kept only while the
        profile is unchanged (:class:`ProfileCopies`), so changes the caller
        makes to it later still apply. ``name`` picks another of the
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
        return self._profile_copies.copy(session, profile, factory)

    # -- prepared statements (the cache lives in cqlengine.prepared) ------------------

    def cached(self, cql: str, count_hit: bool = True) -> Optional[PreparedStatement]:
        """The cached prepared form of ``cql`` (counted as a hit unless told not to), or None."""
        entry = self.prepared_cache.lookup(self.ensure_session(), cql, count_hit)
        return None if entry is None else entry.prepared

    def prepare(self, cql: str) -> PreparedStatement:
        """The prepared form of ``cql``, prepared at most once while it stays cached."""
        return self.prepared_cache.entry_for(self.ensure_session(), cql).prepared

    @property
    def prepared_cache_size(self) -> int:
        """How many prepared statements the cache keeps (least recently used go first)."""
        return self.prepared_cache.size

    @property
    def prepared_cache_len(self) -> int:
        return len(self.prepared_cache)

    def clear_prepared_cache(self) -> None:
        self.prepared_cache.clear()

    def forget_table(self, keyspace: Optional[str], table: str) -> int:
        """Drop every cached statement that uses ``keyspace.table`` (None: any keyspace); how many."""
        return self.prepared_cache.forget_table(keyspace, table)

    def forget_keyspace(self, keyspace: str) -> int:
        """Drop every cached statement that uses a table of ``keyspace``."""
        return self.prepared_cache.forget_keyspace(keyspace)

    def reprepare_if_changed(self, cql: str, sent: Statement) -> bool:
        """After the server refused ``sent``: whether ``cql``'s columns changed (then it is prepared afresh)."""
        return self.prepared_cache.reprepare_if_changed(self.ensure_session(), cql, sent)

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
        statement = self.statement_for(query, params, consistency, fetch_size, idempotent, connection_defaults, False)
        assert statement is not None
        return statement

    def build_cached_statement(
        self,
        query: Union[str, Statement],
        params: Optional[Union[Sequence[Any], dict[str, Any]]] = None,
        consistency: Optional[int] = None,
        fetch_size: Optional[int] = None,
        idempotent: Optional[bool] = None,
        connection_defaults: bool = True,
    ) -> Optional[Statement]:
        """:meth:`build_statement` without preparing: None when ``query`` is text not prepared yet."""
        return self.statement_for(query, params, consistency, fetch_size, idempotent, connection_defaults, True)

    def statement_for(self, query: Union[str, Statement], params: Optional[Union[Sequence[Any], dict[str, Any]]],
                      consistency: Optional[int], fetch_size: Optional[int], idempotent: Optional[bool],
                      connection_defaults: bool, cached_only: bool) -> Optional[Statement]:
        """:meth:`build_statement` (or, ``cached_only``, :meth:`build_cached_statement`), every argument given:
        the one body of both, which the request path calls directly."""
        statement: Optional[Statement]
        if isinstance(query, str):
            if params:
                session = self.session if self.session is not None else self.ensure_session()
                cache = self.prepared_cache
                statement = cache.bind_cached(session, query, params) if cached_only else \
                    cache.bind(session, query, params)
                if statement is None:
                    return None
            else:  # DDL and parameterless text: nothing to bind, nothing worth preparing
                statement = SimpleStatement(query)
        elif isinstance(query, PreparedStatement):
            statement = query.bind(params or [])
        elif params:
            raise ConnectionException(
                f"execute: parameters were given with a {type(query).__name__}, which carries its own; "
                "pass the CQL text (or a PreparedStatement) with the parameters instead"
            )
        elif consistency is not None or fetch_size is not None or idempotent is not None:
            statement = copy.copy(query)  # the caller's statement is not ours to change
        else:
            statement = query
        level = consistency if consistency is not None or not connection_defaults else self.consistency
        if level is not None and (statement is not query or consistency is not None):
            statement.consistency_level = level
        if fetch_size is not None:
            statement.fetch_size = fetch_size
        if idempotent is not None:
            statement.is_idempotent = idempotent
        return statement


class ProfileCopies:
    """Copies of a session's execution profiles that read rows another way, one per profile and row factory.

    Reading rows as tuples through a profile that makes dicts needs a copy of the profile (the caller's is
    not ours to change); making one per statement cost a ``get()`` a tenth of its CPU. A copy is reused
    only while its profile's attributes are still those it was copied from (one dict comparison each use),
    so a change the caller makes to the profile (its consistency, timeout, policies) applies to the next
    statement. Copies go with the session (``shutdown``, fork), and at most 32 are kept.
    """

    LIMIT = 32

    def __init__(self) -> None:
        self._copies: dict[tuple[int, Any], tuple[ExecutionProfile, dict[str, Any], ExecutionProfile]] = {}

    def copy(self, session: Session, profile: ExecutionProfile, factory: Any) -> ExecutionProfile:
        """``profile`` reading rows with ``factory``: the kept copy while ``profile`` is unchanged."""
        key = (id(profile), factory)
        kept = self._copies.get(key)
        attributes = getattr(profile, "__dict__", None)
        if kept is not None and kept[0] is profile and kept[1] == attributes:
            return kept[2]
        made: ExecutionProfile = session.execution_profile_clone_update(profile, row_factory=factory)
        if attributes is not None:  # a profile without a __dict__ cannot be compared: copied each time
            if len(self._copies) >= self.LIMIT:
                self._copies.clear()
            self._copies[key] = (profile, dict(attributes), made)
        return made

    def clear(self) -> None:
        self._copies.clear()


#: Clusters and sessions inherited through ``fork()``: never used, and never finalized, in the child.
_INHERITED: list[tuple[Optional[Cluster], Optional[Session]]] = []


def _forget_at_exit(cluster: Cluster) -> None:
    """Keep the driver from shutting an inherited cluster down when the child exits (it would close
    connections the parent still uses). The set is the driver's registry of our own clusters."""
    registered = getattr(cluster_module, "_clusters_for_shutdown", None)
    if isinstance(registered, set):
        registered.discard(cluster)


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


def checked_timeout(owner: str, timeout: Any) -> Any:
    """``timeout`` as a connection's default: seconds (a float), None (no limit) or NOT_SET."""
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

