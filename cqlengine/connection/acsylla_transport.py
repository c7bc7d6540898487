"""The acsylla transport: awaited statements sent by acsylla, a compiled asyncio driver.

``connection.setup(hosts, ..., transport="acsylla")`` (or ``register_connection``)
keeps everything of a connection on cassandra-driver (its cluster, session,
schema metadata, DDL, every blocking call, the prepared-statement cache) and
sends the statements of its awaited calls (``aexecute`` and so ``aget``,
``acreate``, ``async for``, ``apage`` ...) through acsylla instead, which costs
the client a fraction of the CPU per request.

Each CQL text is still prepared by cassandra-driver first: its cache entry
gives the types of the bind markers and of the result columns, from which
:mod:`cqlengine.connection.acsylla_values` makes the conversions between the
values cassandra-driver takes and returns and acsylla's. A statement acsylla
cannot carry exactly (a type it cannot read or bind, dict parameters, an
execution profile, routing to a host, a statement object, a legacy-mode
session) is sent by cassandra-driver on the same connection, and counted in
``connection.stats.transport_fallbacks`` (its CQL and why in
``stats.fallback_shapes``): never sent wrongly.

What is cached, and when it goes:

* one acsylla cluster and session per event loop (acsylla's sessions belong to
  the loop that made them), let go once the loop is closed and another loop
  connects (acsylla then frees its connections and threads), or closed by
  :meth:`close`;
* per loop, acsylla's prepared form of each cassandra-driver prepared statement,
  keyed by that statement (weakly): when the prepared cache drops or replaces
  an entry (DDL by us or another client, a refusal for changed column types),
  the next request prepares again in both drivers;
* per cassandra-driver prepared statement, its conversions (or why it cannot
  go): the same key, the same invalidation.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from typing import Any, Callable, Optional, Sequence, Union
from uuid import UUID

from cassandra import (
    InvalidRequest,
    OperationTimedOut,
    ReadFailure,
    ReadTimeout,
    Unauthorized,
    Unavailable,
    WriteFailure,
    WriteTimeout,
    cqltypes,
)
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, NoHostAvailable
from cassandra.protocol import ConfigurationException, ProtocolException, ServerError, SyntaxException
from cassandra.query import PreparedStatement

from cqlengine.connection import acsylla_values, telemetry
from cqlengine.connection.driver import NOT_SET, Connection, _legacy_mode
from cqlengine.connection.pages import await_page
from cqlengine.connection.stats import statement_kind
from cqlengine.connection.steps import Blocking, Body, Step, request_done, request_failed
from cqlengine.exceptions import ConnectionException

TRANSPORTS = ("cassandra-driver", "acsylla")
#: The IF of a conditional write (a false match only sends a statement through cassandra-driver).
_CONDITION = re.compile(r"\bIF\b", re.IGNORECASE)
_INSTALL = "pip install 'cqlengine-mapper[acsylla]'"


def load_acsylla() -> Any:
    """The acsylla module, or a ConnectionException saying how to install it."""
    try:
        import acsylla
    except ImportError as exc:
        raise ConnectionException(f"transport='acsylla' needs the acsylla package: {_INSTALL} (its wheels are "
                                  f"for CPython 3.9-3.14 on Linux (glibc, x86_64 and aarch64) and macOS)") from exc
    return acsylla


class _NoShardInfo(logging.Filter):
    """Drops acsylla's error that a node gives no ScyllaDB sharding info: Apache Cassandra never does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "sharding info" not in record.getMessage()


def _quiet_shard_info() -> None:
    logger = logging.getLogger("acsylla")
    if not any(isinstance(f, _NoShardInfo) for f in logger.filters):
        logger.addFilter(_NoShardInfo())


