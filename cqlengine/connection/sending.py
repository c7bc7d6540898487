"""Sending one statement: the options, log line and routing every request gets.

:func:`execute_steps` is the one body of ``execute`` and ``aexecute`` (see
:mod:`cqlengine.connection.steps`).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, NamedTuple, Optional, Protocol, Sequence, Union

from cassandra import InvalidRequest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, NoHostAvailable, ResponseFuture, Session
from cassandra.pool import Host
from cassandra.query import BatchStatement, BoundStatement, Statement

from cqlengine import statements
from cqlengine.connection.acsylla_transport import (
    FELL_BACK,
    AcsyllaSend,
    AcsyllaTransport,
    BindRefused,
    acsylla_steps,
    ready_send,
)
from cqlengine.connection.driver import NOT_SET, Connection
from cqlengine.connection.refusals import explained
from cqlengine.connection.steps import Blocking, Body, Send, arun
from cqlengine.prepared import Params

log = logging.getLogger(__name__)


class Described(Protocol):
    """A request that is no single statement (a batch), as the log shows it: its CQL, never its values."""

    @property
    def query_string(self) -> str: ...


def _log(conn: Connection, query: Union[str, Statement, Described]) -> None:
    """Log the statement's shape at DEBUG: its CQL with literals shown as ``?``, never a value."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("[%s] %s", conn.name, _shape(query))


def _shape(query: Union[str, Statement, Described]) -> str:
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


def _note_sent(conn: Connection, query: Union[str, Statement, Described]) -> None:
    """Count and log one statement about to be sent."""
    _log(conn, query)
    conn.stats.count("executed")


def is_default_profile(profile: Any) -> bool:
    return profile is None or profile is EXEC_PROFILE_DEFAULT


def send_options(conn: Connection, session: Session, query: Union[str, Statement, Described],
                 timeout: Any, paging_state: Optional[bytes] = None, tuple_rows: bool = False,
                 profile: Any = EXEC_PROFILE_DEFAULT) -> dict[str, Any]:
    """Count and log one statement about to be sent; the driver's keyword arguments for it."""
    if log.isEnabledFor(logging.DEBUG):  # what _note_sent does, without its two calls on the usual path
        _log(conn, query)
    conn.stats.count("executed")
    options: dict[str, Any] = {"paging_state": paging_state,
                               "execution_profile": conn.execution_profile(session, tuple_rows, profile)}
    if timeout is NOT_SET and is_default_profile(profile):
        timeout = conn.default_timeout  # a profile chosen for the statement keeps its own request_timeout
    if timeout is not NOT_SET:
        options["timeout"] = timeout
    return options


def first_host_up(session: Session, addresses: Sequence[str]) -> Optional[Host]:
    hosts = {str(host.address): host for host in session.cluster.metadata.all_hosts() if host.is_up}
    return next((hosts[a] for a in addresses if a in hosts), None)


def routed(send: Send, route_to: Sequence[str]) -> Body[Any]:
    """Send to the first host of ``route_to`` that is up; to any host when none is, or when that one
    cannot be reached."""
    host = first_host_up(send.session, route_to)
    if host is None:
        return (yield send)
    try:
        return (yield send.to(host))
    except NoHostAvailable:
        return (yield send)  # it went down since: any host will do


class Request(NamedTuple):
    """One statement and the options it was asked to run with (see :func:`cqlengine.connection.execute`)."""

    query: Union[str, Statement]
    params: Optional[Params] = None
    consistency: Optional[int] = None
    timeout: Any = NOT_SET
    fetch_size: Optional[int] = None
    paging_state: Optional[bytes] = None
    consistency_level: Optional[int] = None
    tuple_rows: bool = False
    idempotent: Optional[bool] = None
    execution_profile: Any = EXEC_PROFILE_DEFAULT
    route_to: Sequence[str] = ()

    @property
    def prepared(self) -> bool:
        """Whether the query is CQL text sent prepared (then a refusal may mean its columns changed)."""
        return isinstance(self.query, str) and bool(self.params)

    def statement(self, conn: Connection) -> Statement:
        """The driver statement, its text prepared first when it is not cached."""
        level = self.consistency if self.consistency is not None else self.consistency_level  # the peer's name
        statement = conn.statement_for(self.query, self.params, level, self.fetch_size, self.idempotent,
                                       self.execution_profile is None or self.execution_profile is EXEC_PROFILE_DEFAULT,
                                       False)
        assert statement is not None
        return statement

    def cached_statement(self, conn: Connection) -> Optional[Statement]:
        """The driver statement, or None when its text must be prepared first."""
        level = self.consistency if self.consistency is not None else self.consistency_level
        return conn.statement_for(self.query, self.params, level, self.fetch_size, self.idempotent,
                                  self.execution_profile is None or self.execution_profile is EXEC_PROFILE_DEFAULT,
                                  True)

    def send(self, conn: Connection, session: Session, statement: Statement) -> Send:
        """Sending ``statement``: counted and logged here, timed when it runs."""
        options = send_options(conn, session, self.query, self.timeout, self.paging_state, self.tuple_rows,
                               self.execution_profile)
        return Send(session, statement, options, conn.stats, self.query)


