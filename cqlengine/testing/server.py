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

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import filelock
import psutil

DEFAULT_VERSION = "5.0.9"
DEFAULT_PORT = 9042
DEFAULT_STORAGE_PORT = 7000
DEFAULT_HEAP = "1G"
DEFAULT_NEW_HEAP = "256M"
DEFAULT_START_TIMEOUT = 180.0
LOG_TAIL_LINES = 30
MIN_JAVA = 11
MAX_JAVA = 17  # Cassandra 5.0 supports Java 11 and 17.

DAEMON_CLASS = "org.apache.cassandra.service.CassandraDaemon"

# Java 17 modules Cassandra 5.0 reaches into; the distribution ships the same
# list in its jvm17-server.options.
JAVA17_MODULE_FLAGS = [
    "-Djdk.attach.allowAttachSelf=true",
    *(f"--add-exports={m}=ALL-UNNAMED" for m in (
        "java.base/jdk.internal.misc", "java.base/jdk.internal.ref", "java.base/sun.nio.ch",
        "java.management.rmi/com.sun.jmx.remote.internal.rmi", "java.rmi/sun.rmi.registry",
        "java.rmi/sun.rmi.server", "java.sql/java.sql", "java.base/java.lang.ref",
        "jdk.unsupported/sun.misc",
    )),
    *(f"--add-opens={m}=ALL-UNNAMED" for m in (
        "java.base/java.lang.module", "java.base/jdk.internal.loader", "java.base/jdk.internal.ref",
        "java.base/jdk.internal.reflect", "java.base/jdk.internal.math",
        "java.base/jdk.internal.module", "java.base/jdk.internal.util.jar",
        "jdk.management/com.sun.management.internal", "java.base/sun.nio.ch", "java.base/java.io",
        "java.base/java.nio", "java.base/java.util.concurrent", "java.base/java.util",
        "java.base/java.util.concurrent.atomic", "java.base/java.lang", "java.base/java.math",
        "java.base/java.lang.reflect", "java.base/java.net",
    )),
]


class LauncherError(RuntimeError):
    """The local Cassandra could not be provided; the message says why and what to do."""


class JavaError(LauncherError):
    pass


class DownloadError(LauncherError):
    pass


class PortInUseError(LauncherError):
    pass


class StartTimeoutError(LauncherError):
    pass


# --------------------------------------------------------------------------- settings


def cache_dir() -> Path:
    return Path(os.environ.get("CQLENGINE_CASSANDRA_CACHE") or Path.home() / ".cache" / "cqlengine")


