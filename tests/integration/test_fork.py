"""A process forked after the connection was made (pre-fork servers, multiprocessing) reconnects by itself.

The driver's sockets and its I/O thread stay with the parent: a child that
used them would wait forever. Each test runs its children under a deadline
and fails, instead of hanging, when one does not answer in time.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest
from cassandra.cluster import Cluster

from cqlengine import connection, management
from cqlengine.exceptions import ConnectionException
from tests.integration.forked_app import ForkNote
from tests.integration.servers import free_port, serving

#: How long a child may take; one that has not answered by then has hung.
CHILD_DEADLINE = 30.0
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="this platform has no fork()")


@pytest.fixture(scope="module")
def notes(cqlengine_connection) -> dict[uuid.UUID, str]:
    """Rows of the module's table, written (and the session warmed) in the parent before any fork."""
    management.sync_table(ForkNote)
    written = {}
    for n in range(6):
        note = ForkNote.create(id=uuid.uuid4(), body=f"note {n}")
        written[note.id] = note.body
    yield written
    management.drop_table(ForkNote)


def in_child(work: Callable[[], Any]) -> Any:
    """``work()``'s result (JSON) in a child made by ``os.fork()``; its error raised here; a hang fails the test."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running the parent's cleanup
        os.close(read_end)
        try:
            outcome = {"result": work()}
        except BaseException as exc:  # noqa: BLE001 - every failure is reported to the parent
            outcome = {"error": f"{type(exc).__name__}: {exc}"}
        with os.fdopen(write_end, "w") as out:
            out.write(json.dumps(outcome, default=str))
        os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + CHILD_DEADLINE
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            pytest.fail(f"the forked child did not answer within {CHILD_DEADLINE:.0f} s")
        time.sleep(0.02)
    with os.fdopen(read_end) as answer:
        outcome = json.loads(answer.read() or '{"error": "the child died without a word"}')
    if "error" in outcome:
        raise AssertionError(f"in the child: {outcome['error']}")
    return outcome["result"]


def test_a_forked_child_reads_and_writes_through_a_connection_of_its_own(notes):
    key, body = next(iter(notes.items()))
    parent_session = id(connection.get_session())
    parent_cluster = connection.get_cluster()

    def work() -> dict[str, Any]:
        from cassandra import cluster as driver_cluster

        read = ForkNote.objects.timeout(5).get(id=key).body
        made = ForkNote.timeout(5).create(id=uuid.uuid4(), body="from the child")
        shape = ForkNote.objects.timeout(5).filter(id=made.id).only(["body"]).first()  # a new statement shape
        return {"read": read, "made": str(made.id), "shape": shape.body,
                "new_session": id(connection.get_session()) != parent_session,
                # the driver would shut the parent's cluster down when the child exits
                "parent_cluster_left_alone": parent_cluster not in driver_cluster._clusters_for_shutdown}

    outcome = in_child(work)
    assert outcome == {"read": body, "made": outcome["made"], "shape": "from the child", "new_session": True,
                       "parent_cluster_left_alone": True}
    # The parent's own connection was left alone: it still works, and sees the child's row.
    assert ForkNote.objects.get(id=uuid.UUID(outcome["made"])).body == "from the child"
    assert ForkNote.objects.get(id=key).body == body


def _read_in_worker(key: str) -> tuple[int, str]:
    return os.getpid(), ForkNote.objects.timeout(5).get(id=uuid.UUID(key)).body


def test_a_multiprocessing_fork_pool_reads_in_every_worker(notes):
    keys = [str(key) for key in notes] * 4
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map_async(_read_in_worker, keys, chunksize=1).get(timeout=CHILD_DEADLINE)
    assert [body for _, body in results] == [notes[uuid.UUID(key)] for key in keys]
    assert ForkNote.objects.count() >= len(notes)  # the parent still works


def test_a_session_handed_over_before_fork_is_refused_in_the_child_with_what_to_do(cassandra, notes):
    cluster = Cluster(cassandra.contact_points, port=cassandra.port)
    name = f"handed_{uuid.uuid4().hex[:8]}"
    try:
        session = cluster.connect()
        connection.register_connection(name, session=session)
        connection.execute("SELECT release_version FROM system.local", connection=name)

        def work() -> str:
            try:
                connection.execute("SELECT release_version FROM system.local", connection=name)
            except ConnectionException as exc:
                return str(exc)
            return "no error"

        message = in_child(work)
        assert "handed over before this process was forked" in message
        assert "set_session" in message and "post-fork hook" in message
        assert connection.execute("SELECT release_version FROM system.local", connection=name).one()
    finally:
        if name in connection.connections():
            connection.unregister_connection(name)
        cluster.shutdown()


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=CHILD_DEADLINE) as response:
        assert response.status == 200
        return dict(json.loads(response.read()))


def test_gunicorn_with_preload_serves_queries_from_two_workers(cassandra, cqlengine_connection, notes):
    port = free_port()
    env = {**os.environ, "FORKED_APP_HOSTS": ",".join(cassandra.contact_points),
           "FORKED_APP_PORT": str(cassandra.port), "FORKED_APP_KEYSPACE": cqlengine_connection.default_keyspace}
    argv = [sys.executable, "-m", "gunicorn", "--preload", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "--timeout", "60", "tests.integration.forked_app:app"]
    with serving(argv, ROOT, env, port, CHILD_DEADLINE):
        keys = list(notes) * 4
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda key: _get(f"http://127.0.0.1:{port}/{key}"), keys))
        assert [answer["body"] for answer in answers] == [notes[key] for key in keys]
        assert len({answer["pid"] for answer in answers}) == 2, "both workers served queries"
