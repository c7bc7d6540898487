"""Batches: writes collected and sent as one ``BEGIN BATCH``, each as its own prepared statement."""
from __future__ import annotations

from typing import Any, Callable, Optional

from cqlengine import connection, statements
from cqlengine.exceptions import ConnectionException, CQLEngineException, QueryException
from cqlengine.writes import Timestamp, check_applied, normalize_timestamp

__all__ = ["BatchQuery", "BatchType"]


class BatchType:
    """Batch kinds (the driver's ``cassandra.query.BatchType`` is accepted too)."""

    Logged = "LOGGED"
    Unlogged = "UNLOGGED"
    Counter = "COUNTER"


def _connection_name(name: Optional[str]) -> Optional[str]:
    """The registered name ``name`` means (None: the default, while none is set up)."""
    if name is not None:
        return name
    try:
        return connection.get_connection().name
    except ConnectionException:
        return None  # execute() says what to set up


def _batch_type_name(batch_type: Any) -> str:
    if batch_type is None:
        return "LOGGED"
    name = getattr(batch_type, "name", batch_type)
    name = str(name).upper()
    if name not in statements.BATCH_TYPES:
        raise QueryException(f"unknown batch type {batch_type!r}: LOGGED, UNLOGGED or COUNTER")
    return name


class BatchQuery:
    """Collects writes and sends them as one batch of their own prepared statements.

    Each write keeps the CQL text of its own shape (the batch's ``timestamp``
    becomes each write's ``USING TIMESTAMP``), so its prepared statement is
    shared with every batch that holds a write of that shape.

    As a context manager it executes on a clean exit; when the block raises it
    sends nothing, unless ``execute_on_exception=True``.
    """

    def __init__(
        self,
        batch_type: Any = None,
        timestamp: Optional[Timestamp] = None,
        consistency: Optional[int] = None,
        execute_on_exception: bool = False,
        timeout: Any = connection.NOT_SET,
        connection: Optional[str] = None,
    ) -> None:
        self.batch_type = _batch_type_name(batch_type)
        normalize_timestamp(timestamp)
        self.timestamp = timestamp
        self._consistency = consistency
        self._execute_on_exception = execute_on_exception
        self._timeout = timeout
        self._connection = connection
        #: Given to the batch: a write of a model that names no connection runs on it, as with the peer.
        self._connection_given = connection is not None
        self.queries: list[statements.BaseStatement] = []
        self._callbacks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self._discard_callbacks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self.executed = False

    def add_query(self, statement: statements.BaseStatement, connection: Optional[str] = None,
                  idempotent: Optional[bool] = None) -> None:
        """Queue ``statement``; ``connection`` is where its model lives (None: the default).

        ``idempotent`` is what the write that queues it says of it (None: the
        statement's own ``is_idempotent``); the batch may be retried only when
        every member may.
        """
        if self.executed:
            raise CQLEngineException("this batch was already executed")
        if connection is None and self._connection_given:
            pass  # the batch's own connection
        else:
            self._check_connection(connection)
        self.queries.append(statement)
        if not (statement.is_idempotent if idempotent is None else idempotent):
            self._retry_unsafe = True

    def _check_connection(self, connection: Optional[str]) -> None:
        """Refuse a write of another connection than the batch runs on (the first write's, unless given)."""
        name = _connection_name(connection)
        if self._connection is None:
            self._connection = name
        elif _connection_name(self._connection) != name:
            raise CQLEngineException(
                f"a batch runs on one connection: this one runs on {self._connection!r}, the statement "
                f"belongs to {name!r}"
            )

    def refuse_other_connection(self, owner: str, connection: Optional[str]) -> None:
        """Raise at once when ``connection``, asked for by ``owner``, is not the one this batch was given."""
        if connection is not None and self._connection_given and connection != self._connection:
            raise CQLEngineException(f"{owner}: connection {connection!r} asked for, but the batch runs on "
                                     f"{self._connection!r}: a batch is sent on one connection")

    def add_callback(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call ``fn(*args, **kwargs)`` after the batch has executed."""
        if not callable(fn):
            raise ValueError(f"{fn!r} is not callable")
        self._callbacks.append((fn, args, kwargs))

    def consistency(self, consistency: Optional[int]) -> BatchQuery:
        self._consistency = consistency
        return self

    def _members(self) -> list[tuple[str, list]]:
        """Each write's ``(cql, params)``; a batch refused here runs the discard callbacks."""
        if self.executed:
            raise CQLEngineException("this batch was already executed")
        if not self.queries:
            return []
        try:
            return statements.render_batch_members(
                self.queries, timestamp=normalize_timestamp(self.timestamp),  # type: ignore[arg-type]
            )
        except QueryException:
            self._discard()  # refused before anything was sent
            raise

    @property
    def _idempotent(self) -> bool:
        """A batch may be retried when every member may (a batch-wide timestamp keeps that true)."""
        return not self.__dict__.get("_retry_unsafe", False)

    def _finish(self, result: Any) -> None:
        self.executed = True
        if result is not None and any(q.is_conditional for q in self.queries):
            check_applied(result)
        for fn, args, kwargs in self._callbacks:
            fn(*args, **kwargs)

    def add_discard_callback(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call ``fn(*args, **kwargs)`` if the batch is never applied: discarded, refused before it was sent,
        or refused by the server. Discard callbacks run last-added first, each undoing its step in reverse."""
        self._discard_callbacks.append((fn, args, kwargs))

    def _discard(self) -> None:
        callbacks, self._discard_callbacks = self._discard_callbacks, []
        # Last added first: an instance batched twice gets back the state from before the first.
        for fn, args, kwargs in reversed(callbacks):
            fn(*args, **kwargs)

    def execute(self) -> None:
        """Send the batch (nothing when it is empty), then run the callbacks.

        A batch refused with nothing of it applied (a write that does not bind,
        or the server's ``InvalidRequest``) runs the discard callbacks first.
        """
        members = self._members()
        result = None
        if members:
            result = connection.execute_batch(
                members, self.batch_type, consistency=self._consistency, timeout=self._timeout,
                connection=self._connection, on_refused=self._discard, idempotent=self._idempotent,
            )
        self._finish(result)

    async def aexecute(self) -> None:
        """``execute()`` without blocking the event loop."""
        members = self._members()
        result = None
        if members:
            result = await connection.aexecute_batch(
                members, self.batch_type, consistency=self._consistency, timeout=self._timeout,
                connection=self._connection, on_refused=self._discard, idempotent=self._idempotent,
            )
        self._finish(result)

    def __enter__(self) -> BatchQuery:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and not self._execute_on_exception:
            self._discard()
            return
        self.execute()

    async def __aenter__(self) -> BatchQuery:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and not self._execute_on_exception:
            self._discard()
            return
        await self.aexecute()