@dataclass
class ServerSettings:
    """Everything that shapes one local node; rendered into its configuration."""

    version: str = DEFAULT_VERSION
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    storage_port: int = DEFAULT_STORAGE_PORT
    heap: str = DEFAULT_HEAP
    new_heap: str = DEFAULT_NEW_HEAP
    start_timeout: float = DEFAULT_START_TIMEOUT
    cache: Path = field(default_factory=cache_dir)
    #: ``commitlog_sync: batch``: a write is acknowledged once its commit log is on disk, so a node
    #: killed with -9 loses no acknowledged write. Off by default: ``periodic`` (every 10 s) is
    #: Cassandra's own default and much faster, and loses the last seconds' writes on a crash.
    durable: bool = False
    #: The contact node of a cluster (``host:storage_port``); a lone node is its own seed.
    seeds: str = ""
    #: This node's one token: a cluster spreads its nodes' tokens evenly over the ring.
    initial_token: int = 0
    cluster_name: str = "cqlengine-local"
    #: How long a starting node waits for its peers' gossip (Cassandra's ring delay). A lone node has
    #: nobody to wait for; a cluster node restarted among busy peers needs seconds, or it gives up
    #: with "Unable to gossip with any peers".
    ring_delay_ms: int = 100
    #: What names this node's state, lock and run directories, when not its address and port
    #: (the nodes of a cluster: never confused with a single node on the same port).
    label: str = ""

    @classmethod
    def from_env(cls, env: Optional[dict[str, str]] = None) -> ServerSettings:
        env = dict(os.environ if env is None else env)
        return cls(
            version=env.get("CQLENGINE_CASSANDRA_VERSION", DEFAULT_VERSION),
            port=int(env.get("CQLENGINE_CASSANDRA_PORT", DEFAULT_PORT)),
            storage_port=int(env.get("CQLENGINE_CASSANDRA_STORAGE_PORT", DEFAULT_STORAGE_PORT)),
            heap=env.get("CQLENGINE_CASSANDRA_HEAP", DEFAULT_HEAP),
            start_timeout=float(env.get("CQLENGINE_CASSANDRA_START_TIMEOUT", DEFAULT_START_TIMEOUT)),
            durable=env.get("CQLENGINE_CASSANDRA_DURABLE", "").strip().lower() in ("1", "true", "yes", "on"),
            cache=Path(env["CQLENGINE_CASSANDRA_CACHE"]) if env.get("CQLENGINE_CASSANDRA_CACHE")
            else Path.home() / ".cache" / "cqlengine",
        )

    @property
    def name(self) -> str:
        """What this node's state, lock and run directories are called: its ``label`` if set, else
        ``node-<port>`` on 127.0.0.1 and ``node-<host>-<port>`` elsewhere."""
        if self.label:
            return self.label
        return f"node-{self.port}" if self.host == "127.0.0.1" else f"node-{self.host}-{self.port}"

    @property
    def state_file(self) -> Path:
        return self.cache / "state" / f"{self.name}.json"

    @property
    def lock_file(self) -> Path:
        return self.cache / "state" / f"{self.name}.lock"

    @property
    def lease_dir(self) -> Path:
        """One file per process using the node (pytest sessions), named by its pid."""
        return self.cache / "state" / f"{self.name}.leases"


def render_yaml(settings: ServerSettings, run_dir: Path) -> str:
    """The cassandra.yaml of one run: everything inside ``run_dir``, loopback only."""
    d = run_dir
    return f"""\
cluster_name: {settings.cluster_name}
num_tokens: 1
initial_token: {settings.initial_token}
# Nodes of a fresh cluster start empty: nothing to stream, so no bootstrap to wait for.
auto_bootstrap: false
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
data_file_directories: [{d / 'data'}]
commitlog_directory: {d / 'commitlog'}
saved_caches_directory: {d / 'saved_caches'}
hints_directory: {d / 'hints'}
cdc_raw_directory: {d / 'cdc_raw'}
{_commitlog_sync(settings)}
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{settings.seeds or f'{settings.host}:{settings.storage_port}'}"
listen_address: {settings.host}
rpc_address: {settings.host}
storage_port: {settings.storage_port}
native_transport_port: {settings.port}
start_native_transport: true
endpoint_snitch: SimpleSnitch
# Tests drop tables all the time: no snapshot per DROP.
auto_snapshot: false
snapshot_before_compaction: false
disk_failure_policy: stop
commit_failure_policy: stop
materialized_views_enabled: true
sasi_indexes_enabled: true
"""


def _commitlog_sync(settings: ServerSettings) -> str:
    if settings.durable:
        return "commitlog_sync: batch"
    return "commitlog_sync: periodic\ncommitlog_sync_period: 10000ms"


def render_logback(run_dir: Path) -> str:
    return f"""\
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{run_dir / 'logs' / 'system.log'}</file>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
"""


def java_command(settings: ServerSettings, run_dir: Path, lib_dir: Path, java: str) -> list[str]:
    conf = run_dir / "conf"
    return [
        java,
        f"-Xms{settings.heap}", f"-Xmx{settings.heap}", f"-Xmn{settings.new_heap}",
        "-XX:+UseG1GC", "-Xss512k", "-XX:+ExitOnOutOfMemoryError",
        *JAVA17_MODULE_FLAGS,
        f"-Dcassandra.config=file://{conf / 'cassandra.yaml'}",
        f"-Dlogback.configurationFile=file://{conf / 'logback.xml'}",
        f"-Dcassandra.logdir={run_dir / 'logs'}",
        f"-Dcassandra.storagedir={run_dir}",
        "-Dcassandra-foreground=yes",
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        f"-Dcassandra.ring_delay_ms={settings.ring_delay_ms}",
        "-cp", f"{lib_dir}/*",
        DAEMON_CLASS,
    ]


