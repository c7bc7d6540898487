"""Launcher faults with the real distribution: a start that times out, the CLI's exits."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from cqlengine.testing import server
from cqlengine.testing.server import ServerSettings, StartTimeoutError


@pytest.fixture(scope="module")
def lib_dir():
    """The jars a second, deliberately failing node starts from (fetched once if needed)."""
    source = server.resolve_source(docker_available=lambda: False)
    if source.kind == "cassandra_home":
        return source.path
    return server.ensure_distribution(ServerSettings.from_env())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_start_timeout_shows_the_log_and_leaves_no_process(lib_dir, tmp_path):
    settings = ServerSettings(cache=tmp_path, port=free_port(), storage_port=free_port(), start_timeout=3)
    with pytest.raises(StartTimeoutError) as info:
        server.start_local(settings, lib_dir)
    message = str(info.value)
    assert "did not answer CQL" in message and "CQLENGINE_CASSANDRA_START_TIMEOUT" in message
    assert "lines of" in message and "system.log" in message  # the tail of its own log
    java_left = subprocess.run(["pgrep", "-f", f"cassandra.storagedir={tmp_path}"], capture_output=True)
    assert java_left.returncode == 1, java_left.stdout
    assert not settings.state_file.exists()


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cqlengine.testing", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def test_cli_start_on_a_foreign_port_exits_non_zero(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli("start", CQLENGINE_CASSANDRA_PORT=str(port), CQLENGINE_CASSANDRA_CACHE=str(tmp_path),
                         CQLENGINE_TEST_HOSTS="", CASSANDRA_HOME="", CQLENGINE_USE_DOCKER="0")
    assert result.returncode == 1
    assert f"Port {port}" in result.stderr and "CQLENGINE_TEST_HOSTS" in result.stderr


def test_cli_status_reports_the_running_node(cassandra):
    result = run_cli("status", CQLENGINE_CASSANDRA_PORT=str(cassandra.port))
    if cassandra.source not in ("download", "cassandra_home"):
        # A cluster named by CQLENGINE_TEST_HOSTS, or a container: not a process cqlengine runs here.
        assert result.returncode == 3 and "not running" in result.stdout
        return
    assert result.returncode == 0, result.stderr
    assert f"port={cassandra.port}" in result.stdout and f"version={cassandra.version}" in result.stdout
    assert f"pid={cassandra.pid}" in result.stdout


def test_cli_status_when_nothing_runs(tmp_path):
    result = run_cli("status", CQLENGINE_CASSANDRA_CACHE=str(tmp_path))
    assert result.returncode == 3 and "not running" in result.stdout


def test_an_interrupted_start_leaves_no_process_state_or_run_directory(lib_dir, tmp_path):
    import signal
    import time

    port, storage = free_port(), free_port()
    # The cached jars as an installed distribution; everything else in a cache of the test's own.
    env = dict(os.environ, CQLENGINE_CASSANDRA_PORT=str(port), CQLENGINE_CASSANDRA_STORAGE_PORT=str(storage),
               CQLENGINE_TEST_HOSTS="", CQLENGINE_USE_DOCKER="0", CASSANDRA_HOME=str(lib_dir.parent),
               CQLENGINE_CASSANDRA_CACHE=str(tmp_path / "cache"))
    settings = ServerSettings.from_env(env)
    proc = subprocess.Popen([sys.executable, "-m", "cqlengine.testing", "start"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not settings.state_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # the JVM is launched and recorded: now interrupt the start
    assert settings.state_file.exists(), proc.communicate()
    run_dir = server.read_state(settings).run_dir
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    left = subprocess.run(["pgrep", "-f", f"cassandra.storagedir={run_dir}"], capture_output=True)
    assert left.returncode == 1, left.stdout
    assert not settings.state_file.exists() and not os.path.exists(run_dir)


def test_test_hosts_use_the_first_that_answers(cassandra):
    info = server._existing_cluster([f"127.0.0.1:{free_port()}", f"{cassandra.host}:{cassandra.port}"])
    assert (info.host, info.port, info.version) == (cassandra.host, cassandra.port, cassandra.version)
    assert info.contact_points == [cassandra.host, "127.0.0.1"]


def test_a_durable_node_killed_with_9_keeps_every_acknowledged_write(lib_dir, tmp_path):
    """A second node, durable (commitlog_sync: batch), is killed with -9 mid-stream and started again on its data."""
    import hashlib
    import signal
    import time
    from pathlib import Path

    from cqlengine import columns, connection, management
    from cqlengine.models import Model

    settings = ServerSettings(cache=tmp_path, port=free_port(), storage_port=free_port(), durable=True)

    class Reading(Model):
        __keyspace__ = "durable_ks"
        __connection__ = "durable"
        k = columns.Integer(partition_key=True)
        c = columns.Integer(primary_key=True)
        body = columns.Text()

    def connect() -> None:
        connection.register_connection("durable", hosts=["127.0.0.1"], cluster_options={"port": settings.port})

    def read_back() -> tuple[int, str]:
        rows = sorted((r.c, r.body) for r in Reading.objects(k=1))
        return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()

    started = time.monotonic()
    info = server.start_local(settings, lib_dir)
    try:
        connect()
        management.create_keyspace_simple("durable_ks", 1, connections=["durable"])
        management.sync_table(Reading)
        acknowledged = []
        for c in range(400):
            Reading.create(k=1, c=c, body=f"row {c}")
            acknowledged.append((c, f"row {c}"))
        expected = (len(acknowledged), hashlib.sha256(repr(sorted(acknowledged)).encode()).hexdigest())
        connection.unregister_connection("durable")
        os.killpg(info.pid, signal.SIGKILL)  # no flush, no drain: only what the commit log holds survives
        os.waitpid(info.pid, 0)
        info = server.start_local(settings, lib_dir, run_dir=Path(info.run_dir))
        connect()
        assert read_back() == expected
    finally:
        if "durable" in connection.connections():
            connection.unregister_connection("durable")
        server.stop_local(settings)
    assert not Path(info.run_dir).exists()  # stopped by us: its run directory goes with it
    print(f"durable node: two starts, 400 writes, kill -9 and read back in {time.monotonic() - started:.1f} s")