class _Shape:
    """What one prepared statement needs on acsylla: its parameters' and its rows' conversions."""

    __slots__ = ("writers", "read_row", "names")

    def __init__(self, prepared: PreparedStatement, protocol_version: int) -> None:
        binds = [col.type for col in prepared.column_metadata or ()]
        results = [col[3] for col in prepared.result_metadata or ()]
        self.writers: Optional[list[Optional[Callable[[Any], Any]]]] = [
            acsylla_values.writer(t, protocol_version) or _checker(t) for t in binds]
        if not any(self.writers):
            self.writers = None  # the usual case: every value goes as it is
        self.read_row = acsylla_values.row_reader(results, protocol_version)
        self.names = [col[2] for col in prepared.result_metadata or ()]


#: What acsylla takes as it is for these types, and what cassandra-driver binds for them: acsylla binds
#: some other values without a word (an int for a text column), which cassandra-driver refuses.
_EXPECTED: tuple[tuple[type, Any], ...] = (
    (cqltypes.UTF8Type, str), (cqltypes.Int32Type, int), (cqltypes.LongType, int), (cqltypes.ShortType, int),
    (cqltypes.ByteType, int), (cqltypes.DoubleType, (int, float)), (cqltypes.UUIDType, UUID),
)


def _checker(cqltype: Any) -> Optional[Callable[[Any], Any]]:
    """A check that a value bound as it is has a type cassandra-driver binds for ``cqltype`` (the value
    comes back), or None. A value failing it is sent by cassandra-driver, which binds it or says why not."""
    expected = next((types for kind, types in _EXPECTED if isinstance(cqltype, type) and issubclass(cqltype, kind)),
                    None)
    if expected is None:
        return None

    def check(value: Any) -> Any:
        if not isinstance(value, expected):
            raise TypeError(f"a {type(value).__name__} for a {cqltype.typename} bind marker")
        return value

    return check


class _LoopState:
    """One event loop's acsylla cluster and session, and the statements prepared on it."""

    def __init__(self) -> None:
        self.session: Any = None
        self.connecting: Optional[asyncio.Future[Any]] = None
        self.prepared: weakref.WeakKeyDictionary[PreparedStatement, Any] = weakref.WeakKeyDictionary()