# --------------------------------------------------------------------------- java


def find_java(env: Optional[dict[str, str]] = None) -> str:
    env = dict(os.environ if env is None else env)
    if env.get("JAVA_HOME"):
        candidate = Path(env["JAVA_HOME"]) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("java", path=env.get("PATH"))
    if not found:
        raise JavaError(
            "Java was not found (no JAVA_HOME, no `java` on PATH). Cassandra 5.0 needs Java 11 "
            "or 17: install one (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME."
        )
    return found


def parse_java_major(version_output: str) -> int:
    """Major version from ``java -version`` output (``1.8.0_x`` is 8)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        raise JavaError(f"Could not read the Java version from: {version_output.strip()[:200]!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def check_java(java: str, runner: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> int:
    try:
        result = runner([java, "-version"], capture_output=True, text=True)
    except OSError as exc:
        raise JavaError(f"{java} cannot be run ({exc}); install Java 17 or set JAVA_HOME to a working one.") from exc
    major = parse_java_major((result.stderr or "") + (result.stdout or ""))
    if major < MIN_JAVA:
        raise JavaError(
            f"{java} is Java {major}; Cassandra 5.0 needs Java 11 or 17. Install Java 17 "
            "(e.g. `apt-get install openjdk-17-jre-headless`) and set JAVA_HOME to it."
        )
    if major > MAX_JAVA:
        raise JavaError(
            f"{java} is Java {major}; Cassandra 5.0 runs on Java 11 or 17 only. "
            "Set JAVA_HOME to a Java 17 installation."
        )
    return major


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


# --------------------------------------------------------------------------- download


POM_TEMPLATE = """\
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cqlengine.local</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""


def distribution_dir(settings: ServerSettings) -> Path:
    return settings.cache / f"cassandra-{settings.version}"


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_jars(lib_dir: Path, repo: Path) -> None:
    """Check every jar against the SHA-1 Maven Central published for it."""
    published = {p.name[: -len(".sha1")]: p for p in repo.rglob("*.jar.sha1")}
    for jar in sorted(lib_dir.glob("*.jar")):
        sha_file = published.get(jar.name)
        if sha_file is None:
            continue  # the registry published no checksum for it
        words = sha_file.read_text().split()
        expected = words[0].strip().lower() if words else ""
        actual = _sha1(jar)
        if expected and actual != expected:
            # The local Maven repository holds the same bad bytes: drop them too.
            shutil.rmtree(sha_file.parent, ignore_errors=True)
            raise DownloadError(
                f"{jar.name} is truncated or corrupt: its SHA-1 is {actual}, Maven Central "
                f"published {expected}. The partial download was removed; run again to "
                "fetch it anew."
            )


def _classify_maven_failure(output: str) -> str:
    lowered = output.lower()
    if "checksum" in lowered:
        return "a download failed its checksum"
    if any(w in lowered for w in ("403", "401", "forbidden", "refused", "could not transfer",
                                  "unknownhost", "unknown host", "connect timed out")):
        return "the download was refused or the registry could not be reached"
    if "could not find artifact" in lowered or "could not resolve" in lowered:
        return "the artifact could not be resolved"
    return "Maven failed"


def ensure_distribution(
    settings: ServerSettings,
    runner: Optional[Callable[..., subprocess.CompletedProcess]] = None,
    log: Callable[[str], None] = lambda msg: None,
) -> Path:
    """Return the directory of Cassandra's jars, downloading them once into the cache.

    The first download (about 60 MB) reports its progress through ``log``.
    """
    final = distribution_dir(settings)
    if (final / ".complete").exists():
        return final / "lib"
    lock = filelock.FileLock(str(settings.cache / "download.lock"))
    try:
        settings.cache.mkdir(parents=True, exist_ok=True)
        lock.acquire()  # two first runs at once download once
    except OSError as exc:
        raise DownloadError(f"Cannot write to the cache {settings.cache} ({exc}): set "
                            "CQLENGINE_CASSANDRA_CACHE to a writable directory.") from exc
    try:
        if (final / ".complete").exists():
            return final / "lib"
        return _download(settings, final, runner or MavenProgress(log).run, log)
    finally:
        lock.release()


