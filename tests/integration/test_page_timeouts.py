"""timeout() bounds every page of an iteration, not only the first (sync and asyncio).

The node is paused (SIGSTOP, waited for until each of its threads has stopped) between two pages, so the
second page's request gets no answer.
"""
from __future__ import annotations

import asyncio
import glob
import os
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
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


def _all_stopped(pid: int) -> bool:
    """Whether every thread of the process is stopped (Linux; elsewhere: assumed after a moment)."""
    tasks = glob.glob(f"/proc/{pid}/task/*/stat")
    if not tasks:
        time.sleep(0.2)
        return True
    for task in tasks:
        try:
            state = Path(task).read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # the thread ended
        if state not in ("T", "t"):
            return False
    return True


@contextmanager
def paused(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        # kill() returns before every thread has stopped: on a busy machine a thread of the node's
        # may still be running a few milliseconds later, long enough to answer a request sent at once.
        deadline = time.monotonic() + 10
        while not _all_stopped(pid):
            assert time.monotonic() < deadline, "the node's threads did not all stop within 10 s"
            time.sleep(0.001)
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
    query = Paged.objects(k=1).fetch_size(2).timeout(1.0)
    rows = query.iterator()
    assert [next(rows).c, next(rows).c] == [0, 1]
    assert query.pages_fetched == 1, "the first page held fewer rows than asked for"
    outcome: list[BaseException] = []
    read: list[Paged] = []

    def read_on() -> None:
        try:
            read.append(next(rows))
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
    assert len(outcome) == 1 and isinstance(outcome[0], OperationTimedOut), (
        f"raised {outcome}, read {[row.c for row in read]} on page {query.pages_fetched}")


def test_the_second_page_is_bounded_too_in_asyncio(node_pid):
    async def scenario() -> float:
        query = Paged.objects(k=1).fetch_size(2).timeout(1.0)
        rows = query.__aiter__()
        assert [(await rows.__anext__()).c, (await rows.__anext__()).c] == [0, 1]
        assert query.pages_fetched == 1, "the first page held fewer rows than asked for"
        with paused(node_pid):
            began = time.monotonic()
            try:
                row = await asyncio.wait_for(rows.__anext__(), 8)  # an unbounded page: asyncio.TimeoutError
            except OperationTimedOut:
                return time.monotonic() - began
            pytest.fail(f"read row {row.c} on page {query.pages_fetched} after {time.monotonic() - began:.2f} s")

    waited = asyncio.run(scenario())
    print(f"\npage 2 with the node stalled, timeout(1.0), asyncio: gave up after {waited:.2f} s")
    assert waited < 4, f"page 2 waited {waited:.1f} s under timeout(1.0)"
