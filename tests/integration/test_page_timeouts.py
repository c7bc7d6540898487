"""timeout() bounds every page of an iteration, not only the first (sync and asyncio).

The node is paused (SIGSTOP) between two pages, so the second page's request gets no answer.
"""
from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest
from cassandra import OperationTimedOut

from cqlengine import columns, connection, management
from cqlengine.models import Model


class Paged(Model):
    __table_name__ = "page_timeouts"
    k = columns.Integer(partition_key=True)
    c = columns.Integer(primary_key=True)


@pytest.fixture(scope="module")
def node_pid(cassandra, cqlengine_connection):
    if cassandra.pid is None:
        pytest.skip("pauses the node's process: needs the local node of this run, not CQLENGINE_TEST_HOSTS")
    management.sync_table(Paged)
    for c in range(10):
        Paged.create(k=1, c=c)
    return cassandra.pid


@contextmanager
def paused(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 60
        while True:  # the node answers again before the next test runs
            try:
                connection.execute("SELECT release_version FROM system.local", timeout=5)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


def test_the_second_page_is_bounded_too(node_pid):
    rows = Paged.objects(k=1).fetch_size(2).timeout(1.0).iterator()
    assert [next(rows).c, next(rows).c] == [0, 1]  # the first page
    outcome: list[BaseException] = []

    def read_on() -> None:
        try:
            next(rows)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    with paused(node_pid):
        began = time.monotonic()
        reader = threading.Thread(target=read_on, daemon=True)
        reader.start()
        reader.join(timeout=8)  # an unbounded page would wait until the node resumes
        waited = time.monotonic() - began
    reader.join()
    print(f"\npage 2 with the node stalled, timeout(1.0): gave up after {waited:.2f} s")
    assert waited < 4, f"page 2 waited {waited:.1f} s under timeout(1.0)"
    assert len(outcome) == 1 and isinstance(outcome[0], OperationTimedOut), outcome


def test_the_second_page_is_bounded_too_in_asyncio(node_pid):
    async def scenario() -> float:
        rows = Paged.objects(k=1).fetch_size(2).timeout(1.0).__aiter__()
        assert [(await rows.__anext__()).c, (await rows.__anext__()).c] == [0, 1]
        with paused(node_pid):
            began = time.monotonic()
            with pytest.raises(OperationTimedOut):
                await asyncio.wait_for(rows.__anext__(), 8)  # an unbounded page: asyncio.TimeoutError
            return time.monotonic() - began

    waited = asyncio.run(scenario())
    print(f"\npage 2 with the node stalled, timeout(1.0), asyncio: gave up after {waited:.2f} s")
    assert waited < 4, f"page 2 waited {waited:.1f} s under timeout(1.0)"