class AcsyllaTransport:
    """A connection's acsylla side (see the module docstring): sessions per loop, prepared forms, conversions."""

    def __init__(self, conn: Connection) -> None:
        self.acsylla = load_acsylla()
        _quiet_shard_info()
        self.conn = conn
        # A plain dict: each session references its loop anyway (a weak key would stay alive); the states of
        # closed loops are let go when another loop connects (see ``session``).
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._shapes: weakref.WeakKeyDictionary[PreparedStatement, Any] = weakref.WeakKeyDictionary()
        #: acsylla's statement options by what they are made of (see ``send_options``); a few entries.
        self.options: dict[tuple[Any, ...], dict[str, Any]] = {}

    # -- which requests go ------------------------------------------------------------

    def why_not(self, query: Any, params: Any, execution_profile: Any, route_to: Sequence[str]) -> Optional[str]:
        """Why a request cannot go through acsylla before it is prepared, or None when it may."""
        if not isinstance(query, str):
            return "a statement object"
        if statement_kind(query) not in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            return "not a SELECT, INSERT, UPDATE or DELETE"
        if isinstance(params, dict):
            return "named parameters"
        if not (execution_profile is None or execution_profile is EXEC_PROFILE_DEFAULT):
            return "an execution profile"
        if route_to:
            return "routed to a host"
        session = self.conn.session
        if session is not None and _legacy_mode(session.cluster):
            return "a legacy-mode session"
        return None

    def shape(self, prepared: PreparedStatement) -> Union[_Shape, str]:
        """The conversions of ``prepared``'s values, or the reason (a str) they cannot be made."""
        shape = self._shapes.get(prepared)
        if shape is None:
            if statement_kind(prepared.query_string) != "SELECT" and _CONDITION.search(prepared.query_string):
                # A condition not met returns the row's columns, known only then (types included).
                shape = self._shapes[prepared] = "a conditional statement (its result's columns vary)"
                return shape
            try:
                shape = _Shape(prepared, self.conn.ensure_session().cluster.protocol_version)
            except acsylla_values.Unsupported as exc:
                shape = str(exc)
            self._shapes[prepared] = shape
        return shape

    def fell_back(self, query: Any, why: str) -> None:
        stats = self.conn.stats
        stats.count("transport_fallbacks")
        if len(stats.fallback_shapes) < 1000:  # a bounded record: the counter says how many in all
            stats.fallback_shapes.setdefault(query if isinstance(query, str) else type(query).__name__, why)

    # -- sessions and prepared forms, per event loop ----------------------------------

    async def session(self, loop: asyncio.AbstractEventLoop) -> Any:
        state = self._loops.get(loop)
        if state is None:
            # The sessions of loops closed since are let go: acsylla frees one (its connections and
            # threads) when the last reference to it goes.
            for closed in [other for other in self._loops if other.is_closed()]:
                del self._loops[closed]
            state = self._loops[loop] = _LoopState()
        if state.session is not None:
            return state.session
        if state.connecting is None:
            state.connecting = loop.create_future()
            try:
                state.session = await self._connect()
            except BaseException as exc:
                state.connecting.set_exception(exc)
                state.connecting.exception()  # retrieved: the next request tries again
                state.connecting = None
                raise
            state.connecting.set_result(state.session)
            return state.session
        return await asyncio.shield(state.connecting)

    async def _connect(self) -> Any:
        conn = self.conn
        driver_session = conn.ensure_session()
        cluster = driver_session.cluster
        # Client-side timestamps (acsylla's default, as cassandra-driver's), SERIAL for conditions as the
        # server's default (acsylla's own default, ANY, would leave it to the driver).
        # No retry by acsylla itself: an error is the server's (with acsylla's default policy, a level the
        # node cannot meet comes back as "no hosts available" after a retry on the next host).
        options: dict[str, Any] = {"port": cluster.port, "tcp_nodelay": True, "timestamp_gen": "monotonic",
                                   "retry_policy": "fallthrough",
                                   "serial_consistency": self.acsylla.Consistency.SERIAL,
                                   "application_name": "cqlengine"}
        auth = cluster.auth_provider
        if isinstance(auth, PlainTextAuthProvider):
            options.update(username=auth.username, password=auth.password)
        elif auth is not None:
            raise ConnectionException(f"Connection {conn.name!r}: transport='acsylla' supports no auth provider "
                                      f"but PlainTextAuthProvider (given {type(auth).__name__})")
        if cluster.ssl_context is not None or cluster.ssl_options:
            raise ConnectionException(f"Connection {conn.name!r}: transport='acsylla' is not set up for TLS here; "
                                      "use transport='cassandra-driver'")
        hosts = [str(point) for point in cluster.contact_points] or ["127.0.0.1"]
        acsylla_cluster = self.acsylla.create_cluster(hosts, **options)
        try:
            return await acsylla_cluster.create_session(keyspace=driver_session.keyspace)
        except Exception as exc:
            raise ConnectionException(f"Connection {conn.name!r}: acsylla could not connect to {hosts} port "
                                      f"{cluster.port}: {type(exc).__name__}: {exc}") from exc

    async def prepared(self, loop: asyncio.AbstractEventLoop, session: Any, prepared: PreparedStatement) -> Any:
        state = self._loops[loop]
        found = state.prepared.get(prepared)
        if found is None:
            try:
                found = await session.create_prepared(prepared.query_string)
            except self.acsylla.errors.CassException as exc:
                raise translated(exc) from exc
            state.prepared[prepared] = found
        return found

    def forget_inherited(self) -> None:
        """In a child made by ``fork()``: acsylla's sessions (and their threads) stay the parent's."""
        self._loops = {}

    async def close(self) -> None:
        """Close the running loop's acsylla session (the others close with their loops)."""
        state = self._loops.pop(asyncio.get_running_loop(), None)
        if state is not None and state.session is not None:
            await state.session.close()