def _download(settings: ServerSettings, final: Path, runner: Callable[..., subprocess.CompletedProcess],
              log: Callable[[str], None]) -> Path:
    mvn = shutil.which("mvn")
    if not mvn:
        raise DownloadError(
            "Cassandra is not cached and Maven (`mvn`) is not installed to fetch it from Maven "
            "Central. Install Maven (e.g. `apt-get install maven`), or set CASSANDRA_HOME to an "
            "installed Cassandra 5.0, or CQLENGINE_TEST_HOSTS to a running cluster."
        )
    settings.cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"cassandra-{settings.version}.", dir=settings.cache))
    repo = settings.cache / "m2"
    try:
        (staging / "pom.xml").write_text(POM_TEMPLATE.format(version=settings.version))
        log(f"fetching Cassandra {settings.version} from Maven Central into {final} ...")
        started = time.monotonic()
        result = runner(
            [mvn, "-B", "-C",  # -C: strict checksums, a mismatch fails the build
             f"-Dmaven.repo.local={repo}", "-f", str(staging / "pom.xml"),
             "dependency:copy-dependencies", "-DincludeScope=runtime",
             f"-DoutputDirectory={staging / 'lib'}"],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            output = (result.stdout or "") + (result.stderr or "")
            tail = "\n".join(output.strip().splitlines()[-15:])
            raise DownloadError(
                f"Could not fetch org.apache.cassandra:cassandra-all:{settings.version}: "
                f"{_classify_maven_failure(output)}.\n{tail}\nCheck access to Maven Central, or "
                "set CASSANDRA_HOME / CQLENGINE_TEST_HOSTS."
            )
        lib = staging / "lib"
        if not lib.is_dir() or not any(lib.glob("cassandra-all-*.jar")):
            raise DownloadError(f"Maven finished but no cassandra-all jar arrived in {lib}.")
        verify_jars(lib, repo)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        (final / ".complete").write_text(json.dumps({"version": settings.version}))
        log(f"fetched in {time.monotonic() - started:.1f} s")
        return final / "lib"
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


_DOWNLOADED = re.compile(r"^\[INFO\] Downloaded from \S+: \S+ \(([\d.]+) (B|kB|MB|GB)")
_UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def downloaded_bytes(line: str) -> Optional[int]:
    """The size of the file a Maven ``Downloaded from ...`` line reports; None for other lines."""
    match = _DOWNLOADED.match(line.strip())
    return int(float(match.group(1)) * _UNITS[match.group(2)]) if match else None


class MavenProgress:
    """Runs Maven, reporting every few seconds how many files and bytes it has fetched."""

    def __init__(self, log: Callable[[str], None], every: float = 5.0) -> None:
        self.log = log
        self.every = every
        self.files = 0
        self.bytes = 0

    def feed(self, line: str, now: float, last: float) -> float:
        """Count one line of output; report when ``every`` seconds passed since ``last``."""
        size = downloaded_bytes(line)
        if size is None:
            return last
        self.files += 1
        self.bytes += size
        if now - last >= self.every:
            self.log(f"  ... {self.files} files, {self.bytes / 1e6:.1f} MB so far")
            return now
        return last

    def run(self, command: Sequence[str], **_: Any) -> subprocess.CompletedProcess:
        output: list[str] = []
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            assert proc.stdout is not None
            last = time.monotonic()
            for line in proc.stdout:
                output.append(line)
                last = self.feed(line, time.monotonic(), last)
        if self.files:
            self.log(f"  ... {self.files} files, {self.bytes / 1e6:.1f} MB in all")
        return subprocess.CompletedProcess(command, proc.returncode, stdout="".join(output), stderr="")


# --------------------------------------------------------------------------- running node


@dataclass
class NodeInfo:
    """What a started node is: printed by the CLI and kept in its state file."""

    host: str
    port: int
    version: str
    pid: Optional[int]
    startup_seconds: float
    run_dir: Optional[str] = None
    source: str = "local"
    #: Further contact points of a ``hosts`` node (CQLENGINE_TEST_HOSTS).
    other_hosts: tuple[str, ...] = ()
    #: Set when the session that started the node ended while others still used it:
    #: the last of them stops it.
    stop_when_released: bool = False
    #: The testcontainers container of a ``container`` node (never written to a state file).
    container: Any = field(default=None, repr=False, compare=False)

    @property
    def contact_points(self) -> list[str]:
        return [self.host, *self.other_hosts]

    def describe(self) -> str:
        pid = self.pid if self.pid is not None else "-"
        return (f"host={self.host} port={self.port} version={self.version} pid={pid} "
                f"startup={self.startup_seconds:.1f}s source={self.source}")


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: Optional[int]) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def query_release_version(host: str, port: int, timeout: float = 5.0) -> str:
    """Ask the node a real CQL question; raise if it cannot answer."""
    from cassandra.cluster import Cluster  # imported late: the CLI's help needs no driver

    cluster = Cluster([host], port=port, connect_timeout=timeout, control_connection_timeout=timeout)
    try:
        session = cluster.connect()
        row = session.execute("SELECT release_version FROM system.local", timeout=timeout).one()
        return str(row[0])
    finally:
        cluster.shutdown()


