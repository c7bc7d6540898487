"""One body for each sync/async pair of the connection layer (``execute``/``aexecute`` ...).

A body is a generator: it decides everything (which statement, which
options, what is counted, timed and logged, when a refused statement is
prepared afresh) and yields a :class:`Step` wherever it would wait on the
network. :func:`run` does each step on the spot, for the blocking function;
:func:`arun` awaits it without blocking the event loop, for the coroutine.
The twins differ in nothing else, so they cannot drift apart.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Generator, Optional, Sequence, TypeVar

from cassandra.cluster import ResultSet, Session
from cassandra.pool import Host
from cassandra.query import Statement

from cqlengine.connection.driver import Connection
from cqlengine.connection.pages import AsyncResult, await_page

T = TypeVar("T")


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


class Binding(Blocking):
    """Building a statement (or a batch) from CQL texts of ``conn``'s prepared cache.

    Under asyncio it is built on the spot when every text is cached; a text
    not prepared yet is prepared in the loop's executor, and the statement
    built there, so that the cache counts a miss, not a miss and a hit, as
    the blocking twin does.
    """

    __slots__ = ("conn", "texts")

    def __init__(self, conn: Connection, texts: Sequence[str], call: Callable[..., Any], *args: Any) -> None:
        self.call = call
        self.args = args
        self.conn = conn
        self.texts = texts

    async def arun(self, loop: asyncio.AbstractEventLoop) -> Any:
        conn = self.conn
        if conn.session is not None and all(conn.cached(cql, count_hit=False) is not None for cql in self.texts):
            return self.run()
        return await super().arun(loop)


class Send(Step):
    """Sending one request (to ``host`` when given): its first page.

    ``run`` returns the driver's ``ResultSet``; ``arun`` an :class:`AsyncResult`.
    """

    __slots__ = ("session", "statement", "options")

    def __init__(self, session: Session, statement: Statement, options: dict[str, Any],
                 host: Optional[Host] = None) -> None:
        self.session = session
        self.statement = statement
        self.options = options if host is None else {**options, "host": host}

    def run(self) -> ResultSet:
        return self.session.execute(self.statement, **self.options)

    async def arun(self, loop: asyncio.AbstractEventLoop) -> AsyncResult:
        future = self.session.execute_async(self.statement, **self.options)
        return AsyncResult(future, await await_page(future))


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