def execute_steps(conn: Connection, request: Request, awaited: bool = False,
                  refused: Optional[tuple[AcsyllaSend, BaseException]] = None) -> Body[Any]:
    """The body of ``execute`` and ``aexecute`` (``awaited``): the first page of the request's rows.

    A statement whose text is cached is bound on the spot; a new text is
    prepared in a step of its own (under asyncio: in the loop's executor).
    A refusal caused by column types that changed since the statement was
    prepared is retried once, prepared afresh. A missing table or keyspace,
    or no host to send to, is raised as an error saying what to do (see
    :mod:`cqlengine.connection.refusals`). An awaited request on a connection
    with another transport goes through it when it can (see
    :mod:`cqlengine.connection.acsylla_transport`); ``refused`` is an acsylla send
    already made and its refusal (see ``acsylla_transport.ready_send``).
    """
    try:
        session = conn.session
        if session is None:
            session = yield Blocking(conn.ensure_session)
        transport = conn.transport
        if awaited and isinstance(transport, AcsyllaTransport):
            sent = yield from acsylla_steps(conn, transport, request.query, request.params, request.consistency
                                            if request.consistency is not None else request.consistency_level,
                                            request.timeout, request.fetch_size, request.paging_state,
                                            request.tuple_rows, request.idempotent, request.execution_profile,
                                            request.route_to, _note_sent, refused)
            if sent is not FELL_BACK:
                return sent
        statement = request.cached_statement(conn)
        if statement is None:
            statement = yield Blocking(request.statement, conn)
        send = request.send(conn, session, statement)
        try:
            return (yield from routed(send, request.route_to)) if request.route_to else (yield send)
        except InvalidRequest:
            # The server refuses before applying anything; values serialised for column types
            # that changed since the statement was prepared are refused this way. Retry once.
            if not (request.prepared and (yield Blocking(conn.reprepare_if_changed, request.query, statement))):
                raise
        send = request.send(conn, session, request.statement(conn))
        return (yield from routed(send, request.route_to)) if request.route_to else (yield send)
    except (InvalidRequest, NoHostAvailable) as exc:
        better = explained(exc, request.query, conn.session, conn.name, conn.host_errors)
        if better is exc:
            raise
        raise better from exc


async def asend(conn: Connection, request: Request) -> Any:
    """The first page of an awaited request (the body of ``aexecute``).

    On acsylla, a request ready to go (see ``acsylla_transport.ready_send``) is
    sent at once, not through the steps of :func:`execute_steps`, which cost
    more than acsylla's own send; a refusal is handed to that body, which
    prepares afresh or falls back as for any request.
    """
    transport = conn.transport
    refused: Optional[tuple[AcsyllaSend, BaseException]] = None
    if isinstance(transport, AcsyllaTransport):
        level = request.consistency if request.consistency is not None else request.consistency_level
        send = ready_send(conn, transport, request.query, request.params, level, request.timeout,
                          request.fetch_size, request.paging_state, request.tuple_rows, request.idempotent,
                          request.execution_profile, request.route_to)
        if send is not None:
            _note_sent(conn, request.query)
            try:
                return await send.arun(asyncio.get_running_loop())
            except (InvalidRequest, BindRefused) as exc:
                refused = send, exc  # nothing applied
            except NoHostAvailable as exc:
                better = explained(exc, request.query, conn.session, conn.name, conn.host_errors)
                if better is exc:
                    raise
                raise better from exc
    return await arun(execute_steps(conn, request, awaited=True, refused=refused))


def send_async(conn: Connection, query: Union[str, Statement], params: Optional[Params],
               consistency: Optional[int], timeout: Any) -> ResponseFuture:
    """The driver's future of ``query``, bound as ``execute`` binds it, counted and logged."""
    session = conn.ensure_session()
    statement = conn.build_statement(query, params, consistency)
    return session.execute_async(statement, **send_options(conn, session, query, timeout))