class AcsyllaSend(Step):
    """Sending one prepared statement through acsylla: its first page, timed and counted as ``Send`` is.

    Only awaited (the body that yields it runs under asyncio).
    """

    __slots__ = ("transport", "prepared", "shape", "params", "options", "idempotent", "tuple_rows", "page_state",
                 "query")

    def __init__(self, transport: AcsyllaTransport, prepared: PreparedStatement, shape: _Shape,
                 params: Sequence[Any], options: dict[str, Any], idempotent: bool, tuple_rows: bool,
                 page_state: Optional[bytes] = None) -> None:
        self.transport = transport
        self.page_state = page_state
        self.idempotent = idempotent
        self.prepared = prepared
        self.shape = shape
        self.params = params
        self.options = options
        self.tuple_rows = tuple_rows
        self.query = prepared.query_string

    def run(self) -> Any:  # pragma: no cover - the blocking body never yields it
        raise RuntimeError("an acsylla request is only awaited")

    async def arun(self, loop: asyncio.AbstractEventLoop) -> AcsyllaResult:
        transport = self.transport
        stats = transport.conn.stats
        tracing = telemetry.active
        traced = tracing.start(self.query) if tracing is not None else None
        started = time.perf_counter()
        try:
            state = transport._loops.get(loop)
            if state is None or state.session is None:
                session = await transport.session(loop)
                state = transport._loops[loop]
            else:
                session = state.session
            prepared = state.prepared.get(self.prepared)
            if prepared is None:
                prepared = await transport.prepared(loop, session, self.prepared)
            values: Optional[Sequence[Any]] = self.params
            writers = self.shape.writers
            try:
                if writers is not None:
                    values = [v if w is None or v is None else w(v) for w, v in zip(writers, self.params)]
            except acsylla_values.Unsupported as exc:  # nothing sent yet: cassandra-driver sends it all
                transport.fell_back(self.query, str(exc))
                values = None
            except (ValueError, TypeError, OverflowError) as exc:
                raise BindRefused(str(exc)) from exc
            page = AcsyllaResult(self, session, prepared, values)
            await page.load(self.page_state)
        except BindRefused as exc:  # nothing was sent: no request to record (its span says why it ended)
            if traced is not None:
                traced.failed(exc)
            raise
        except BaseException as exc:
            request_failed(stats, self.query, started, traced, exc)
            raise
        request_done(stats, self.query, started, traced, None, len(page.current_rows))
        return page


def _bound(send: AcsyllaSend, prepared: Any, values: Sequence[Any], page_state: Optional[bytes]) -> Any:
    """acsylla's statement of ``send``, bound to ``values`` (acsylla's), from ``page_state``."""
    try:
        statement = prepared.bind(values, page_state=page_state, **send.options)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BindRefused(str(exc)) from exc
    if send.idempotent:
        statement.set_is_idempotent(True)
    return statement


