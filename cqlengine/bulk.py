"""Bulk writes: many instances saved or deleted with a bounded number of requests in flight.

``Model.objects.bulk_create(instances)``, ``bulk_update`` and ``bulk_delete``
(and their ``a``-prefixed asyncio twins) validate and build every statement
first: an invalid instance raises before anything is sent. Then the driver's
concurrent execution runs them with at most ``concurrency`` in flight, and
every statement runs, whatever happens to the others. Instances written
count as written (their change tracking reset); if any failed,
:class:`BulkWriteError` lists each failure with its instance, and which
instances were written.

Instances of a mirrored model (see :mod:`cqlengine.mirroring`) are written
one by one with their mirror, ``concurrency`` at a time in threads, after
every source statement has been built.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Optional, Sequence

from cassandra import WriteFailure

from cqlengine import connection, lifecycle, statements
from cqlengine.columns import Vector
from cqlengine.exceptions import CQLEngineException, LWTException, ValidationError
from cqlengine.mapped import MappedModel
from cqlengine.writes import NO_OPTIONS, WriteOptions, check_applied

DEFAULT_CONCURRENCY = 100


@dataclass
class BulkFailure:
    """One instance whose write failed, and why."""

    instance: MappedModel
    error: BaseException


class BulkWriteError(CQLEngineException):
    """Some writes of a bulk call failed; ``failures`` has each one, ``written`` the instances written."""

    def __init__(self, action: str, failures: list[BulkFailure], written: list[MappedModel]) -> None:
        self.failures = failures
        self.written = written
        shown = "; ".join(f"{f.instance!r}: {type(f.error).__name__}: {f.error}" for f in failures[:3])
        more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
        super().__init__(f"{action}: {len(failures)} of {len(failures) + len(written)} write(s) failed: "
                         f"{shown}{more}; the others were written{_vector_index_hint(failures)}")


def _vector_index_hint(failures: list[BulkFailure]) -> str:
    """What to do when a write to a vector-indexed table failed on the replica, which a burst of them does."""
    for failure in failures:
        if isinstance(failure.error, WriteFailure) and any(
                isinstance(column, Vector) and column.similarity is not None
                for column in type(failure.instance)._meta.columns.values()):
            return (". Cassandra 5.0 fails a write to a vector index while more than the node's processors "
                    "plus one are being indexed at once: write these again with a lower concurrency, or set "
                    "concurrent_writes in the node's cassandra.yaml to at most that (the vectors guide, "
                    "'Writing many vectors at once')")
    return ""


@dataclass
class _Write:
    instance: MappedModel
    statement: statements.BaseStatement
    state: Optional[dict[str, Any]]
    options: WriteOptions  # what it was built with: the queryset's over the instance's own




def _with_queryset_options(own: WriteOptions, given: Optional[WriteOptions]) -> WriteOptions:
    """The instance's options with every option the queryset sets (ttl, timestamp, using, ...) on top."""
    if given is None or vars(given) == vars(NO_OPTIONS):
        return own  # nothing on top: each write is built with the instance's own, read only
    merged = own.copy()
    if given is not None:
        for name, value in vars(given).items():
            if value != getattr(NO_OPTIONS, name):
                setattr(merged, name, dict(value) if name == "conditions" else value)
    return merged


def _plan(action: str, instances: Iterable[MappedModel], build: Callable[[MappedModel], Any], deletes: bool,
          options: Optional[WriteOptions]) -> tuple[list[_Write], Optional[str]]:
    """Every statement of the call, built (and so validated) before anything is sent.

    Each statement is built with the queryset's options over the instance's
    own, without keeping them on the instance: a refused call leaves every
    instance's options as they were.
    """
    writes: list[_Write] = []
    conn_names: set[Optional[str]] = set()
    for instance in instances:
        if not isinstance(instance, MappedModel):
            raise ValidationError(f"{action}: {instance!r} is not a model instance")
        own = instance._options
        if own.batch is not None:
            raise ValidationError(f"{action}: {instance!r} is batched; a bulk call sends its writes itself")
        if own.timeout is not connection.NOT_SET:
            raise ValidationError(f"{action}: {instance!r} has its own timeout; pass timeout= to the bulk call")
        opts = _with_queryset_options(own, options)
        instance._options = opts
        try:
            statement, state, _ = instance._begin_write(partial(build, instance), deletes, action)
        finally:
            instance._options = own
        if statement is not None:
            writes.append(_Write(instance, statement, state, opts))
            conn_names.add(opts.table(type(instance))[2])
    if len(conn_names) > 1:
        raise ValidationError(f"{action}: the instances go to several connections ({sorted(map(str, conn_names))}); "
                              "call once per connection")
    return writes, next(iter(conn_names), None)


def _items(action: str, writes: list[_Write]) -> tuple[list[tuple[Any, ...]], Any]:
    """What ``execute_concurrently`` takes for ``writes``, and their one execution profile."""
    items = []
    for write in writes:
        cql, params = write.statement.render()
        idempotent = write.options.idempotent
        items.append((cql, params, write.options.consistency,
                      write.statement.is_idempotent if idempotent is None else idempotent))
    profiles = {write.options.execution_profile for write in writes}
    if len(profiles) > 1:
        raise ValidationError(f"{action}: the instances run with several execution profiles; call once per profile")
    return items, profiles.pop()


def _run(action: str, writes: list[_Write], conn: Optional[str], concurrency: int, timeout: Any) -> None:
    if not writes:
        return
    items, profile = _items(action, writes)
    outcomes = connection.execute_concurrently(items, concurrency=concurrency, timeout=timeout, connection=conn,
                                               execution_profile=profile)
    _settle(action, writes, outcomes)


