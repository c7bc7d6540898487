"""One body for each sync/async pair of the connection layer (``execute``/``aexecute`` ...).

A body is a generator: it decides everything (which statement, which
options, what is counted and logged, when a refused statement is prepared
afresh) and yields a :class:`Step` wherever it would wait on the network
(a :class:`Send` is timed by the wait itself). A statement whose text is
cached is bound in the body, so the usual request is one step. :func:`run`
does each step on the spot, for the blocking function; :func:`arun` awaits
it without blocking the event loop, for the coroutine.
The twins differ in nothing else, so they cannot drift apart.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, Generator, Optional, TypeVar

from cassandra.cluster import ResponseFuture, ResultSet, Session
from cassandra.pool import Host
from cassandra.query import Statement

from cqlengine.connection import telemetry
from cqlengine.connection.pages import AsyncResult, await_page
from cqlengine.connection.stats import ConnectionStats

T = TypeVar("T")
R = TypeVar("R", ResultSet, AsyncResult)


class Step:
    """Something a body waits for: done here and now by ``run``, awaited by ``arun``."""

    __slots__ = ()

    def run(self) -> Any:
        raise NotImplementedError

    async def arun(self, loop: asyncio.AbstractEventLoop) -> Any:
        raise NotImplementedError


#: What a body is: steps out, their outcomes back in, its result at the end.
Body = Generator[Step, Any, T]


class Blocking(Step):
    """A call that waits on the network (connecting, preparing): in the loop's executor under asyncio."""

    __slots__ = ("call", "args")

    def __init__(self, call: Callable[..., Any], *args: Any) -> None:
        self.call = call
        self.args = args

    def run(self) -> Any:
        return self.call(*self.args)

    async def arun(self, loop: asyncio.AbstractEventLoop) -> Any:
        return await loop.run_in_executor(None, self.call, *self.args)


class Send(Step):
    """Sending one request (to ``host`` when given): its first page, its time recorded in ``stats``
    under the kind of ``query`` (a failure as failed).

    ``run`` returns the driver's ``ResultSet``; ``arun`` an :class:`AsyncResult`.
    """

    __slots__ = ("session", "statement", "options", "stats", "query")

    def __init__(self, session: Session, statement: Statement, options: dict[str, Any], stats: ConnectionStats,
                 query: Any) -> None:
        self.session = session
        self.statement = statement
        self.options = options
        self.stats = stats
        self.query = query

    def to(self, host: Optional[Host]) -> Send:
        """The same request, sent to ``host`` (None: wherever the load balancing policy says)."""
        options = self.options if host is None else {**self.options, "host": host}
        return Send(self.session, self.statement, options, self.stats, self.query)

    def run(self) -> ResultSet:
        tracing = telemetry.active  # read once: another thread may switch it off meanwhile
        if tracing is not None:
            return self._run_traced(tracing)
        started = time.perf_counter()
        try:
            result = self.session.execute(self.statement, **self.options)
        except BaseException:
            self.stats.record(self.query, time.perf_counter() - started, failed=True)
            raise
        self.stats.record(self.query, time.perf_counter() - started)
        return result

    def _run_traced(self, tracing: telemetry.Telemetry) -> ResultSet:
        traced = tracing.start(self.query)
        started = time.perf_counter()
        future = None
        try:
            future = self.session.execute_async(self.statement, **self.options)
            result = future.result()  # what Session.execute does
        except BaseException as exc:
            self._failed(started, traced, exc, future)
            raise
        return self._done(started, traced, future, result)

    async def arun(self, loop: asyncio.AbstractEventLoop) -> AsyncResult:
        tracing = telemetry.active
        traced = tracing.start(self.query) if tracing is not None else None
        started = time.perf_counter()
        future = None
        try:
            future = self.session.execute_async(self.statement, **self.options)
            result = AsyncResult(future, await await_page(future))
        except BaseException as exc:  # cancellation included
            self._failed(started, traced, exc, future)
            raise
        return self._done(started, traced, future, result)

    def _failed(self, started: float, traced: Optional[telemetry.Request], exc: BaseException,
                future: Optional[ResponseFuture]) -> None:
        request_failed(self.stats, self.query, started, traced, exc, future)

    def _done(self, started: float, traced: Optional[telemetry.Request], future: Optional[ResponseFuture],
              result: R) -> R:
        request_done(self.stats, self.query, started, traced, future, len(result.current_rows))
        return result


def request_failed(stats: ConnectionStats, query: Any, started: float, traced: Optional[telemetry.Request],
                   exc: BaseException, future: Any = None) -> None:
    """Record a request sent at ``started`` (``time.perf_counter``) as failed: its time, and its span."""
    stats.record(query, time.perf_counter() - started, failed=True)
    if traced is not None:
        traced.failed(exc, future)


def request_done(stats: ConnectionStats, query: Any, started: float, traced: Optional[telemetry.Request],
                 future: Any, rows: int) -> None:
    """Record a request sent at ``started`` as done: its time, and its span with the rows it brought."""
    stats.record(query, time.perf_counter() - started)
    if traced is not None:
        traced.done(future, rows)


def run(body: Body[T]) -> T:
    """The body's result, each step done on the spot."""
    try:
        step = next(body)
        while True:
            try:
                outcome = step.run()
            except BaseException as exc:  # handed to the body, which raises again what it does not handle
                step = body.throw(exc)
            else:
                step = body.send(outcome)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def arun(body: Body[T]) -> T:
    """The body's result, each step awaited without blocking the event loop."""
    loop = asyncio.get_running_loop()
    try:
        step = next(body)
        while True:
            try:
                outcome = await step.arun(loop)
            except BaseException as exc:  # cancellation included: the body records it and raises it again
                step = body.throw(exc)
            else:
                step = body.send(outcome)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