class AcsyllaResult:
    """One page of an acsylla request's rows, as :class:`~cqlengine.connection.pages.AsyncResult` gives them.

    A page whose values acsylla cannot read exactly (a timestamp it rounds, see
    ``acsylla_values``) is fetched again by cassandra-driver, from the same page
    state, when the statement is a SELECT (counted as a fallback); the pages after
    it come through acsylla again. Of any other statement (a condition's row) it
    raises: the statement was applied and is not sent twice. So does every page
    of a request whose values acsylla could not bind (``values`` None).
    """

    def __init__(self, send: AcsyllaSend, session: Any, prepared: Any, values: Optional[Sequence[Any]]) -> None:
        self._send = send
        self._session = session
        self._prepared = prepared
        self._values = values
        self.column_names: Optional[list[str]] = send.shape.names or None
        self.current_rows: list[Any] = []
        self.has_more_pages = False
        self.paging_state: Optional[bytes] = None

    @property
    def consistency_level(self) -> int:
        """The consistency level the request was sent with (as ``ConsistencyLevel`` values)."""
        return int(self._send.options["consistency"].value)  # read when asked: an enum's value is not free

    async def load(self, page_state: Optional[bytes]) -> None:
        """Fetch the page at ``page_state`` (None: the first) and take its rows."""
        send = self._send
        if self._values is None:
            return await self._load_by_driver(page_state)
        statement = _bound(send, self._prepared, self._values, page_state)
        try:  # awaited here, not in a coroutine of its own: one frame fewer held by each request in flight
            result = await self._session.execute(statement)
        except send.transport.acsylla.errors.CassException as exc:
            raise translated(exc) from exc
        read_row = send.shape.read_row
        try:
            rows = [row.as_tuple() for row in result]  # acsylla raises ValueError for a date out of years 1-9999
            if read_row is not None:
                rows = [read_row(row) for row in rows]
        except (acsylla_values.Unsupported, ValueError, OverflowError) as exc:
            if statement_kind(send.query) != "SELECT":
                raise ConnectionException(f"{send.query}: the statement was applied, but acsylla cannot read "
                                          f"its result exactly: {exc}") from exc
            send.transport.fell_back(send.query, f"a value acsylla cannot read exactly: {exc}")
            return await self._load_by_driver(page_state)
        if self.column_names is None:
            self.column_names = list(result.columns_names())
        self._take(rows, bool(result.has_more_pages()), result.page_state)

    async def _load_by_driver(self, page_state: Optional[bytes]) -> None:
        send = self._send
        conn = send.transport.conn
        session = conn.ensure_session()
        statement = send.prepared.bind(send.params)
        statement.consistency_level = self.consistency_level
        statement.fetch_size = send.options["page_size"]
        timeout = send.options["timeout"]
        future = session.execute_async(statement, paging_state=page_state, timeout=timeout or None,
                                       execution_profile=conn.execution_profile(session, tuple_rows=True))
        rows = await await_page(future)
        self.column_names = list(future._col_names or self.column_names or [])
        self._take(list(rows or ()), bool(future.has_more_pages), lambda: future._paging_state)

    def _take(self, rows: list[Any], more: bool, state: Callable[[], Optional[bytes]]) -> None:
        if not self._send.tuple_rows:
            names = self.column_names or []
            rows = [dict(zip(names, row)) for row in rows]
        self.current_rows = rows
        self.has_more_pages = more
        self.paging_state = state() if more else None

    def one(self) -> Any:
        return self.current_rows[0] if self.current_rows else None

    async def fetch_next_page(self) -> None:
        """Replace ``current_rows`` with the next page (bounded by the request's timeout, as the first)."""
        send = self._send
        tracing = telemetry.active
        traced = tracing.start(send.query, page=2) if tracing is not None else None
        try:
            await self.load(self.paging_state)
        except BaseException as exc:
            if traced is not None:
                traced.failed(exc)
            raise
        if traced is not None:
            traced.done(None, len(self.current_rows))


#: What :func:`acsylla_steps` returns when the request is to go through cassandra-driver.
FELL_BACK = object()


class BindRefused(Exception):
    """acsylla refused to bind a statement's values (nothing was sent)."""


class _Sent:
    """What ``reprepare_if_changed`` compares: the prepared statement a refused request was sent with."""

    def __init__(self, prepared: PreparedStatement) -> None:
        self.prepared_statement = prepared


def _carried(conn: Connection, transport: AcsyllaTransport, query: Any, params: Any, execution_profile: Any,
             route_to: Sequence[str]) -> Body[Union[tuple[PreparedStatement, _Shape], str]]:
    """``query`` prepared (by cassandra-driver: its types choose the conversions) and its acsylla
    shape, or why acsylla cannot carry it."""
    why = transport.why_not(query, params, execution_profile, route_to)
    if why is not None:
        return why
    prepared = conn.cached(query)
    if prepared is None:
        prepared = yield Blocking(conn.prepare, query)
    shape = transport.shape(prepared)
    return shape if isinstance(shape, str) else (prepared, shape)


