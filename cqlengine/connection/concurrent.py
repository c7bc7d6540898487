"""Many statements at once, with bounded concurrency, and one statement on every host."""
from __future__ import annotations

import asyncio
import threading
from functools import partial
from typing import Any, Optional, Sequence

from cassandra.cluster import EXEC_PROFILE_DEFAULT, ResponseFuture, ResultSet, Session
from cassandra.query import Statement

from cqlengine.connection import telemetry
from cqlengine.connection.acsylla_transport import AcsyllaTransport
from cqlengine.connection.driver import NOT_SET, Connection
from cqlengine.connection.refusals import explained
from cqlengine.connection.sending import Request, _log, asend, is_default_profile, send_options
from cqlengine.exceptions import ConnectionException, check_positive_int
from cqlengine.prepared import Params


def send_concurrently(conn: Connection, items: Sequence[tuple[Any, ...]], concurrency: int = 100,
                      timeout: Any = NOT_SET, execution_profile: Any = EXEC_PROFILE_DEFAULT) -> list[tuple[bool, Any]]:
    """Every item bound first, then sent with at most ``concurrency`` in flight; each outcome, in order."""
    check_positive_int(concurrency, "execute_concurrently: concurrency", ConnectionException)
    session = conn.ensure_session()
    defaults = is_default_profile(execution_profile)
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
    queries = [item[0] for item in items] if telemetry.active is not None else ()
    outcomes = _send_all(session, bound, concurrency, options, queries)
    for index, (ok, value) in enumerate(outcomes):
        if not ok:  # rewritten in place: a bulk call's outcomes stay one tuple a statement while it runs
            outcomes[index] = (False, _explained(value, items[index][0], session, conn))
    return outcomes


async def asend_concurrently(conn: Connection, items: Sequence[tuple[Any, ...]], concurrency: int = 100,
                             timeout: Any = NOT_SET,
                             execution_profile: Any = EXEC_PROFILE_DEFAULT) -> list[tuple[bool, Any]]:
    """:func:`send_concurrently` without blocking the event loop; each outcome, in order.

    On a connection whose transport is acsylla, each statement is awaited
    through it (at most ``concurrency`` at a time; each value is converted as
    it is sent). Otherwise the driver's concurrent send runs in the loop's
    executor.
    """
    if not isinstance(conn.transport, AcsyllaTransport):
        return await asyncio.get_running_loop().run_in_executor(
            None, partial(send_concurrently, conn, items, concurrency, timeout, execution_profile))
    check_positive_int(concurrency, "execute_concurrently: concurrency", ConnectionException)
    outcomes: list[tuple[bool, Any]] = [(False, None)] * len(items)
    pending = iter(enumerate(items))  # shared by the workers: each item is taken once, in order

    async def worker() -> None:
        # ``concurrency`` workers, not a task per item: a task and a semaphore turn per statement cost
        # more than acsylla's own send.
        for index, item in pending:
            request = Request(item[0], item[1], item[2], timeout, idempotent=item[3] if len(item) > 3 else None,
                              execution_profile=execution_profile)
            try:
                outcomes[index] = True, await asend(conn, request)
            except Exception as exc:  # noqa: BLE001 - reported as this statement's outcome, as the driver's
                outcomes[index] = False, exc

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(items)))))
    return outcomes


def _explained(error: BaseException, query: Any, session: Session, conn: Connection) -> BaseException:
    """A statement's failure told with what to do (see ``refusals``), the driver's error as its cause."""
    better = explained(error, query, session, conn.name, conn.host_errors)
    if better is not error:
        better.__cause__ = error
    return better


def _send_all(session: Session, statements: Sequence[Statement], concurrency: int,
              options: dict[str, Any], queries: Sequence[Any] = ()) -> list[tuple[bool, Any]]:
    """Send every statement, at most ``concurrency`` in flight; each outcome, in order.

    Not the driver's ``execute_concurrent``: before 3.30 it sends every request
    with ``timeout=None``, so no request of a bulk call would ever time out.
    With telemetry on, each request's span starts here, in the caller's
    context, and ends on the driver's thread that settles it.
    """
    outcomes: list[tuple[bool, Any]] = [(False, None)] * len(statements)
    tracing = telemetry.active
    traced: list[Optional[telemetry.Request]] = [None] * len(statements) if tracing is not None else []
    slots = threading.BoundedSemaphore(concurrency)
    all_done = threading.Event()
    left = [len(statements)]
    count = threading.Lock()

    def settle(index: int, future: Optional[ResponseFuture], ok: bool, value: Any) -> None:
        try:
            outcomes[index] = (True, ResultSet(future, value)) if ok else (False, value)
        except Exception as exc:  # noqa: BLE001 - reported as this statement's outcome, never a hang
            outcomes[index] = (False, exc)
        finally:
            request = traced[index] if traced else None
            if request is not None:  # its span ends before the call returns (done/failed never raise)
                answered, outcome = outcomes[index]
                if answered:
                    request.done(future, len(getattr(outcome, "current_rows", ())))
                else:
                    request.failed(outcome, future)
            slots.release()
            with count:
                left[0] -= 1
                if not left[0]:
                    all_done.set()

    for index, statement in enumerate(statements):
        slots.acquire()
        if tracing is not None:
            traced[index] = tracing.start(queries[index] if index < len(queries) else statement)
        try:
            future = session.execute_async(statement, **options)
        except Exception as exc:  # noqa: BLE001 - an outcome like any other, reported in order
            settle(index, None, False, exc)
            continue
        future.add_callbacks(partial(settle, index, future, True), partial(settle, index, future, False))
    if statements:
        all_done.wait()
    return outcomes


def on_each_host(conn: Connection, query: str, params: Optional[Params] = None,
                 timeout: Any = NOT_SET) -> dict[str, list[Any]]:
    """The rows of ``query`` read on every host that is up, by host address."""
    session = conn.ensure_session()
    out: dict[str, list[Any]] = {}
    for host in session.cluster.metadata.all_hosts():
        if not host.is_up:
            continue
        statement = conn.build_statement(query, params)
        options = send_options(conn, session, query, timeout)
        out[str(host.endpoint)] = list(session.execute(statement, host=host, **options))
    return out
