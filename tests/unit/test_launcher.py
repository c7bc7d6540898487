"""The local-Cassandra launcher: configuration, resolution order and error paths (no server)."""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cqlengine.testing import server
from cqlengine.testing.server import (
    DownloadError,
    JavaError,
    PortInUseError,
    ServerSettings,
    ensure_distribution,
    java_command,
    parse_java_major,
    render_yaml,
    resolve_source,
)


def settings_in(tmp_path: Path, **kw) -> ServerSettings:
    # A free storage port of its own: a real node on this machine holds the default 7000.
    while "storage_port" not in kw or kw["storage_port"] == kw.get("port"):
        kw["storage_port"] = free_port()
    return ServerSettings(cache=tmp_path / "cache", **kw)


class TestConfiguration:
    def test_yaml_keeps_everything_in_the_run_dir_and_on_loopback(self, tmp_path):
        run = tmp_path / "run"
        text = render_yaml(settings_in(tmp_path, port=19042, storage_port=17000), run)
        assert f"data_file_directories: [{run / 'data'}]" in text
        assert f"commitlog_directory: {run / 'commitlog'}" in text
        assert f"hints_directory: {run / 'hints'}" in text
        assert "listen_address: 127.0.0.1" in text
        assert "rpc_address: 127.0.0.1" in text
        assert "native_transport_port: 19042" in text
        assert "storage_port: 17000" in text
        assert '"127.0.0.1:17000"' in text
        assert "auto_snapshot: false" in text

    def test_java_command_bounds_the_heap_and_points_at_the_run_dir(self, tmp_path):
        run, lib = tmp_path / "run", tmp_path / "lib"
        cmd = java_command(settings_in(tmp_path, heap="768M", new_heap="128M"), run, lib, "/j/java")
        assert cmd[0] == "/j/java"
        assert "-Xmx768M" in cmd and "-Xms768M" in cmd and "-Xmn128M" in cmd
        assert f"-Dcassandra.config=file://{run / 'conf' / 'cassandra.yaml'}" in cmd
        assert cmd[cmd.index("-cp") + 1] == f"{lib}/*"
        assert cmd[-1] == "org.apache.cassandra.service.CassandraDaemon"

    def test_settings_from_env(self, tmp_path):
        s = ServerSettings.from_env({
            "CQLENGINE_CASSANDRA_PORT": "19999", "CQLENGINE_CASSANDRA_CACHE": str(tmp_path),
            "CQLENGINE_CASSANDRA_VERSION": "5.0.1", "CQLENGINE_CASSANDRA_START_TIMEOUT": "3",
        })
        assert (s.port, s.cache, s.version, s.start_timeout) == (19999, tmp_path, "5.0.1", 3.0)
        assert s.state_file == tmp_path / "state" / "node-19999.json"


class TestResolutionOrder:
    def test_test_hosts_first(self, tmp_path):
        src = resolve_source({"CQLENGINE_TEST_HOSTS": "10.0.0.1, 10.0.0.2", "CASSANDRA_HOME": str(tmp_path)},
                             docker_available=lambda: True)
        assert src.kind == "hosts" and list(src.hosts) == ["10.0.0.1", "10.0.0.2"]

    def test_cassandra_home_before_docker(self, tmp_path):
        (tmp_path / "lib").mkdir()
        (tmp_path / "lib" / "cassandra-all.jar").write_bytes(b"jar")
        src = resolve_source({"CASSANDRA_HOME": str(tmp_path)}, docker_available=lambda: True)
        assert src.kind == "cassandra_home" and src.path == tmp_path / "lib"

    def test_cassandra_home_that_is_no_distribution(self, tmp_path):
        with pytest.raises(server.LauncherError, match="not a Cassandra distribution"):
            resolve_source({"CASSANDRA_HOME": str(tmp_path)}, docker_available=lambda: False)

    def test_docker_before_download(self):
        assert resolve_source({}, docker_available=lambda: True).kind == "container"

    def test_download_last(self):
        assert resolve_source({}, docker_available=lambda: False).kind == "download"


