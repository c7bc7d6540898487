"""Batches: members bound through the prepared cache, and the one body of ``execute_batch`` and ``aexecute_batch``."""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

from cassandra import InvalidRequest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Session
from cassandra.query import BatchStatement, BatchType, BoundStatement

from cqlengine.connection.acsylla_transport import AcsyllaTransport, BindRefused, acsylla_batch
from cqlengine.connection.driver import NOT_SET, Connection
from cqlengine.connection.refusals import explained
from cqlengine.connection.sending import _note_sent, send_options
from cqlengine.connection.steps import Blocking, Body, Send
from cqlengine.prepared import Params

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


def _batch_members(members: Sequence[BatchMember]) -> list[BatchMember]:
    members = list(members)
    if not members:
        raise ValueError("an empty batch: there is nothing to send")
    return members


class _BatchText:
    """What the debug log shows of a batch: its type and its members' CQL texts (never their values)."""

    def __init__(self, batch_type: BatchType, members: Sequence[BatchMember]) -> None:
        self.batch_type = batch_type
        self.members = members

    @property
    def query_string(self) -> str:
        return f"{self.batch_type} BATCH: " + "; ".join(cql for cql, _ in self.members)


#: A driver batch and one bound statement per distinct member text (see :meth:`Batch.statement`).
BuiltBatch = tuple[BatchStatement, dict[str, BoundStatement]]


class Batch:
    """One batch as it was asked for (see :func:`cqlengine.connection.execute_batch`).

    Its members and type are checked when it is made, before any connection is looked up.
    """

    def __init__(self, members: Sequence[BatchMember], batch_type: Union[str, BatchType, None] = "LOGGED",
                 consistency: Optional[int] = None, timeout: Any = NOT_SET,
                 on_refused: Optional[Callable[[], Any]] = None, idempotent: bool = False,
                 execution_profile: Any = EXEC_PROFILE_DEFAULT) -> None:
        self.members = _batch_members(members)
        self.kind = _batch_type(batch_type)
        self.consistency = consistency
        self.timeout = timeout
        self.on_refused = on_refused
        self.idempotent = idempotent
        self.execution_profile = execution_profile

    def statement(self, conn: Connection, session: Session,
                  cached_only: bool = False) -> Optional[BuiltBatch]:
        """The driver batch of the members, each bound through the prepared cache; nothing is sent.

        Each member shape is prepared once and reused, and a member whose values
        do not bind is prepared afresh once, as a single statement is; a second
        failure raises here, before anything of the batch is sent. Also returns
        one bound statement per distinct text, for :func:`_reprepare_changed`.
        With ``cached_only``, None when a member's text must be prepared first.
        """
        members = conn.prepared_cache.bind_many(session, self.members, cached_only)
        if members is None:
            return None
        batch = BatchStatement(batch_type=self.kind)
        batch.is_idempotent = self.idempotent
        sent: dict[str, BoundStatement] = {}
        for (cql, _), bound in zip(self.members, members):
            batch.add(bound)
            sent.setdefault(cql, bound)
        level = self.consistency if self.consistency is not None else conn.consistency
        if level is not None:
            batch.consistency_level = level
        return batch, sent

    def prepared_statement(self, conn: Connection, session: Session) -> BuiltBatch:
        """:meth:`statement`, each member's text prepared first when it is not cached."""
        built = self.statement(conn, session)
        assert built is not None
        return built

    def send(self, conn: Connection, session: Session, batch: BatchStatement) -> Send:
        """Sending ``batch``: counted and logged (its members' texts) here, timed when it runs."""
        described = _BatchText(self.kind, self.members)
        options = send_options(conn, session, described, self.timeout, profile=self.execution_profile)
        return Send(session, batch, options, conn.stats, described)


#: acsylla's batch factories by cassandra-driver's batch type.
_ACSYLLA_KINDS = {BatchType.LOGGED: "logged", BatchType.UNLOGGED: "unlogged", BatchType.COUNTER: "counter"}


def _reprepare_changed(conn: Connection, sent: dict[str, Any]) -> bool:
    """After the server refused a batch: whether the columns of any member's text changed (those are re-prepared)."""
    return any([conn.reprepare_if_changed(cql, bound) for cql, bound in sent.items()])


def batch_steps(conn: Connection, batch: Batch, awaited: bool = False) -> Body[Any]:
    """The body of ``execute_batch`` and ``aexecute_batch`` (``awaited``): the batch's result.

    Awaited on a connection whose transport is acsylla, the batch goes through it
    when every member can (see :func:`~cqlengine.connection.acsylla_transport.acsylla_batch`).

    ``batch.on_refused`` is called before the error is raised when nothing of
    the batch was applied: it could not be sent (no connection, a member that
    does not bind) or the server answered ``InvalidRequest``. That refusal is
    retried once when it came from column types that changed under a member.
    """
    in_flight = False  # whether a request that may have been applied is out
    try:
        session = conn.session
        if session is None:
            session = yield Blocking(conn.ensure_session)
        transport = conn.transport
        if awaited and isinstance(transport, AcsyllaTransport):
            described = _BatchText(batch.kind, batch.members)
            step = yield from acsylla_batch(conn, transport, batch.members, _ACSYLLA_KINDS[batch.kind],
                                            batch.consistency, batch.timeout, batch.idempotent,
                                            batch.execution_profile, described, lambda: _note_sent(conn, described))
            if step is not None:
                try:
                    in_flight = True
                    return (yield step[0])
                except BindRefused as refused:  # nothing sent: cassandra-driver binds (or refuses) it
                    in_flight = False
                    transport.fell_back(described.query_string, f"acsylla could not bind the values: {refused}")
                except InvalidRequest:
                    in_flight = False  # refused before anything was applied
                    if not (yield Blocking(_reprepare_changed, conn, step[1])):
                        raise
        built = batch.statement(conn, session, cached_only=True)
        if built is None:
            built = yield Blocking(batch.prepared_statement, conn, session)
        statement, sent = built
        try:
            in_flight = True
            return (yield batch.send(conn, session, statement))
        except InvalidRequest:
            in_flight = False  # refused before anything was applied
            if not (yield Blocking(_reprepare_changed, conn, sent)):
                raise
        statement, _ = batch.prepared_statement(conn, session)
        in_flight = True
        return (yield batch.send(conn, session, statement))
    except Exception as exc:
        if batch.on_refused is not None and (isinstance(exc, InvalidRequest) or not in_flight):
            batch.on_refused()
        better = explained(exc, _BatchText(batch.kind, batch.members), conn.session, conn.name,
                           conn.host_errors)
        if better is exc:
            raise
        raise better from exc
