"""Waiting for a request's pages: from a thread (:func:`next_page`) or from an asyncio loop (:class:`AsyncResult`).

The driver hands results over on its own threads through callbacks; every
wait here is bounded by the timeout the request was sent with.
"""
from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any, Optional

from cassandra import OperationTimedOut
from cassandra.cluster import ResponseFuture, ResultSet

from cqlengine.connection import telemetry


class AsyncResult:
    """One page of an asyncio execution's rows (``current_rows``), and the way to the next page."""

    def __init__(self, response_future: ResponseFuture, rows: Optional[list[Any]]) -> None:
        self.response_future = response_future
        self.current_rows: list[Any] = list(rows or [])

    @property
    def column_names(self) -> Optional[list[str]]:
        """The names of the rows' values, in order (as ``ResultSet.column_names``)."""
        return self.response_future._col_names  # type: ignore[no-any-return]

    @property
    def has_more_pages(self) -> bool:
        return bool(self.response_future.has_more_pages)

    @property
    def paging_state(self) -> Optional[bytes]:
        return self.response_future._paging_state if self.has_more_pages else None

    def one(self) -> Any:
        return self.current_rows[0] if self.current_rows else None

    async def fetch_next_page(self) -> None:
        """Replace ``current_rows`` with the next page, waited for no longer than the request's timeout."""
        future = self.response_future
        traced = _trace_page(future)
        try:
            try:
                rows = await asyncio.wait_for(await_page(future, next_page=True), future.timeout)
            except asyncio.TimeoutError:
                raise _page_timed_out(future) from None
        except BaseException as exc:
            if traced is not None:
                traced.failed(exc, future)
            raise
        self.current_rows = list(rows or [])
        if traced is not None:
            traced.done(future, len(self.current_rows))


def next_page(result: ResultSet) -> ResultSet:
    """The page after ``result``'s, waited for no longer than the request's timeout.

    The driver times a paged request from its first page, and waits for a
    next page without a limit: with a node stalled, ``fetch_next_page()``
    would wait as long as the node does. The same request goes on here (so
    the previous page's rows are let go at once), and the wait is bounded by
    the timeout the first page was sent with (the query's, the connection's
    default, or the profile's; None: no limit, as asked).
    """
    future = result.response_future
    traced = _trace_page(future)
    arrived = threading.Event()
    try:
        _start_next_page(future)
        future.add_callbacks(lambda _: arrived.set(), lambda _: arrived.set())
        if not arrived.wait(future.timeout):
            future.clear_callbacks()
            raise _page_timed_out(future)
        page = future.result()
    except BaseException as exc:
        if traced is not None:
            traced.failed(exc, future)
        raise
    if traced is not None:
        traced.done(future, len(page.current_rows))
    return page


def _trace_page(future: ResponseFuture) -> Optional[telemetry.Request]:
    """The span of a further page of ``future``'s request, when telemetry is on."""
    tracing = telemetry.active
    if tracing is None:
        return None
    with _pages_lock:
        pages = _pages_fetched[future] = _pages_fetched.get(future, 1) + 1
    return tracing.start(future.query, page=pages)


#: How many pages each request (still referenced) has fetched: numbers the spans of further pages.
_pages_fetched: weakref.WeakKeyDictionary[ResponseFuture, int] = weakref.WeakKeyDictionary()
_pages_lock = threading.Lock()


def _start_next_page(future: ResponseFuture) -> None:
    future.clear_callbacks()  # the previous page's
    # Start first: a callback added while the previous page is still the result would get that page.
    future.start_fetching_next_page()


def _page_timed_out(future: ResponseFuture) -> OperationTimedOut:
    return OperationTimedOut({"next page": f"no answer within {future.timeout} s"},
                             getattr(future, "_current_host", None))


def _settle(waiter: asyncio.Future, rows: Any, error: Optional[BaseException]) -> None:
    if waiter.done():
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(rows)


class _LoopBridge:
    """Hands the driver's results, which arrive on its own threads, to one event loop.

    Waking a loop from another thread costs a write to its self-pipe and a
    turn of its selector. Results that arrive while a wake-up is already on
    its way ride along with it: with many requests in flight, one wake-up
    settles a whole run of them. The bridge holds its loop and the awaiters
    weakly, so a closed loop is freed with everything it waited for.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = weakref.ref(loop)
        self.pending: list[tuple[weakref.ref[asyncio.Future], Any, Optional[BaseException]]] = []
        self.scheduled = False
        self.lock = threading.Lock()

    def rows(self, rows: Any, waiter: asyncio.Future) -> None:
        self._deliver(waiter, rows, None)

    def error(self, error: BaseException, waiter: asyncio.Future) -> None:
        self._deliver(waiter, None, error)

    def _deliver(self, waiter: asyncio.Future, rows: Any, error: Optional[BaseException]) -> None:
        loop = self.loop()
        with self.lock:
            if loop is None or loop.is_closed():
                self.pending.clear()  # nobody is waiting any more, and no wake-up will come
                self.scheduled = False
                return
            self.pending.append((weakref.ref(waiter), rows, error))
            if self.scheduled:
                return  # the wake-up on its way settles this one too
            self.scheduled = True
        try:
            loop.call_soon_threadsafe(self._settle_pending)
        except RuntimeError:
            with self.lock:  # the loop closed in between
                self.pending.clear()
                self.scheduled = False

    def _settle_pending(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, []
            self.scheduled = False
        for waiter_ref, rows, error in pending:
            waiter = waiter_ref()
            if waiter is not None:  # else its task is gone: nobody awaits it
                _settle(waiter, rows, error)


_bridges: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBridge] = weakref.WeakKeyDictionary()
_bridges_lock = threading.Lock()


def reset_after_fork() -> None:
    """In a child made by ``fork()``: no bridge of the parent's loops, a fresh lock."""
    global _bridges, _bridges_lock, _pages_fetched, _pages_lock
    _bridges = weakref.WeakKeyDictionary()
    _bridges_lock = threading.Lock()
    _pages_fetched = weakref.WeakKeyDictionary()
    _pages_lock = threading.Lock()


def _bridge(loop: asyncio.AbstractEventLoop) -> _LoopBridge:
    bridge = _bridges.get(loop)
    if bridge is None:
        with _bridges_lock:
            bridge = _bridges.get(loop)
            if bridge is None:
                bridge = _bridges[loop] = _LoopBridge(loop)
    return bridge


async def await_page(response_future: ResponseFuture, next_page: bool = False) -> Any:
    """The rows of the request's first page (``next_page``: of its next page), awaited from the event loop."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    if next_page:
        _start_next_page(response_future)
    bridge = _bridge(loop)
    response_future.add_callbacks(bridge.rows, bridge.error, callback_args=(waiter,), errback_args=(waiter,))
    try:
        return await waiter
    except asyncio.CancelledError:
        response_future.clear_callbacks()
        raise