class TestJava:
    @pytest.mark.parametrize("text, major", [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_381"', 8),
        ('openjdk version "11.0.2" 2019-01-15', 11),
        ('openjdk version "21" 2023-09-19', 21),
    ])
    def test_parse_major(self, text, major):
        assert parse_java_major(text) == major

    def test_java_missing(self):
        with pytest.raises(JavaError, match="Java was not found.*JAVA_HOME"):
            server.find_java({"PATH": "/nonexistent"})

    @pytest.mark.parametrize("version, rule", [("1.8.0_381", "needs Java 11 or 17"), ("21.0.1", "11 or 17 only")])
    def test_java_too_old_or_too_new(self, version, rule):
        def fake(cmd, **kw):
            return subprocess.CompletedProcess(cmd, 0, stdout="", stderr=f'openjdk version "{version}"')
        with pytest.raises(JavaError, match=rule):
            server.check_java("/usr/bin/java", runner=fake)

    def test_start_refuses_old_java_before_starting_anything(self, tmp_path, monkeypatch):
        monkeypatch.setattr(server, "find_java", lambda env=None: "/usr/bin/java")
        monkeypatch.setattr(server, "check_java", lambda java, runner=None: (_ for _ in ()).throw(
            JavaError("Java 8; Cassandra 5.0 needs Java 11 or 17")))
        s = settings_in(tmp_path)
        with pytest.raises(JavaError):
            server.start_local(s, tmp_path / "lib")
        assert not (s.cache / "runs").exists()


def _fake_maven(jar_bytes: bytes, published: bytes, returncode: int = 0, output: str = ""):
    """A stand-in for `mvn` that lays out what Maven would: a jar and its published .sha1."""
    def run(cmd, **kw):
        if returncode:
            return subprocess.CompletedProcess(cmd, returncode, stdout=output, stderr="")
        repo = Path(next(a for a in cmd if a.startswith("-Dmaven.repo.local=")).split("=", 1)[1])
        out = Path(next(a for a in cmd if a.startswith("-DoutputDirectory=")).split("=", 1)[1])
        art = repo / "org/apache/cassandra/cassandra-all/5.0.9"
        art.mkdir(parents=True)
        out.mkdir(parents=True)
        (art / "cassandra-all-5.0.9.jar.sha1").write_text(hashlib.sha1(published).hexdigest())
        (art / "cassandra-all-5.0.9.jar").write_bytes(jar_bytes)
        (out / "cassandra-all-5.0.9.jar").write_bytes(jar_bytes)
        return subprocess.CompletedProcess(cmd, 0, stdout="", stderr="")
    return run


class TestDownload:
    @pytest.fixture(autouse=True)
    def maven_on_path(self, monkeypatch):
        monkeypatch.setattr(server.shutil, "which", lambda name, path=None: f"/usr/bin/{name}")

    def test_verified_download_lands_in_the_cache_once(self, tmp_path):
        s = settings_in(tmp_path, version="5.0.9")
        lib = ensure_distribution(s, runner=_fake_maven(b"full jar", b"full jar"))
        assert lib == s.cache / "cassandra-5.0.9" / "lib"
        assert (lib / "cassandra-all-5.0.9.jar").read_bytes() == b"full jar"

        def must_not_run(cmd, **kw):
            raise AssertionError("a cached distribution is fetched again")
        assert ensure_distribution(s, runner=must_not_run) == lib

    def test_truncated_download_fails_its_checksum_and_leaves_nothing(self, tmp_path):
        s = settings_in(tmp_path, version="5.0.9")
        with pytest.raises(DownloadError, match="truncated or corrupt.*SHA-1"):
            ensure_distribution(s, runner=_fake_maven(b"full j", b"full jar"))
        assert not (s.cache / "cassandra-5.0.9").exists()
        assert sorted(p.name for p in s.cache.iterdir()) == ["download.lock", "m2"]
        assert not (s.cache / "m2/org/apache/cassandra/cassandra-all/5.0.9").exists()

    def test_refused_download(self, tmp_path):
        s = settings_in(tmp_path)
        out = "[ERROR] Could not transfer artifact ... status code: 403, reason phrase: Forbidden"
        with pytest.raises(DownloadError, match="refused.*\n.*403"):
            ensure_distribution(s, runner=_fake_maven(b"", b"", returncode=1, output=out))
        assert not (s.cache / f"cassandra-{s.version}").exists()

    def test_maven_checksum_failure(self, tmp_path):
        out = "[ERROR] Checksum validation failed, expected abc but is def"
        with pytest.raises(DownloadError, match="failed its checksum"):
            ensure_distribution(settings_in(tmp_path), runner=_fake_maven(b"", b"", 1, out))

    def test_no_maven(self, tmp_path, monkeypatch):
        monkeypatch.setattr(server.shutil, "which", lambda name, path=None: None)
        with pytest.raises(DownloadError, match="Maven.*CASSANDRA_HOME.*CQLENGINE_TEST_HOSTS"):
            ensure_distribution(settings_in(tmp_path))


