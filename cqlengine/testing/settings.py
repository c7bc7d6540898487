"""What shapes one local node: its settings, and the configuration and command line they render to."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

DEFAULT_VERSION = "5.0.9"
DEFAULT_PORT = 9042
DEFAULT_STORAGE_PORT = 7000
DEFAULT_HEAP = "1G"
DEFAULT_NEW_HEAP = "256M"
DEFAULT_START_TIMEOUT = 180.0

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


def cache_dir() -> Path:
    return Path(os.environ.get("CQLENGINE_CASSANDRA_CACHE") or Path.home() / ".cache" / "cqlengine")


@dataclass
class ServerSettings:
    """Everything that shapes one local node; rendered into its configuration.

    ``durable`` sets ``commitlog_sync: batch``: a write is acknowledged once
    its commit log is on disk, so a node killed with -9 loses no acknowledged
    write. It is off by default: ``periodic`` (every 10 s) is Cassandra's own
    default and much faster, and loses the last seconds' writes on a crash.
    ``seeds`` is the contact node of a cluster (``host:storage_port``); a lone
    node is its own seed. ``initial_token`` is this node's one token: a
    cluster spreads its nodes' tokens evenly over the ring. ``ring_delay_ms``
    is how long a starting node waits for its peers' gossip (Cassandra's ring
    delay): a lone node has nobody to wait for; a cluster node restarted among
    busy peers needs seconds, or it gives up with "Unable to gossip with any
    peers". ``label`` names this node's state, lock and run directories, when
    not its address and port (the nodes of a cluster: never confused with a
    single node on the same port).
    """

    version: str = DEFAULT_VERSION
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    storage_port: int = DEFAULT_STORAGE_PORT
    heap: str = DEFAULT_HEAP
    new_heap: str = DEFAULT_NEW_HEAP
    start_timeout: float = DEFAULT_START_TIMEOUT
    cache: Path = field(default_factory=cache_dir)
    durable: bool = False
    seeds: str = ""
    initial_token: int = 0
    cluster_name: str = "cqlengine-local"
    ring_delay_ms: int = 100
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
# A vector index's in-memory graph refuses a mutation when more than (processors + 1) insert into it at once
# ("Number of outstanding pooled objects has gone beyond the limit"): on a two-core machine, concurrent writes
# to a vector-indexed table fail on the server. Two mutations applied at a time stay under that limit anywhere.
concurrent_writes: 2
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