async def _arun(action: str, writes: list[_Write], conn: Optional[str], concurrency: int, timeout: Any) -> None:
    if not writes:
        return
    items, profile = _items(action, writes)
    outcomes = await connection.aexecute_concurrently(items, concurrency=concurrency, timeout=timeout,
                                                      connection=conn, execution_profile=profile)
    _settle(action, writes, outcomes)


def _settle(action: str, writes: list[_Write], outcomes: list[tuple[bool, Any]]) -> None:
    """Each write's outcome: instances written count as written; the failures raised together."""
    failures: list[BulkFailure] = []
    written: list[MappedModel] = []
    for write, (ok, result) in zip(writes, outcomes):
        error: Optional[BaseException] = None if ok else result
        if ok and write.statement.is_conditional:
            try:
                check_applied(result)
            except LWTException as exc:
                error = exc
        if error is None:
            write.instance._end_write(write.statement, write.state, None)
            if write.options.keyspace is not None or write.options.connection is not None:
                # Written through using(): later writes of the instance go to the same place, as create().
                write.instance._options.keyspace = write.options.keyspace
                write.instance._options.connection = write.options.connection
            written.append(write.instance)
        else:
            if isinstance(error, LWTException):
                write.instance._options.reset_one_shot()  # the condition was checked: spent
                error = lifecycle.lost_race(write.instance, error)
            failures.append(BulkFailure(write.instance, error))
    if failures:
        raise BulkWriteError(action, failures, written)


def _run_mirrored(action: str, writes: list[_Write], concurrency: int, timeout: Any, deletes: bool) -> None:
    """Each write with its mirror (see the module docstring); failures reported as ``_run`` does."""
    def one(write: _Write) -> Optional[BaseException]:
        instance = write.instance
        own = instance._options
        instance._options = write.options.copy(**({} if timeout is connection.NOT_SET else {"timeout": timeout}))
        try:
            if deletes:
                instance.delete()
            else:
                instance.save()
        except Exception as exc:  # noqa: BLE001 - reported with its instance, as every bulk failure
            instance._options = own
            return exc
        kept = instance._options
        instance._options = own
        own.reset_one_shot()  # spent by the write, as on the usual path
        own.keyspace, own.connection = kept.keyspace, kept.connection
        return None

    with ThreadPoolExecutor(max_workers=min(concurrency, 32), thread_name_prefix="cqlengine-bulk") as pool:
        errors = list(pool.map(one, writes))
    failures = [BulkFailure(w.instance, e) for w, e in zip(writes, errors) if e is not None]
    if failures:
        raise BulkWriteError(action, failures, [w.instance for w, e in zip(writes, errors) if e is None])


def _send(action: str, writes: list[_Write], conn: Optional[str], concurrency: int, timeout: Any,
          deletes: bool) -> None:
    if any(type(w.instance)._write_hook is not None for w in writes):
        _run_mirrored(action, writes, concurrency, timeout, deletes)
    else:
        _run(action, writes, conn, concurrency, timeout)


async def _asend(action: str, writes: list[_Write], conn: Optional[str], concurrency: int, timeout: Any,
                 deletes: bool) -> None:
    if any(type(w.instance)._write_hook is not None for w in writes):  # mirrored: the writes run in threads
        await asyncio.get_running_loop().run_in_executor(None, _run_mirrored, action, writes, concurrency, timeout,
                                                         deletes)
    else:
        await _arun(action, writes, conn, concurrency, timeout)


def _save_statement(instance: MappedModel) -> Any:
    return instance._save_statement()


def _delete_statement(instance: MappedModel) -> Any:
    return instance._delete_statement()


def bulk_save(instances: Sequence[MappedModel], action: str = "bulk_create", concurrency: int = DEFAULT_CONCURRENCY,
              timeout: Any = connection.NOT_SET, options: Optional[Any] = None) -> list[MappedModel]:
    """Save every instance (INSERT a new one, UPDATE what changed in a loaded one)."""
    writes, conn = _plan(action, instances, _save_statement, False, options)
    _send(action, writes, conn, concurrency, timeout, False)
    return list(instances)


def bulk_delete(instances: Sequence[MappedModel], concurrency: int = DEFAULT_CONCURRENCY,
                timeout: Any = connection.NOT_SET, options: Optional[Any] = None) -> None:
    """DELETE the row of every instance."""
    writes, conn = _plan("bulk_delete", instances, _delete_statement, True, options)
    _send("bulk_delete", writes, conn, concurrency, timeout, True)


async def abulk_save(instances: Sequence[MappedModel], action: str = "abulk_create",
                     concurrency: int = DEFAULT_CONCURRENCY, timeout: Any = connection.NOT_SET,
                     options: Optional[Any] = None) -> list[MappedModel]:
    """:func:`bulk_save` without blocking the event loop (see ``connection.aexecute_concurrently``)."""
    writes, conn = _plan(action, instances, _save_statement, False, options)
    await _asend(action, writes, conn, concurrency, timeout, False)
    return list(instances)


async def abulk_delete(instances: Sequence[MappedModel], concurrency: int = DEFAULT_CONCURRENCY,
                       timeout: Any = connection.NOT_SET, options: Optional[Any] = None) -> None:
    """:func:`bulk_delete` without blocking the event loop."""
    writes, conn = _plan("abulk_delete", instances, _delete_statement, True, options)
    await _asend("abulk_delete", writes, conn, concurrency, timeout, True)