class TestPortInUse:
    def test_a_foreign_listener_is_refused_before_anything_starts(self, tmp_path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            port = sock.getsockname()[1]
            s = settings_in(tmp_path, port=port)
            with pytest.raises(PortInUseError, match=f"Port {port} .* not a Cassandra started by cqlengine"):
                server.start_local(s, tmp_path / "lib")
        assert not (s.cache / "runs").exists() or not any((s.cache / "runs").iterdir())


def test_stop_node_stops_a_container_node(tmp_path):
    class FakeContainer:
        stopped = False

        def stop(self):
            self.stopped = True

    container = FakeContainer()
    info = server.NodeInfo(host="127.0.0.1", port=32768, version="5.0.9", pid=None, startup_seconds=1.0,
                           source="container", container=container)
    server.stop_node(info, settings_in(tmp_path))
    assert container.stopped


def test_a_stale_state_file_whose_pid_is_now_another_process_is_not_a_node(tmp_path):
    import json
    import os

    s = settings_in(tmp_path, port=19999)
    s.state_file.parent.mkdir(parents=True)
    run_dir = tmp_path / "cache" / "runs" / "node-19999-x"
    run_dir.mkdir(parents=True)
    # This test's own pid: alive, but not a Cassandra started in that run directory.
    s.state_file.write_text(json.dumps({"host": "127.0.0.1", "port": 19999, "version": "5.0.9", "pid": os.getpid(),
                                        "startup_seconds": 1.0, "run_dir": str(run_dir), "source": "download"}))
    assert server.running_node(s) is None
    assert not s.state_file.exists()
    assert run_dir.exists()  # a dead node's data and logs are kept
    assert server.stop_local(s) is None  # and nothing was killed: we are still here


def test_only_run_directories_of_the_cache_are_ever_deleted(tmp_path):
    import json
    import os

    s = settings_in(tmp_path, port=19998)
    precious = tmp_path / "precious"
    (precious / "data").mkdir(parents=True)
    runs = s.cache / "runs"
    runs.mkdir(parents=True)
    (runs / "node-19998-link").symlink_to(precious)
    for named in (precious, runs / "node-19998-link", runs / ".." / "runs" / ".." / "precious", "/", ""):
        assert server.remove_run_dir(s, str(named)) is False
    assert (precious / "data").exists()
    # A forged record naming another directory: stopping deletes nothing of it.
    s.state_file.parent.mkdir(parents=True, exist_ok=True)
    s.state_file.write_text(json.dumps({"host": "127.0.0.1", "port": 19998, "version": "5.0.9", "pid": os.getpid(),
                                        "startup_seconds": 1.0, "run_dir": str(precious), "source": "download"}))
    server.stop_local(s)
    assert (precious / "data").exists()
    ours = runs / "node-19998-abc"
    ours.mkdir()
    assert server.remove_run_dir(s, str(ours)) is True and not ours.exists()


class TestSharedNodes:
    """Leases, stale records and unresponsive nodes, with stand-in processes (no Cassandra)."""

    @pytest.fixture(autouse=True)
    def no_real_node(self, monkeypatch):
        """Were a stand-in not recognised, ensure_node would start a real node here and leave it running."""
        def refuse(*args, **kwargs):
            raise AssertionError("a unit test tried to start Cassandra: the stand-in node was not recognised")

        monkeypatch.setattr(server, "start_local", refuse)
        monkeypatch.setattr(server, "ensure_distribution", refuse)

    @pytest.fixture
    def fake_node(self, tmp_path):
        """A process whose command line looks like our node's: CassandraDaemon and its run dir."""
        procs = []

        def start(s: ServerSettings) -> server.NodeInfo:
            run_dir = s.cache / "runs" / f"node-{s.port}-fake"
            run_dir.mkdir(parents=True)
            proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", server.DAEMON_CLASS,
                                     str(run_dir)], start_new_session=True)
            procs.append(proc)
            info = server.NodeInfo(host="127.0.0.1", port=s.port, version="5.0.9", pid=proc.pid,
                                   startup_seconds=1.0, run_dir=str(run_dir), source="download")
            s.state_file.parent.mkdir(parents=True, exist_ok=True)
            server.write_state(s, info)
            return info

        yield start
        for proc in procs:
            proc.kill()
            proc.wait()

    def test_the_starter_leaves_a_node_others_use_and_the_last_user_stops_it(self, tmp_path, fake_node):
        s = settings_in(tmp_path, port=free_port())
        node = fake_node(s)
        other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            s.lease_dir.mkdir(parents=True)
            (s.lease_dir / str(other.pid)).touch()  # another session uses the node
            server.take_lease(s)
            assert server.release_lease(s, node, started=True) is None
            assert server.pid_alive(node.pid) and server.read_state(s).stop_when_released
        finally:
            other.kill()
            other.wait()
        stopped = server.release_lease(s, node, started=False)  # the last user, now that the other is gone
        assert stopped is not None and not server.pid_alive(node.pid)
        assert not s.state_file.exists() and not Path(node.run_dir).exists()

    def test_a_session_never_stops_a_node_someone_else_started_since(self, tmp_path, fake_node):
        s = settings_in(tmp_path, port=free_port())
        ours = server.NodeInfo(host="127.0.0.1", port=s.port, version="5.0.9", pid=1, startup_seconds=1.0,
                               run_dir=str(tmp_path / "gone"), source="download")
        theirs = fake_node(s)  # started by hand after ours was stopped
        assert server.release_lease(s, ours, started=True) is None
        assert server.pid_alive(theirs.pid) and s.state_file.exists()

    def test_a_live_node_that_does_not_answer_cql_is_reported_not_reused(self, tmp_path, fake_node):
        s = settings_in(tmp_path, port=free_port())
        node = fake_node(s)
        with pytest.raises(server.LauncherError, match=f"pid {node.pid}.*does not answer CQL.*stop"):
            server.ensure_node(s, source=server.Source("download"))

    def test_a_node_whose_starter_died_is_waited_for_up_to_the_start_timeout(self, tmp_path, fake_node):
        import time

        s = settings_in(tmp_path, port=free_port(), start_timeout=1.5)
        node = fake_node(s)
        node.version = "starting"  # the process that was starting it is gone
        server.write_state(s, node)
        began = time.monotonic()
        with pytest.raises(server.LauncherError, match="does not answer CQL"):
            server.ensure_node(s, source=server.Source("download"))
        assert time.monotonic() - began >= 1.5  # it waited for the start before giving up

    def test_a_state_file_with_unknown_fields_is_read(self, tmp_path):
        s = settings_in(tmp_path)
        s.state_file.parent.mkdir(parents=True)
        s.state_file.write_text('{"host": "h", "port": 1, "version": "v", "pid": 2, "startup_seconds": 0, '
                                '"added_later": true}')
        assert server.read_state(s).host == "h"
        s.state_file.write_text('{"host": "h"}')  # missing fields: treated as no node
        assert server.read_state(s) is None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_cache_that_cannot_be_written_is_one_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    s = ServerSettings(cache=blocker / "cache", port=free_port(), storage_port=free_port())
    monkeypatch.setattr(server, "usable_java", lambda env=None, runner=None: "/usr/bin/java")
    with pytest.raises(server.LauncherError, match="CQLENGINE_CASSANDRA_CACHE to a writable directory"):
        server.start_local(s, tmp_path / "lib")
    with pytest.raises(server.LauncherError, match="writable"):
        server.ensure_distribution(s)


