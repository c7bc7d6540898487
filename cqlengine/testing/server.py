"""A real, local, single-node Apache Cassandra for tests and demos.

The server is assembled from Maven Central: ``cassandra-all`` and its runtime
dependencies are resolved once by Maven (with strict checksums) into a cache,
then started as ``org.apache.cassandra.service.CassandraDaemon`` with a
generated configuration in a fresh run directory, bound to 127.0.0.1, with a
bounded heap. It counts as up only when a real CQL query answers.

Where the server comes from, in order: ``CQLENGINE_TEST_HOSTS`` (an existing
cluster, nothing is started), ``CASSANDRA_HOME`` (the jars of an installed
distribution), a Docker engine through testcontainers, and lastly the cached
or downloaded jars.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

# A name imported "as" itself is re-exported: cqlengine.testing.server is where the launcher's names are
# imported from (and where tests replace them: the functions below look them up here).
from cqlengine.testing.distribution import POM_TEMPLATE as POM_TEMPLATE
from cqlengine.testing.distribution import MavenProgress as MavenProgress
from cqlengine.testing.distribution import distribution_dir as distribution_dir
from cqlengine.testing.distribution import downloaded_bytes as downloaded_bytes
from cqlengine.testing.distribution import ensure_distribution as ensure_distribution
from cqlengine.testing.distribution import verify_jars as verify_jars
from cqlengine.testing.errors import DownloadError as DownloadError
from cqlengine.testing.errors import JavaError as JavaError
from cqlengine.testing.errors import LauncherError as LauncherError
from cqlengine.testing.errors import PortInUseError as PortInUseError
from cqlengine.testing.errors import StartTimeoutError as StartTimeoutError
from cqlengine.testing.java import MAX_JAVA as MAX_JAVA
from cqlengine.testing.java import MIN_JAVA as MIN_JAVA
from cqlengine.testing.java import check_java as check_java
from cqlengine.testing.java import find_java as find_java
from cqlengine.testing.java import parse_java_major as parse_java_major
from cqlengine.testing.nodes import LOG_TAIL_LINES as LOG_TAIL_LINES
from cqlengine.testing.nodes import NodeInfo as NodeInfo
from cqlengine.testing.nodes import _live_leases as _live_leases
from cqlengine.testing.nodes import _reap as _reap
from cqlengine.testing.nodes import _terminate
from cqlengine.testing.nodes import clean_runs as clean_runs
from cqlengine.testing.nodes import is_our_node as is_our_node
from cqlengine.testing.nodes import is_run_dir as is_run_dir
from cqlengine.testing.nodes import log_tail as log_tail
from cqlengine.testing.nodes import node_lock as node_lock
from cqlengine.testing.nodes import pid_alive as pid_alive
from cqlengine.testing.nodes import port_is_open as port_is_open
from cqlengine.testing.nodes import query_release_version as query_release_version
from cqlengine.testing.nodes import read_state as read_state
from cqlengine.testing.nodes import release_lease as release_lease
from cqlengine.testing.nodes import remove_run_dir as remove_run_dir
from cqlengine.testing.nodes import running_node as running_node
from cqlengine.testing.nodes import signals_deferred as signals_deferred
from cqlengine.testing.nodes import stop_local as stop_local
from cqlengine.testing.nodes import take_lease as take_lease
from cqlengine.testing.nodes import write_state as write_state
from cqlengine.testing.settings import DAEMON_CLASS as DAEMON_CLASS
from cqlengine.testing.settings import DEFAULT_HEAP as DEFAULT_HEAP
from cqlengine.testing.settings import DEFAULT_NEW_HEAP as DEFAULT_NEW_HEAP
from cqlengine.testing.settings import DEFAULT_PORT as DEFAULT_PORT
from cqlengine.testing.settings import DEFAULT_START_TIMEOUT as DEFAULT_START_TIMEOUT
from cqlengine.testing.settings import DEFAULT_STORAGE_PORT as DEFAULT_STORAGE_PORT
from cqlengine.testing.settings import DEFAULT_VERSION as DEFAULT_VERSION
from cqlengine.testing.settings import JAVA17_MODULE_FLAGS as JAVA17_MODULE_FLAGS
from cqlengine.testing.settings import ServerSettings as ServerSettings
from cqlengine.testing.settings import cache_dir as cache_dir
from cqlengine.testing.settings import java_command as java_command
from cqlengine.testing.settings import render_logback as render_logback
from cqlengine.testing.settings import render_yaml as render_yaml

# Documented as this module's: it is where they are imported from.
for _public in (LauncherError, JavaError, DownloadError, PortInUseError, StartTimeoutError, ServerSettings, cache_dir,
                render_yaml, render_logback, java_command, find_java, parse_java_major, check_java, distribution_dir,
                verify_jars, ensure_distribution, downloaded_bytes, MavenProgress, NodeInfo, port_is_open, pid_alive,
                query_release_version, read_state, write_state, node_lock, take_lease, release_lease, is_our_node,
                running_node, clean_runs, remove_run_dir, is_run_dir, log_tail, signals_deferred, stop_local):
    _public.__module__ = __name__
del _public


# The launcher's choice of Java, made with find_java and check_java as this module has them.
def usable_java(env: Optional[dict[str, str]] = None,
                runner: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> str:
    """A Java that runs Cassandra 5.0: JAVA_HOME's or PATH's, else an installed 17 or 11.

    (A machine whose default Java is newer may still have 17 beside it.)
    """
    first = find_java(env)
    try:
        check_java(first, runner)
        return first
    except JavaError as error:
        if (env if env is not None else os.environ).get("JAVA_HOME"):
            raise  # an explicit choice is not second-guessed
        for candidate in sorted(Path("/usr/lib/jvm").glob("*-17-*/bin/java")) + sorted(
                Path("/usr/lib/jvm").glob("*-11-*/bin/java")):
            try:
                check_java(str(candidate), runner)
                return str(candidate)
            except JavaError:
                continue
        raise error


def start_local(
    settings: ServerSettings,
    lib_dir: Path,
    log: Callable[[str], None] = lambda msg: None,
    source: str = "download",
    run_dir: Optional[Path] = None,
) -> NodeInfo:
    """Start a node from ``lib_dir``'s jars in a fresh run directory and wait for CQL.

    With ``run_dir`` (a run directory of this cache whose node stopped or
    died), the node starts again on its data: what it acknowledged before is
    there (with ``durable``, every write it acknowledged).
    """
    java = usable_java()
    for port in (settings.port, settings.storage_port):
        if port_is_open(settings.host, port):
            raise PortInUseError(
                f"Port {port} on {settings.host} is already in use by a process that is not a "
                "Cassandra started by cqlengine. Stop that process, or point "
                "CQLENGINE_TEST_HOSTS at it if it is a Cassandra you want to use, or choose "
                "other ports with CQLENGINE_CASSANDRA_PORT / CQLENGINE_CASSANDRA_STORAGE_PORT."
            )
    runs = settings.cache / "runs"
    fresh = run_dir is None
    if run_dir is not None and not is_run_dir(settings, run_dir):
        raise LauncherError(f"{run_dir} is not a run directory of this cache ({runs}/{settings.name}-*)")
    try:
        runs.mkdir(parents=True, exist_ok=True)
        settings.state_file.parent.mkdir(parents=True, exist_ok=True)
        if run_dir is None:
            run_dir = Path(tempfile.mkdtemp(prefix=f"{settings.name}-", dir=runs))
        for sub in ("conf", "logs", "data", "commitlog", "saved_caches", "hints", "cdc_raw"):
            (run_dir / sub).mkdir(exist_ok=True)
        (run_dir / "conf" / "cassandra.yaml").write_text(render_yaml(settings, run_dir))
        (run_dir / "conf" / "logback.xml").write_text(render_logback(run_dir))
    except OSError as exc:
        raise LauncherError(f"Cannot prepare a run directory under {runs} ({exc}): set "
                            "CQLENGINE_CASSANDRA_CACHE to a writable directory with free space.") from exc
    command = java_command(settings, run_dir, lib_dir, java)
    log(f"starting Cassandra {settings.version} on {settings.host}:{settings.port} (run dir {run_dir})")
    started = time.monotonic()
    with open(run_dir / "logs" / "stdout.log", "wb") as out:
        # Its own process group, so that stop() takes down the JVM and nothing else.
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    info = NodeInfo(host=settings.host, port=settings.port, version="starting", pid=proc.pid,
                    startup_seconds=0.0, run_dir=str(run_dir), source=source)
    try:
        write_state(settings, info)  # at once: a process that dies midway leaves its JVM findable
        info.version = _wait_for_cql(settings, proc, run_dir, started)
    except BaseException:
        # A failed or interrupted start (Ctrl-C, SIGTERM) leaves no JVM, state or new run directory.
        with signals_deferred():
            _terminate(proc.pid)
            settings.state_file.unlink(missing_ok=True)
            if fresh:
                remove_run_dir(settings, str(run_dir))
        raise
    info.startup_seconds = round(time.monotonic() - started, 2)
    write_state(settings, info)
    log(f"Cassandra {info.version} answers CQL on {settings.host}:{settings.port} after {info.startup_seconds:.1f} s")
    return info


def _wait_for_cql(settings: ServerSettings, proc: subprocess.Popen, run_dir: Path, started: float) -> str:
    deadline = started + settings.start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LauncherError(f"Cassandra exited with code {proc.returncode} while starting.\n{log_tail(run_dir)}")
        if port_is_open(settings.host, settings.port):
            try:
                return query_release_version(settings.host, settings.port)
            except Exception:  # not ready yet: the port opens before CQL answers
                pass
        time.sleep(0.5)
    raise StartTimeoutError(
        f"Cassandra did not answer CQL on {settings.host}:{settings.port} within "
        f"{settings.start_timeout:.0f} s; it was stopped. Raise "
        f"CQLENGINE_CASSANDRA_START_TIMEOUT if this machine is slow.\n{log_tail(run_dir)}"
    )


# --------------------------------------------------------------------------- resolution


@dataclass
class Source:
    """Where the server comes from: ``hosts``, ``cassandra_home``, ``container`` or ``download``."""

    kind: str
    hosts: Sequence[str] = ()
    path: Optional[Path] = None


def docker_engine_answers(timeout: float = 3.0) -> bool:
    """True only when a Docker engine (not just the client) responds."""
    if not shutil.which("docker"):
        return False
    try:
        result = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                                capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def resolve_source(
    env: Optional[dict[str, str]] = None,
    docker_available: Callable[[], bool] = docker_engine_answers,
) -> Source:
    """Pick where the server comes from, in the documented order."""
    env = dict(os.environ if env is None else env)
    hosts = [h.strip() for h in env.get("CQLENGINE_TEST_HOSTS", "").split(",") if h.strip()]
    if hosts:
        return Source("hosts", hosts=hosts)
    if env.get("CASSANDRA_HOME"):
        home = Path(env["CASSANDRA_HOME"])
        if not (home / "lib").is_dir() or not any((home / "lib").glob("*.jar")):
            raise LauncherError(f"CASSANDRA_HOME={home} has no lib/*.jar: it is not a Cassandra distribution.")
        return Source("cassandra_home", path=home / "lib")
    if (env.get("CQLENGINE_USE_DOCKER", "1") != "0" and importlib.util.find_spec("testcontainers")
            and docker_available()):
        return Source("container")
    return Source("download")


def split_host_port(host: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, int(rest[1:]) if rest.startswith(":") else default_port
    if host.count(":") == 1:
        name, port = host.split(":")
        return name, int(port)
    return host, default_port


def ensure_node(settings: ServerSettings, log: Callable[[str], None] = lambda m: None,
                source: Optional[Source] = None, lease: bool = False) -> tuple[NodeInfo, bool]:
    """A running node for these settings and whether this call started it.

    Reuses a node this cache started earlier; starts one otherwise.
    """
    source = source or resolve_source()
    if source.kind == "hosts":
        return _existing_cluster(source.hosts), False
    if source.kind == "container":
        # A node started by hand (`python -m cqlengine.testing start`, `make demo`) is reused
        # before a container is started beside it.
        with node_lock(settings, log):
            existing = running_node(settings, log)
            if existing is not None and existing.version != "starting":
                _answering(settings, existing)
                if lease:
                    take_lease(settings)
                return existing, False
        return start_container(settings, log), True
    with node_lock(settings, log):  # one process starts the node; the others wait and reuse it
        existing = running_node(settings, log)
        if existing is not None:
            adopted = _answering(settings, existing)
            node, started = existing, adopted
        else:
            lib_dir = source.path if source.kind == "cassandra_home" else ensure_distribution(settings, log=log)
            assert lib_dir is not None
            node, started = start_local(settings, lib_dir, log=log, source=source.kind), True
        if lease:
            take_lease(settings)  # under the lock: nobody can stop the node before we hold it
        return node, started


def _answering(settings: ServerSettings, node: NodeInfo) -> bool:
    """Check a recorded node answers CQL; True when this process takes it over.

    A node still recorded as ``starting`` lost the process that was starting it (that
    process would hold the lock otherwise): wait for it, then stop it when done with it.
    """
    starting = node.version == "starting"
    deadline = time.monotonic() + (settings.start_timeout if starting else 0)
    while True:
        try:
            node.version = query_release_version(node.host, node.port)
            break
        except Exception as exc:
            if time.monotonic() >= deadline or not is_our_node(node.pid, node.run_dir):
                raise LauncherError(
                    f"The node cqlengine started on {node.host}:{node.port} (pid {node.pid}, run dir "
                    f"{node.run_dir}) runs but does not answer CQL ({exc}); stop it with "
                    "`python -m cqlengine.testing stop` (make stop) and start again."
                ) from exc
            time.sleep(0.5)
    if starting:
        write_state(settings, node)
    return starting


def _existing_cluster(hosts: Sequence[str]) -> NodeInfo:
    """The first of CQLENGINE_TEST_HOSTS that answers, with the others as further contact points."""
    errors = []
    started = time.monotonic()
    for entry in hosts:
        host, port = split_host_port(entry)
        try:
            version = query_release_version(host, port)
        except Exception as exc:
            errors.append(f"{entry}: {exc}")
            continue
        others = tuple(split_host_port(h)[0] for h in hosts if h != entry)
        return NodeInfo(host=host, port=port, version=version, pid=None, other_hosts=others,
                        startup_seconds=round(time.monotonic() - started, 2), source="hosts")
    raise LauncherError(f"CQLENGINE_TEST_HOSTS names {', '.join(hosts)} but no Cassandra answered: "
                        + "; ".join(errors))


def start_container(settings: ServerSettings, log: Callable[[str], None]) -> NodeInfo:
    """Start Cassandra through testcontainers (only where a Docker engine answers)."""
    from testcontainers.cassandra import CassandraContainer  # optional dependency

    started = time.monotonic()
    log(f"starting cassandra:{settings.version} in a container")
    container = CassandraContainer(f"cassandra:{settings.version}")
    container.start()
    host = container.get_container_host_ip()
    port = int(container.get_exposed_port(9042))
    version = query_release_version(host, port)
    return NodeInfo(host=host, port=port, version=version, pid=None,
                    startup_seconds=round(time.monotonic() - started, 2), source="container",
                    container=container)


def stop_node(info: NodeInfo, settings: ServerSettings) -> None:
    """Stop what ``ensure_node`` started."""
    if info.source == "container":
        if info.container is not None:
            info.container.stop()
        return
    stop_local(settings)


def main_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
