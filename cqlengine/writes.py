"""Write rules shared by instances, querysets, bulk writes and batches.

How a write is sent (:class:`WriteOptions`: TTL, timestamp, consistency,
timeout, conditions, the batch it joins), what a timestamp or TTL may be,
which values write nothing. The model a write is of
and the batch a write joins are described here by Protocols
(:class:`ModelTable`, :class:`Batch`): this module sits below both.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Protocol, Union

from cqlengine import connection, statements
from cqlengine.columns import Column, Map
from cqlengine.connection import refusals
from cqlengine.exceptions import (
    CounterTimestamp,
    CQLEngineException,
    KeyspaceNotSet,
    LWTException,
    ReadOnlyModel,
    TableNotFound,
    ValidationError,
)
from cqlengine.operators import FILTER_SUFFIXES

__all__ = [
    "NO_OPTIONS",
    "OptionIgnoredInBatch",
    "ReadOptions",
    "TimeoutWithBatch",
    "Timestamp",
    "WriteOptions",
    "check_applied",
    "check_ttl",
    "normalize_timestamp",
    "refuse_read_only",
    "split_map_nulls",
    "writes_nothing",
]

Timestamp = Union[int, datetime, timedelta]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ModelTable(Protocol):
    """What a write reads of a model class: its table, keyspace, connection and columns.

    (A class's ``__name__`` cannot be a Protocol member a class object matches: see :func:`_name`.)
    """

    __connection__: Optional[str]
    _columns: dict[str, Column]
    _has_counter: bool
    #: Why the model's table cannot be written (None: it can), e.g. a materialized view's.
    _read_only: Optional[str]

    def _get_keyspace(self, connection_name: Optional[str] = None) -> Optional[str]: ...

    def _raw_column_family_name(self) -> str: ...


def _name(model: ModelTable) -> str:
    """The model's class name, for messages."""
    return str(getattr(model, "__name__", model))


class Batch(Protocol):
    """What a write needs of the batch it joins (:class:`cqlengine.batches.BatchQuery`)."""

    def add_query(self, statement: statements.BaseStatement, connection: Optional[str] = None,
                  idempotent: Optional[bool] = None) -> None: ...

    def refuse_other_connection(self, owner: str, connection: Optional[str]) -> None: ...


class OptionIgnoredInBatch(CQLEngineException):
    """A batched write with its own consistency or timeout: the batch is sent with its own."""


class TimeoutWithBatch(OptionIgnoredInBatch, AssertionError):
    """``timeout()`` and ``batch()`` on one instance: a batched write runs with the batch's timeout.

    Also an ``AssertionError``, which the peer raises here.
    """


def check_ttl(owner: str, ttl: Any) -> None:
    """A TTL is None or whole seconds >= 0 (0 means none)."""
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
        raise ValidationError(f"{owner}.ttl: {ttl!r} is not a whole number of seconds >= 0")


def normalize_timestamp(value: Optional[Timestamp], owner: str = "") -> Optional[int]:
    """Microseconds since the epoch for ``USING TIMESTAMP``.

    A ``timedelta`` is relative to now (a future-dated delete is a lock-out),
    a ``datetime`` is absolute (naive means UTC), an ``int`` is taken as is.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{owner + '.' if owner else ''}timestamp: {value!r} is not a timedelta, "
                              "datetime or int of microseconds since the epoch")
    if isinstance(value, timedelta):
        return time.time_ns() // 1000 + value // timedelta(microseconds=1)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return (aware - _EPOCH) // timedelta(microseconds=1)
    if isinstance(value, int):
        return value
    raise ValidationError(f"{owner + '.' if owner else ''}timestamp: {value!r} is not a timedelta, "
                          "datetime or int of microseconds since the epoch")


def refuse_read_only(model: ModelTable, action: str) -> None:
    """Raise :class:`ReadOnlyModel` when ``model`` cannot be written (a materialized view).

    The one check of every write path: :meth:`WriteOptions.statement_args`, which every write statement
    of a model goes through, calls it; the entry points call it first too, so that the refusal is what
    the caller sees rather than a complaint about the write's values or keys.
    """
    reason = model._read_only
    if reason:
        raise ReadOnlyModel(f"{_name(model)}.{action}: {reason}; nothing was sent")


def writes_nothing(col: Column, value: Any) -> bool:
    """None, and an empty non-frozen collection (which Cassandra stores as null), write nothing."""
    return value is None or (col.is_collection and not value and not getattr(col, "frozen", False))


def merges_into_row(col: Optional[Column], value: Any) -> bool:
    """Whether ``update(col=value)`` without an operator merges into the row's value rather than replacing
    it: a non-empty dict given to a non-frozen map is written key by key (``m = m + ?``), as the peer's
    ``m[k] = ?``, so the keys not given keep their values."""
    return isinstance(col, Map) and not col.frozen and isinstance(value, dict) and bool(value)


def split_map_nulls(col: Column, value: Any) -> tuple[Any, list[Any]]:
    """A non-frozen map's value without its None entries, and the keys those held.

    A None map value deletes that key, as in the peer: Cassandra keeps no null
    inside a collection, so a map written whole simply leaves the key out.
    """
    if not isinstance(col, Map) or getattr(col, "frozen", False) or not isinstance(value, dict):
        return value, []
    nulls = [k for k, v in value.items() if v is None]
    if not nulls:
        return value, []
    return {k: v for k, v in value.items() if v is not None}, nulls


def check_applied(result: Any) -> None:
    """Raise :class:`LWTException` when a conditional statement was not applied."""
    rows = getattr(result, "current_rows", None) or []
    row = rows[0] if rows else None
    if isinstance(row, dict) and "[applied]" in row and not row["[applied]"]:
        # The whole row, ``[applied]`` included, as the peer's ``existing`` holds it.
        raise LWTException(dict(row))


@dataclass
class ReadOptions:
    """How a statement is sent, read or write: where, at which consistency, for how long, retried or not."""

    consistency: Optional[int] = None
    timeout: Any = connection.NOT_SET
    keyspace: Optional[str] = None
    connection: Optional[str] = None
    #: Whether the driver may retry the statements (None: each statement's own ``is_idempotent``).
    idempotent: Optional[bool] = None
    #: The session's execution profile the statements run with (its name, or the profile itself).
    execution_profile: Any = None


@dataclass
class WriteOptions(ReadOptions):
    """How a statement is sent (:class:`ReadOptions`), and what only a write takes: its TTL, timestamp,
    conditions and batch. Instances and querysets hold one each (a queryset reads with its read options).

    ``timestamp``, the LWT options and ``batch`` are one-shot on an instance
    (reset after each write): a timestamp reused by a later write would date
    that write too.
    """

    ttl: Optional[int] = None
    timestamp: Optional[Timestamp] = None
    if_not_exists: bool = False
    if_exists: bool = False
    conditions: dict[str, Any] = field(default_factory=dict)
    batch: Optional[Batch] = None

    def copy(self, **changes: Any) -> WriteOptions:
        # Not dataclasses.replace: a queryset copies its options at every chained call.
        new = object.__new__(WriteOptions)
        fields = new.__dict__
        fields.update(self.__dict__)
        fields["conditions"] = dict(self.conditions)
        for name, value in changes.items():
            if name not in fields:
                raise TypeError(f"WriteOptions has no option {name!r}")
            fields[name] = value
        return new

    def set_lwt(self, owner: str, error: type[Exception], if_not_exists: bool = False,
                if_exists: bool = False) -> None:
        if (if_not_exists or self.if_not_exists) and (if_exists or self.if_exists):
            raise error(f"{owner}: if_not_exists and if_exists cannot be combined")
        self.if_not_exists = self.if_not_exists or if_not_exists
        self.if_exists = self.if_exists or if_exists

    def reset_one_shot(self) -> None:
        self.if_not_exists = self.if_exists = False
        self.conditions = {}
        self.timestamp = None
        self.batch = None

    def table(self, model: ModelTable) -> tuple[Optional[str], str, Optional[str]]:
        """(keyspace, table, connection name) a statement of ``model`` goes to; raises ``KeyspaceNotSet``
        when there is no keyspace to say (as the peer does, before anything is sent). With none named but
        a session that has one (``USE``), the table is left unqualified: it is the session's."""
        conn = self.connection or model.__connection__
        keyspace = self.keyspace or model._get_keyspace(conn)
        if keyspace is None and connection.get_connection(conn).session_keyspace is None:
            raise _keyspace_not_set(model, conn)  # (no connection at all raised its own error just now)
        return keyspace, model._raw_column_family_name(), conn

    def statement_args(self, model: ModelTable, kind: str) -> tuple[str, dict[str, Any]]:
        """The table and keyword arguments these options give ``model``'s ``kind`` of statement
        (``"insert"``, ``"update"`` or ``"delete"``): the one place options become statement arguments."""
        if model._read_only:
            refuse_read_only(model, kind)
        keyspace, table, _ = self.table(model)
        if self.timestamp is not None and kind != "delete" and model._has_counter:
            raise CounterTimestamp(
                f"{_name(model)}: timestamp({self.timestamp!r}) cannot date a write of a counter table: "
                "Cassandra refuses USING TIMESTAMP on counter updates; nothing was sent")
        args: dict[str, Any] = {"keyspace": keyspace, "timestamp": normalize_timestamp(self.timestamp)}
        if kind == "insert":
            args["if_not_exists"] = self.if_not_exists
        else:
            args["if_exists"] = self.if_exists
            args["conditions"] = self.condition_clauses(model)
        if kind != "delete":
            args["ttl"] = self.ttl
        return table, args

    def condition_clauses(self, model: ModelTable) -> list[statements.ConditionClause]:
        """``iff(col=v, col__gt=v, col__ne=v, col__in=[...])`` as IF clauses, values validated."""
        out = []
        for key, value in self.conditions.items():
            attr, _, suffix = key.partition("__")
            col = model._columns.get(attr)
            if col is None:
                raise ValidationError(f"{_name(model)}.iff: unknown column {attr!r}")
            operator = "!=" if suffix == "ne" else FILTER_SUFFIXES.get(suffix or "eq")
            if operator is None:
                raise ValidationError(f"{_name(model)}.iff: unknown condition operator {suffix!r}")
            # A condition compares: the value's type is checked, not the rules of a value written.
            if value is None:
                converted: Any = None
            elif operator == "IN":
                converted = [col.compared_value(v) for v in value]
            else:
                converted = col.compared_value(value)
            out.append(statements.ConditionClause(col.db_field_name, operator, converted))
        return out

    def send(self, statement: statements.BaseStatement, model: ModelTable) -> Any:
        """Add ``statement`` to the batch, or run it and check a conditional one was applied."""
        conn = self.connection or model.__connection__  # its keyspace was checked when it was built
        if self.batch is not None:
            return self._join_batch(statement, model, conn)
        cql, params = statement.render()
        try:
            result = connection.execute(cql, params, consistency=self.consistency, timeout=self.timeout,
                                        connection=conn, idempotent=self.idempotent_for(statement),
                                        execution_profile=self.execution_profile)
        except TableNotFound as exc:
            raise told_for(model, exc) from exc
        if statement.is_conditional:
            check_applied(result)
        return result

    async def asend(self, statement: statements.BaseStatement, model: ModelTable) -> Any:
        """``send()`` for asyncio: awaits the driver without blocking the event loop."""
        conn = self.connection or model.__connection__  # its keyspace was checked when it was built
        if self.batch is not None:
            return self._join_batch(statement, model, conn)
        cql, params = statement.render()
        try:
            result = await connection.aexecute(cql, params, consistency=self.consistency, timeout=self.timeout,
                                               connection=conn, idempotent=self.idempotent_for(statement),
                                               execution_profile=self.execution_profile)
        except TableNotFound as exc:
            raise told_for(model, exc) from exc
        if statement.is_conditional:
            check_applied(result)
        return result

    def _join_batch(self, statement: statements.BaseStatement, model: ModelTable, conn: Optional[str]) -> None:
        """Queue ``statement`` in the batch (its condition is checked when the batch runs)."""
        assert self.batch is not None
        self._refuse_options_the_batch_overrides(model)
        self.batch.add_query(statement, connection=conn, idempotent=self.idempotent_for(statement))

    def idempotent_for(self, statement: statements.BaseStatement) -> bool:
        """Whether the driver may retry ``statement``: as set with ``idempotent()``, else its own kind's."""
        return statement.is_idempotent if self.idempotent is None else self.idempotent

    def _refuse_options_the_batch_overrides(self, model: ModelTable) -> None:
        """A batch is sent as one statement, with the batch's consistency and timeout: a member's own
        would be ignored without a word, so they are refused."""
        if self.consistency is None and self.timeout is connection.NOT_SET and self.execution_profile is None:
            return  # the usual case, told without building the list below
        given = [name for name, unset in (("consistency", self.consistency is None),
                                          ("timeout", self.timeout is connection.NOT_SET),
                                          ("execution profile", self.execution_profile is None)) if not unset]
        if given:
            raise (TimeoutWithBatch if "timeout" in given else OptionIgnoredInBatch)(
                f"{_name(model)}: a batched write runs with the batch's consistency and timeout (and profile), "
                f"so its own {' and '.join(given)} would be ignored; set BatchQuery(consistency=..., timeout=...) "
                "instead"
            )


def told_for(model: ModelTable, error: TableNotFound) -> TableNotFound:
    """``error`` (a table or keyspace Cassandra does not have) naming ``model``, and what creates its table."""
    return refusals.for_model(error, _name(model))


def _keyspace_not_set(model: ModelTable, conn: Optional[str]) -> Exception:
    where = "the default connection" if conn is None else f"connection {conn!r}"
    return KeyspaceNotSet(
        f"{_name(model)}: no keyspace to find table {model._raw_column_family_name()} in: set {_name(model)}."
        f"__keyspace__, a default keyspace on {where} (connection.setup(..., default_keyspace=...)), or "
        "use .using(keyspace=...) on the query; nothing was sent")


#: The options of a write that was given none: read, never changed.
NO_OPTIONS = WriteOptions()