def ready_send(conn: Connection, transport: AcsyllaTransport, query: Any, params: Any, consistency: Optional[int],
               timeout: Any, fetch_size: Optional[int], paging_state: Optional[bytes], tuple_rows: bool,
               idempotent: Optional[bool], execution_profile: Any, route_to: Sequence[str]) -> Optional[AcsyllaSend]:
    """Sending a request at once, when nothing needs a step first: acsylla carries it and its text is
    prepared (the cache's entry checked as on every use); None sends it through :func:`acsylla_steps`.

    The general body's steps cost more than acsylla's own send. A refusal (``InvalidRequest``,
    :class:`BindRefused`) is handed to the general body (``refused`` of :func:`acsylla_steps`), which
    prepares afresh or falls back as it does for any request.
    """
    if conn.session is None or transport.why_not(query, params, execution_profile, route_to) is not None:
        return None
    prepared = conn.cached(query)
    if prepared is None:
        return None
    shape = transport.shape(prepared)
    if isinstance(shape, str):
        return None
    return AcsyllaSend(transport, prepared, shape, list(params or ()),
                       send_options(conn, consistency, timeout, fetch_size), bool(idempotent), tuple_rows,
                       paging_state)


def acsylla_steps(conn: Connection, transport: AcsyllaTransport, query: Any, params: Any,
                  consistency: Optional[int], timeout: Any, fetch_size: Optional[int], paging_state: Optional[bytes],
                  tuple_rows: bool, idempotent: Optional[bool], execution_profile: Any,
                  route_to: Sequence[str], note_sent: Callable[[Connection, Any], None],
                  refused: Optional[tuple[AcsyllaSend, BaseException]] = None) -> Body[Any]:
    """The acsylla part of an awaited request's body: its first page, or ``FELL_BACK`` (counted).

    ``note_sent`` counts and logs a statement about to be sent, as every request is.
    The text is prepared by cassandra-driver first (in the loop's executor when
    it is new): its types choose the conversions. A refusal caused by column
    types that changed since it was prepared is retried once, prepared afresh
    (in both drivers), as on cassandra-driver. ``refused`` is a send already made
    (see :func:`ready_send`) and its refusal: the body goes on from there.
    """
    if refused is None:
        carried = yield from _carried(conn, transport, query, params, execution_profile, route_to)
        if isinstance(carried, str):
            transport.fell_back(query, carried)
            return FELL_BACK
        prepared, shape = carried
        note_sent(conn, query)
        send = AcsyllaSend(transport, prepared, shape, list(params or ()),
                           send_options(conn, consistency, timeout, fetch_size), bool(idempotent), tuple_rows,
                           paging_state)
        try:
            return (yield send)
        except (InvalidRequest, BindRefused) as error:
            refused = send, error
    send, exc = refused
    # The server refuses values serialised for column types that changed since the statement was
    # prepared; acsylla refuses to bind them. Prepared afresh when the types did change, else sent
    # (or refused, with its own error) by cassandra-driver.
    if not (params and (yield Blocking(conn.reprepare_if_changed, query, _Sent(send.prepared)))):
        if isinstance(exc, BindRefused):
            transport.fell_back(query, f"acsylla could not bind the values: {exc}")
            # It was counted as executed when it was about to go; acsylla sent nothing, and
            # cassandra-driver counts the statement it sends.
            conn.stats.count("executed", -1)
            return FELL_BACK
        raise exc
    carried = yield from _carried(conn, transport, query, params, execution_profile, route_to)
    if isinstance(carried, str):
        transport.fell_back(query, carried)
        return FELL_BACK
    prepared, shape = carried
    return (yield AcsyllaSend(transport, prepared, shape, send.params, send.options, send.idempotent,
                              send.tuple_rows, send.page_state))