_STATE_FIELDS = {f.name for f in fields(NodeInfo)} - {"container"}


def read_state(settings: ServerSettings) -> Optional[NodeInfo]:
    try:
        data = json.loads(settings.state_file.read_text())
        return NodeInfo(**{k: v for k, v in data.items() if k in _STATE_FIELDS})
    except (OSError, ValueError, TypeError):
        return None  # no state, or one this version cannot read: treated as no node


def write_state(settings: ServerSettings, info: NodeInfo) -> None:
    """Write the state file whole or not at all (a reader never sees half of it)."""
    data = {k: v for k, v in asdict(info).items() if k in _STATE_FIELDS}
    tmp = settings.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, settings.state_file)


@contextlib.contextmanager
def node_lock(settings: ServerSettings, log: Callable[[str], None] = lambda m: None) -> Iterator[None]:
    """Serialise starting, reusing and stopping the node of one cache and port across processes."""
    try:
        settings.lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = open(settings.lock_file, "a")
    except OSError as exc:
        raise LauncherError(f"Cannot write to the cache {settings.cache} ({exc}): set "
                            "CQLENGINE_CASSANDRA_CACHE to a writable directory.") from exc
    handle.close()  # the file exists and can be written: the lock is filelock's
    lock = filelock.FileLock(str(settings.lock_file))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        log(f"waiting for another process starting or stopping the node on port {settings.port} ...")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _live_leases(settings: ServerSettings) -> list[int]:
    pids = []
    for lease in settings.lease_dir.glob("*"):
        pid = int(lease.name) if lease.name.isdigit() else 0
        if pid_alive(pid):
            pids.append(pid)
        else:
            lease.unlink(missing_ok=True)  # its process died without releasing it
    return pids


def take_lease(settings: ServerSettings) -> None:
    """Record that this process uses the node (so another session does not stop it under us)."""
    settings.lease_dir.mkdir(parents=True, exist_ok=True)
    (settings.lease_dir / str(os.getpid())).touch()


def release_lease(settings: ServerSettings, node: NodeInfo, started: bool) -> Optional[NodeInfo]:
    """Give ``node`` back; stop it when this process started it (or inherited the stopping) and
    nobody else uses it. Returns the node when it was stopped.

    Only that node: one started since by someone else (same port, another run directory) is theirs.
    """
    with node_lock(settings):
        (settings.lease_dir / str(os.getpid())).unlink(missing_ok=True)
        info = read_state(settings)
        if info is None or info.run_dir != node.run_dir or not (started or info.stop_when_released):
            return None
        if _live_leases(settings):
            info.stop_when_released = True  # the last session using it stops it
            write_state(settings, info)
            return None
        return stop_local(settings)