def test_a_java_that_cannot_run_is_a_java_error():
    def refuse(cmd, **kw):
        raise PermissionError(13, "Permission denied", cmd[0])
    with pytest.raises(JavaError, match="cannot be run"):
        server.check_java("/opt/jdk/bin/java", runner=refuse)


@pytest.mark.parametrize("entry, expected", [
    ("db1", ("db1", 9042)), ("db1:9142", ("db1", 9142)), ("[::1]:9043", ("::1", 9043)),
    ("[::1]", ("::1", 9042)), ("::1", ("::1", 9042)),
])
def test_host_entries(entry, expected):
    assert server.split_host_port(entry) == expected


def test_no_container_without_testcontainers(monkeypatch):
    monkeypatch.setattr(server.importlib.util, "find_spec", lambda name: None)
    assert resolve_source({}, docker_available=lambda: True).kind == "download"


def test_durable_mode_syncs_the_commit_log_before_acknowledging(tmp_path):
    run = tmp_path / "run"
    assert "commitlog_sync: periodic" in render_yaml(settings_in(tmp_path), run)
    durable = render_yaml(settings_in(tmp_path, durable=True), run)
    assert "commitlog_sync: batch" in durable and "commitlog_sync_period" not in durable
    assert ServerSettings.from_env({"CQLENGINE_CASSANDRA_DURABLE": "1"}).durable
    assert not ServerSettings.from_env({}).durable