class _BatchResult:
    """What an applied batch returns: no rows (a conditional batch goes through cassandra-driver)."""

    def __init__(self) -> None:
        self.column_names: Optional[list[str]] = None
        self.current_rows: list[Any] = []
        self.has_more_pages = False
        self.paging_state: Optional[bytes] = None

    def one(self) -> Any:
        return None


class AcsyllaBatchSend(Step):
    """Sending one batch through acsylla, timed and counted as a batch sent by cassandra-driver is.

    ``members`` are (prepared, shape, values) of each statement in order;
    ``announce`` is called once they are bound, just before the batch is sent
    (a member that does not bind raises :class:`BindRefused`, nothing sent or announced).
    """

    __slots__ = ("transport", "kind", "members", "options", "idempotent", "query", "announce")

    def __init__(self, transport: AcsyllaTransport, kind: str, members: list[tuple[PreparedStatement, _Shape, Any]],
                 options: dict[str, Any], idempotent: bool, query: Any, announce: Callable[[], None]) -> None:
        self.transport = transport
        self.kind = kind
        self.members = members
        self.options = options
        self.idempotent = idempotent
        self.query = query
        self.announce = announce

    def run(self) -> Any:  # pragma: no cover - the blocking body never yields it
        raise RuntimeError("an acsylla request is only awaited")

    async def arun(self, loop: asyncio.AbstractEventLoop) -> _BatchResult:
        transport = self.transport
        acsylla = transport.acsylla
        session = await transport.session(loop)
        batch = getattr(acsylla, f"create_batch_{self.kind}")(self.options["timeout"])
        for prepared, shape, params in self.members:
            found = await transport.prepared(loop, session, prepared)
            try:
                values = params if shape.writers is None else [
                    v if w is None or v is None else w(v) for w, v in zip(shape.writers, params)]
                batch.add_statement(found.bind(values))
            except (acsylla_values.Unsupported, ValueError, TypeError, OverflowError) as exc:
                raise BindRefused(str(exc)) from exc  # nothing sent yet
        batch.set_consistency(self.options["consistency"])
        if self.idempotent:
            batch.set_is_idempotent(True)
        self.announce()
        tracing = telemetry.active
        traced = tracing.start(self.query) if tracing is not None else None
        started = time.perf_counter()
        try:
            await session.execute_batch(batch)
        except BaseException as exc:
            request_failed(transport.conn.stats, self.query, started, traced, exc)
            if isinstance(exc, acsylla.errors.CassException):
                raise translated(exc) from exc
            raise
        request_done(transport.conn.stats, self.query, started, traced, None, 0)
        return _BatchResult()


def acsylla_batch(conn: Connection, transport: AcsyllaTransport, members: Sequence[tuple[str, Any]], kind: str,
                  consistency: Optional[int], timeout: Any, idempotent: bool, execution_profile: Any,
                  described: Any, announce: Callable[[], None]
                  ) -> Body[Optional[tuple[AcsyllaBatchSend, dict[str, Any]]]]:
    """A batch's acsylla step and its members' prepared statements by text (for a refusal), or None when
    it goes through cassandra-driver (counted): a member acsylla cannot carry, a conditional one, a profile.
    ``announce`` counts and logs the batch once it is bound and about to go."""
    why = None if execution_profile is None or execution_profile is EXEC_PROFILE_DEFAULT else "an execution profile"
    built: list[tuple[PreparedStatement, _Shape, Any]] = []
    sent: dict[str, Any] = {}
    for cql, params in members:
        if why is not None:
            break
        carried = yield from _carried(conn, transport, cql, params, None, ())
        if isinstance(carried, str):
            why = carried
        else:
            built.append((*carried, list(params or ())))
            sent.setdefault(cql, _Sent(carried[0]))
    if why is not None:
        transport.fell_back(described.query_string, f"a member: {why}")
        return None
    options = send_options(conn, consistency, timeout, None)
    return AcsyllaBatchSend(transport, kind, built, options, idempotent, described, announce), sent