def is_our_node(pid: Optional[int], run_dir: Optional[str]) -> bool:
    """Whether ``pid`` is alive and is the Cassandra started in ``run_dir``.

    A state file outlives its node (a reboot, a killed session), and its pid
    may since belong to another process: the command line tells them apart.
    """
    if not pid or not pid_alive(pid):
        return False
    try:
        cmdline = " ".join(psutil.Process(pid).cmdline())
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # its command line cannot be read here: trust the pid
    return DAEMON_CLASS in cmdline and (not run_dir or run_dir in cmdline)


def running_node(settings: ServerSettings, log: Callable[[str], None] = lambda m: None) -> Optional[NodeInfo]:
    """The node this cache started on ``settings.port``, if it still runs.

    The record of a node that died is removed; its run directory (its data
    and its logs, crash logs included) is left where it is for whoever looks
    into why it died, and ``log`` says where (``clean_runs`` removes it).
    """
    info = read_state(settings)
    if info is None:
        return None
    if is_our_node(info.pid, info.run_dir):
        return info
    settings.state_file.unlink(missing_ok=True)
    if info.run_dir and is_run_dir(settings, info.run_dir):
        log(f"the node recorded on port {settings.port} (pid {info.pid}) is gone; its data and logs are kept in "
            f"{info.run_dir} (`python -m cqlengine.testing clean` removes them)")
    return None


def clean_runs(settings: ServerSettings, keep: Optional[str] = None) -> list[str]:
    """Remove the run directories of ``settings.port`` that no live node uses (all but ``keep``)."""
    runs = settings.cache / "runs"
    removed = []
    if runs.is_dir():
        for path in sorted(runs.glob(f"{settings.name}-*")):
            if keep is not None and is_run_dir(settings, keep) and path.resolve() == Path(keep).resolve():
                continue
            if remove_run_dir(settings, str(path)):
                removed.append(str(path))
    return removed


def remove_run_dir(settings: ServerSettings, run_dir: Optional[str]) -> bool:
    """Delete a run directory this cache made (``<cache>/runs/<name>-*``); whether it did.

    A state file is only a file: whatever directory it names is checked to be
    one of ours before anything is deleted, so a damaged or forged record
    cannot make the launcher delete anything else.
    """
    if not run_dir or not is_run_dir(settings, run_dir):
        return False
    shutil.rmtree(Path(run_dir).resolve(), ignore_errors=True)
    return True


def is_run_dir(settings: ServerSettings, run_dir: Any) -> bool:
    """Whether ``run_dir`` is itself a run directory of this cache for this port (no link, no path out)."""
    runs = (settings.cache / "runs").resolve()
    path = Path(run_dir)
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return (not path.is_symlink() and resolved.parent == runs and resolved.name.startswith(f"{settings.name}-")
            and resolved.is_dir())


def log_tail(run_dir: Path, lines: int = LOG_TAIL_LINES) -> str:
    for name in ("system.log", "stdout.log"):
        path = run_dir / "logs" / name
        if path.exists() and path.stat().st_size:
            text = path.read_text(errors="replace").splitlines()
            return f"last {min(lines, len(text))} lines of {path}:\n" + "\n".join(text[-lines:])
    return f"(no log was written in {run_dir / 'logs'})"


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done: a second Ctrl-C during clean-up
    must not leave half of it undone (the signal arrives afterwards)."""
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _terminate(proc_pid: int, grace: float = 20.0) -> None:
    try:
        os.killpg(proc_pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(proc_pid):
            break
        _reap(proc_pid)
        time.sleep(0.2)
    else:
        try:
            os.killpg(proc_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _reap(proc_pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


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


def stop_local(settings: ServerSettings, keep_run_dir: bool = False) -> Optional[NodeInfo]:
    """Stop the node this cache started on ``settings.port``; None when none runs.

    The run directory is deleted only when this call stopped the node in it;
    a node found dead keeps its data and logs.
    """
    info = read_state(settings)
    if info is None:
        return None
    stopped = False
    if info.pid and is_our_node(info.pid, info.run_dir):
        _terminate(info.pid)
        stopped = True
    settings.state_file.unlink(missing_ok=True)
    shutil.rmtree(settings.lease_dir, ignore_errors=True)
    if stopped and not keep_run_dir:
        remove_run_dir(settings, info.run_dir)
    return info


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