def test_the_node_applies_no_more_mutations_at_once_than_a_vector_index_takes(tmp_path):
    # Cassandra 5.0's in-memory vector graph refuses the (processors + 2)th concurrent insert: 4 on 2 cores.
    assert "\nconcurrent_writes: 2\n" in render_yaml(settings_in(tmp_path), tmp_path / "run")


def test_a_dead_nodes_run_directory_is_reported_and_cleaned_on_request(tmp_path):
    import json
    import os

    s = settings_in(tmp_path, port=19997)
    runs = s.cache / "runs"
    dead, other_port = runs / "node-19997-dead", runs / "node-19996-x"
    for path in (dead / "data", other_port):
        path.mkdir(parents=True)
    s.state_file.parent.mkdir(parents=True)
    s.state_file.write_text(json.dumps({"host": "127.0.0.1", "port": 19997, "version": "5.0.9", "pid": os.getpid(),
                                        "startup_seconds": 1.0, "run_dir": str(dead), "source": "download"}))
    said: list[str] = []
    assert server.running_node(s, said.append) is None
    assert len(said) == 1 and str(dead) in said[0] and "clean" in said[0] and dead.exists()
    assert server.clean_runs(s) == [str(dead)]
    assert not dead.exists() and other_port.exists()  # another port's run directory is not this one's to remove


def test_the_plugin_loads_where_fcntl_and_proc_do_not_exist():
    # Blocking the import of fcntl stands for a platform without it (the launcher uses psutil and
    # filelock, which work everywhere); the plugin must still load.
    code = ("import sys; sys.modules['fcntl'] = None\n"
            "import cqlengine.testing.plugin, cqlengine.testing.server as s\n"
            "import os; print(s.pid_alive(os.getpid()), s.pid_alive(None), s.is_our_node(os.getpid(), None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "False"]  # alive, no pid, alive but not a Cassandra


def test_a_reaped_or_zombie_child_is_not_alive():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.pid_alive(proc.pid):
        time.sleep(0.05)  # exits, then stays a zombie until waited for: gone either way
    assert not server.pid_alive(proc.pid)
    proc.wait()
    assert not server.pid_alive(proc.pid)


def test_the_first_download_reports_its_progress():
    from cqlengine.testing.server import MavenProgress, downloaded_bytes

    assert downloaded_bytes("[INFO] Downloaded from central: https://repo/x.jar (1.5 MB at 3.0 MB/s)") == 1_500_000
    assert downloaded_bytes("[INFO] Downloaded from central: https://repo/x.pom (812 B at 4 kB/s)") == 812
    assert downloaded_bytes("[INFO] Downloading from central: https://repo/x.jar") is None
    said: list[str] = []
    progress = MavenProgress(said.append, every=5.0)
    last = progress.feed("[INFO] Downloaded from central: https://r/a.jar (2 MB at 1 MB/s)", now=1.0, last=0.0)
    assert last == 0.0 and said == []  # not yet five seconds
    last = progress.feed("[INFO] BUILD SUCCESS", now=9.0, last=last)
    last = progress.feed("[INFO] Downloaded from central: https://r/b.jar (500 kB at 1 MB/s)", now=9.0, last=last)
    assert last == 9.0 and said == ["  ... 2 files, 2.5 MB so far"]
    done = progress.run(["sh", "-c", "echo '[INFO] Downloaded from central: https://r/c.jar (1 MB at 1 MB/s)'"])
    assert done.returncode == 0 and "c.jar" in done.stdout
    assert said[-1] == "  ... 3 files, 3.5 MB in all"


def test_a_node_started_by_hand_is_reused_before_a_container_is_started(tmp_path, monkeypatch):
    s = settings_in(tmp_path)
    node = server.NodeInfo(host="127.0.0.1", port=s.port, version="5.0.9", pid=os.getpid(), startup_seconds=1.0,
                           run_dir=str(tmp_path / "runs" / "x"), source="download")
    monkeypatch.setattr(server, "running_node", lambda settings, log=None: node)
    monkeypatch.setattr(server, "_answering", lambda settings, found: False)
    monkeypatch.setattr(server, "start_container", lambda settings, log: pytest.fail("started a container"))
    found, started = server.ensure_node(s, source=server.Source("container"), lease=True)
    assert (found, started) == (node, False)
    assert (s.lease_dir / str(os.getpid())).exists()  # held like any reused node
    monkeypatch.setattr(server, "running_node", lambda settings, log=None: None)
    monkeypatch.setattr(server, "start_container", lambda settings, log: "container node")
    assert server.ensure_node(s, source=server.Source("container")) == ("container node", True)