def send_options(conn: Connection, consistency: Optional[int], timeout: Any,
                 fetch_size: Optional[int]) -> dict[str, Any]:
    """acsylla's keyword arguments for binding a statement, set as cassandra-driver would run it on ``conn``.

    Kept per connection for each combination of what they are made of (the defaults of the connection
    and of its session's default profile included, which may change at any time): read only.
    """
    session = conn.session if conn.session is not None else conn.ensure_session()
    profile = session.cluster.profile_manager.default
    key = (consistency, timeout, fetch_size, conn.consistency, conn.default_timeout, profile.consistency_level,
           profile.request_timeout, session.default_fetch_size)
    transport = conn.transport
    assert isinstance(transport, AcsyllaTransport)
    options = transport.options.get(key)
    if options is None:
        options = transport.options[key] = _send_options(transport.acsylla, *key)
    return options


def _send_options(acsylla: Any, consistency: Optional[int], timeout: Any, fetch_size: Optional[int],
                  conn_consistency: Optional[int], conn_timeout: Any, profile_consistency: int,
                  profile_timeout: Optional[float], session_fetch_size: Optional[int]) -> dict[str, Any]:
    level = consistency if consistency is not None else conn_consistency
    if level is None:
        level = profile_consistency
    if timeout is NOT_SET:
        timeout = conn_timeout
    if timeout is NOT_SET:
        timeout = profile_timeout
    options: dict[str, Any] = {"consistency": acsylla.Consistency(int(level)),
                               "page_size": fetch_size or session_fetch_size or 5000}
    # acsylla counts whole milliseconds, and 0 means no limit: a limit under 1 ms is 1 ms.
    options["timeout"] = 0 if timeout is None else max(float(timeout), 0.001)
    return options


def translated(exc: BaseException) -> BaseException:
    """acsylla's error as the cassandra-driver exception the rest of cqlengine (and its users) catch."""
    import acsylla.errors as errors

    message = str(exc)
    if isinstance(exc, (errors.CassErrorServerInvalidQuery, errors.CassExceptionInvalidQuery)):
        return InvalidRequest(message)
    if isinstance(exc, (errors.CassErrorServerSyntaxError, errors.CassExceptionSyntaxError)):
        return SyntaxException(code=0x2000, message=message, info=None)
    if isinstance(exc, errors.CassErrorServerServerError):
        return ServerError(code=0x0000, message=message, info=None)
    if isinstance(exc, errors.CassErrorServerProtocolError):
        return ProtocolException(code=0x000A, message=message, info=None)
    if isinstance(exc, errors.CassErrorServerUnauthorized):
        return Unauthorized(message)
    if isinstance(exc, (errors.CassErrorServerConfigError, errors.CassErrorServerAlreadyExists)):
        return ConfigurationException(code=0x2300, message=message, info=None)
    if isinstance(exc, errors.CassErrorServerReadTimeout):
        return ReadTimeout(message)
    if isinstance(exc, errors.CassErrorServerWriteTimeout):
        return WriteTimeout(message)
    if isinstance(exc, errors.CassErrorServerUnavailable):
        return Unavailable(message)
    if isinstance(exc, errors.CassErrorServerReadFailure):
        return ReadFailure(message)
    if isinstance(exc, errors.CassErrorServerWriteFailure):
        return WriteFailure(message)
    if isinstance(exc, errors.CassErrorLibRequestTimedOut):
        return OperationTimedOut(message)
    if isinstance(exc, (errors.CassErrorLibNoHostsAvailable, errors.CassExceptionConnectionError,
                        errors.CassErrorLibUnableToConnect)):
        return NoHostAvailable(message, {})
    return exc
