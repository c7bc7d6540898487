"""A real, local, multi-node Apache Cassandra cluster for fault tests.

Node ``i`` (from 1) listens on ``127.0.0.<i>``; every node uses the same CQL
and storage ports (19042 and 17000 by default; the single test node's are
9042 and 7000), so a cluster and the single test node run side by side, and
a cluster on the single node's CQL port is refused. Its nodes' state, locks
and run directories are named ``cluster-<port>-node<i>``. Each node
has its own run directory (data, commit log, logs), a bounded heap and one
token, spread evenly over the ring; node 1 is the seed. The cluster counts as
ready only when every node, asked over CQL, sees every node ``UN`` (up and
normal), the state ``nodetool status`` prints.

Stopping, killing (-9) and restarting one node keep its run directory, so a
restarted node comes back on its own data, as a real node would after a crash.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Optional

import filelock

from cqlengine.testing.server import (
    LauncherError,
    NodeInfo,
    ServerSettings,
    StartTimeoutError,
    _live_leases,
    _reap,
    ensure_distribution,
    is_run_dir,
    node_lock,
    pid_alive,
    remove_run_dir,
    resolve_source,
    running_node,
    signals_deferred,
    start_local,
    stop_local,
    take_lease,
    write_state,
)

DEFAULT_NODES = 3
DEFAULT_CLUSTER_PORT = 19042
DEFAULT_CLUSTER_STORAGE_PORT = 17000
DEFAULT_CLUSTER_HEAP = "512M"
DEFAULT_CLUSTER_NEW_HEAP = "128M"
MAX_NODES = 9
#: A node's wait for its peers' gossip when it starts (the peers may be busy on a small machine).
CLUSTER_RING_DELAY_MS = 15_000

Log = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


def node_address(index: int) -> str:
    """The loopback address of node ``index`` (1-based); Linux routes all of 127.0.0.0/8 to lo."""
    return f"127.0.0.{index}"


def ring_token(index: int, nodes: int) -> int:
    """Node ``index``'s token: the Murmur3 ring (-2**63 .. 2**63-1) split into equal parts."""
    return -(2 ** 63) + (index - 1) * (2 ** 64 // nodes)


@dataclass
class ClusterSettings:
    """The shape of a local cluster; each node's ``ServerSettings`` derive from it."""

    nodes: int = DEFAULT_NODES
    port: int = DEFAULT_CLUSTER_PORT
    storage_port: int = DEFAULT_CLUSTER_STORAGE_PORT
    heap: str = DEFAULT_CLUSTER_HEAP
    new_heap: str = DEFAULT_CLUSTER_NEW_HEAP
    #: Version, cache, start-up timeout and commit-log mode, shared by every node.
    base: ServerSettings = field(default_factory=ServerSettings)

    def __post_init__(self) -> None:
        if not 1 <= self.nodes <= MAX_NODES:
            raise LauncherError(f"a local cluster has 1 to {MAX_NODES} nodes, not {self.nodes}")
        if self.port == self.base.port or self.storage_port == self.base.storage_port:
            raise LauncherError(
                f"the cluster's ports ({self.port}, storage {self.storage_port}) must differ from the single "
                f"node's ({self.base.port}, storage {self.base.storage_port}): node 1 would take its address; "
                "set CQLENGINE_CLUSTER_PORT / CQLENGINE_CLUSTER_STORAGE_PORT")

    @classmethod
    def from_env(cls, nodes: Optional[int] = None, env: Optional[dict[str, str]] = None) -> ClusterSettings:
        env = dict(os.environ if env is None else env)
        return cls(
            nodes=nodes if nodes is not None else int(env.get("CQLENGINE_CLUSTER_NODES", DEFAULT_NODES)),
            port=int(env.get("CQLENGINE_CLUSTER_PORT", DEFAULT_CLUSTER_PORT)),
            storage_port=int(env.get("CQLENGINE_CLUSTER_STORAGE_PORT", DEFAULT_CLUSTER_STORAGE_PORT)),
            heap=env.get("CQLENGINE_CLUSTER_HEAP", DEFAULT_CLUSTER_HEAP),
            base=ServerSettings.from_env(env),
        )

    def node(self, index: int) -> ServerSettings:
        """The settings of node ``index`` (1-based)."""
        if not 1 <= index <= self.nodes:
            raise LauncherError(f"the cluster has nodes 1 to {self.nodes}, not {index}")
        return replace(
            self.base, host=node_address(index), port=self.port, storage_port=self.storage_port,
            heap=self.heap, new_heap=self.new_heap, seeds=f"{node_address(1)}:{self.storage_port}",
            initial_token=ring_token(index, self.nodes), cluster_name=f"cqlengine-cluster-{self.port}",
            label=f"cluster-{self.port}-node{index}", ring_delay_ms=CLUSTER_RING_DELAY_MS,
        )

    @property
    def lock_settings(self) -> ServerSettings:
        """Whose lock (and leases) serialise starting and stopping the whole cluster."""
        return replace(self.node(1), label=f"cluster-{self.port}")


class LocalCluster:
    """The nodes of one ``ClusterSettings``: start, stop, kill and restart them."""

    def __init__(self, settings: ClusterSettings, log: Log = _quiet) -> None:
        self.settings = settings
        self.log = log
        self._lib: Optional[Path] = None
        self._lock = threading.Lock()
        #: Nodes stopped or killed through this object, and where their data is.
        self._stopped_run_dirs: dict[int, Path] = {}

    # ------------------------------------------------------------------ reading

    @property
    def port(self) -> int:
        return self.settings.port

    @property
    def contact_points(self) -> list[str]:
        return [node_address(i) for i in range(1, self.settings.nodes + 1)]

    def info(self, index: int) -> Optional[NodeInfo]:
        """Node ``index``'s record if it runs (None when stopped, killed or never started)."""
        return running_node(self.settings.node(index), self.log)

    def nodes(self) -> list[Optional[NodeInfo]]:
        return [self.info(i) for i in range(1, self.settings.nodes + 1)]

    def is_running(self) -> bool:
        return all(node is not None for node in self.nodes())

    # ------------------------------------------------------------------ whole cluster

    def start(self, timeout: Optional[float] = None) -> list[NodeInfo]:
        """Start every node not running (the seed first), then wait until all see all ``UN``.

        Nodes found running are kept. A start that fails stops the nodes this call started.
        """
        with node_lock(self.settings.lock_settings, self.log):
            self._start_missing(timeout)
        return [node for node in self.nodes() if node is not None]

    def _start_missing(self, timeout: Optional[float]) -> list[int]:
        started: list[int] = []
        try:
            running = [index for index, info in enumerate(self.nodes(), start=1) if info is not None]
            for index in range(1, self.settings.nodes + 1):
                if index in running:
                    continue
                # A node missing from a running cluster comes back on its data: the others remember
                # it, and refuse a stranger at its address ("a node with address ... already exists").
                kept = newest_run_dir(self.settings.node(index)) if running else None
                self._start_node(index, run_dir=kept)
                started.append(index)
            waited = self.wait_until_all_up(timeout)
            self.log(f"all {self.settings.nodes} nodes see each other up and normal (UN); "
                     f"{waited:.1f} s after the last one answered CQL")
        except BaseException:
            with signals_deferred():
                for index in started:
                    stop_local(self.settings.node(index))
            raise
        return started

    # ------------------------------------------------------------------ shared use

    @contextlib.contextmanager
    def exclusive_use(self) -> Iterator[None]:
        """This process alone uses the cluster while the block runs (the ``cassandra_cluster`` fixture's
        whole session): its tests kill, stop and restart nodes, which another test run using the same
        cluster at once would see fail under it. A second run waits here until the first is done."""
        lock = filelock.FileLock(str(self.settings.lock_settings.lock_file.with_suffix(".use.lock")))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            self.log(f"waiting for another test run using the cluster on port {self.port} ...")
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def acquire(self, timeout: Optional[float] = None) -> bool:
        """Start what is missing and record that this process uses the cluster (a lease, as the
        single node has): another session ending does not stop it under us. Whether this call
        started any node (then ``release`` stops the cluster once nobody uses it)."""
        lock = self.settings.lock_settings
        with node_lock(lock, self.log):
            started = bool(self._start_missing(timeout))
            take_lease(lock)
        return started

    def release(self, started: bool) -> None:
        """Give the cluster back: nodes this object stopped or killed are started again; the
        cluster is stopped if this process (or one that left it to us) started it and no other
        process still holds a lease."""
        lock = self.settings.lock_settings
        with node_lock(lock, self.log):
            (lock.lease_dir / str(os.getpid())).unlink(missing_ok=True)
            ours = started or lock.state_file.exists()  # a starter that ended first left it to us
            if ours and not _live_leases(lock):
                lock.state_file.unlink(missing_ok=True)
                self._stop_all()
                return
            for index in self.stopped_nodes:  # whole again for whoever goes on using it
                self.restart_node(index)
            if ours:
                write_state(lock, NodeInfo(host="cluster", port=self.port, version="", pid=None,
                                           startup_seconds=0.0, stop_when_released=True))

    def stop(self) -> list[NodeInfo]:
        """Stop every node; the nodes that were running. Their run directories are deleted, and
        those of nodes this object stopped or killed earlier."""
        with node_lock(self.settings.lock_settings, self.log):
            return self._stop_all()

    def _stop_all(self) -> list[NodeInfo]:
        def stop_one(index: int) -> Optional[NodeInfo]:
            settings = self.settings.node(index)
            with node_lock(settings):
                return stop_local(settings)

        # All at once: each clean shutdown takes seconds, and nothing needs them in order.
        with signals_deferred(), ThreadPoolExecutor(max_workers=self.settings.nodes) as pool:
            stopped = [info for info in pool.map(stop_one, range(1, self.settings.nodes + 1)) if info]
        shutil.rmtree(self.settings.lock_settings.lease_dir, ignore_errors=True)
        self.settings.lock_settings.state_file.unlink(missing_ok=True)
        self.forget_stopped()
        return stopped

    def wait_until_all_up(self, timeout: Optional[float] = None) -> float:
        """Wait until every node sees every node up and normal (``UN``); the seconds it took."""
        return self.wait_for({node: "UN" for node in self.contact_points}, timeout)

    def wait_for(self, expected: dict[str, str], timeout: Optional[float] = None) -> float:
        """Wait until every node that should be up sees each node in its ``expected`` state
        (``{"127.0.0.2": "DN", ...}``); the seconds it took."""
        from cqlengine.testing.ring import wait_for_ring  # the driver is imported late

        started = time.monotonic()
        deadline = started + (timeout if timeout is not None else self.settings.base.start_timeout)
        views = wait_for_ring(self.contact_points, self.port, deadline, expected)
        answering = [node for node, state in expected.items() if state.startswith("U")]
        if set(answering) <= set(views) and all(
                view.get(peer) == state for node, view in views.items() if node in answering
                for peer, state in expected.items()):
            return time.monotonic() - started
        raise StartTimeoutError(
            f"the cluster on port {self.port} did not reach {expected} within "
            f"{time.monotonic() - started:.0f} s; what each node sees: {views}")

    # ------------------------------------------------------------------ one node

    def kill_node(self, index: int) -> NodeInfo:
        """Kill node ``index`` with SIGKILL, as a crash would; its run directory is kept."""
        return self._signal_node(index, signal.SIGKILL, grace=30.0)

    def stop_node(self, index: int) -> NodeInfo:
        """Stop node ``index`` with SIGTERM (a clean shutdown); its run directory is kept."""
        return self._signal_node(index, signal.SIGTERM, grace=60.0)

    def restart_node(self, index: int, timeout: Optional[float] = None) -> NodeInfo:
        """Start a stopped or killed node ``index`` again on its own data; wait for all ``UN``."""
        if self.info(index) is not None:
            raise LauncherError(f"node {index} is running: stop or kill it before starting it again")
        with self._lock:
            run_dir = self._stopped_run_dirs.pop(index, None)
        if run_dir is None:
            # Only a node this object stopped: a leftover directory may be anyone's, from any time.
            raise LauncherError(f"node {index} was not stopped or killed through this LocalCluster; start the cluster")
        info = self._start_node(index, run_dir=run_dir)
        self.wait_until_all_up(timeout)
        return info


    def _signal_node(self, index: int, signum: int, grace: float) -> NodeInfo:
        settings = self.settings.node(index)
        with node_lock(settings):
            info = self.info(index)
            if info is None or info.pid is None or info.run_dir is None:
                raise LauncherError(f"node {index} ({settings.host}:{settings.port}) is not running")
            os.killpg(info.pid, signum)
            deadline = time.monotonic() + grace
            while pid_alive(info.pid) and time.monotonic() < deadline:
                _reap(info.pid)
                time.sleep(0.1)
            if pid_alive(info.pid):
                os.killpg(info.pid, signal.SIGKILL)
                while pid_alive(info.pid):
                    _reap(info.pid)
                    time.sleep(0.1)
            _reap(info.pid)
            settings.state_file.unlink(missing_ok=True)
        with self._lock:
            self._stopped_run_dirs[index] = Path(info.run_dir)
        self.log(f"node {index} ({settings.host}) {'killed' if signum == signal.SIGKILL else 'stopped'}; "
                 f"its data stays in {info.run_dir}")
        return info

    def _start_node(self, index: int, run_dir: Optional[Path] = None) -> NodeInfo:
        settings = self.settings.node(index)
        with node_lock(settings):
            info = start_local(settings, self._lib_dir(), log=self.log, source="cluster", run_dir=run_dir)
        return info

    def _lib_dir(self) -> Path:
        if self._lib is None:
            source = resolve_source({k: v for k, v in os.environ.items() if k != "CQLENGINE_TEST_HOSTS"})
            if source.kind == "cassandra_home" and source.path is not None:
                self._lib = source.path
            else:  # a container cannot give loopback addresses per node: the jars run here
                self._lib = ensure_distribution(self.settings.base, log=self.log)
        return self._lib

    def forget_stopped(self) -> None:
        """Delete the run directories of nodes stopped or killed and not restarted."""
        with self._lock:
            stopped, self._stopped_run_dirs = self._stopped_run_dirs, {}
        for index, run_dir in stopped.items():
            settings = self.settings.node(index)
            with node_lock(settings):  # nobody starts it on that directory meanwhile
                if self.info(index) is None:
                    remove_run_dir(settings, str(run_dir))

    @property
    def stopped_nodes(self) -> list[int]:
        """The nodes this object stopped or killed and has not started again."""
        with self._lock:
            return sorted(self._stopped_run_dirs)



def memory_mib(info: Optional[NodeInfo]) -> Optional[float]:
    """Resident memory of a node's JVM in MiB (None when it does not run)."""
    import psutil

    if info is None or not info.pid:
        return None
    try:
        return psutil.Process(info.pid).memory_info().rss / 2 ** 20
    except psutil.Error:
        return None


def newest_run_dir(settings: ServerSettings) -> Optional[Path]:
    """The most recent run directory of a node (its data, if it stopped or died in a running cluster)."""
    runs = [path for path in (settings.cache / "runs").glob(f"{settings.name}-*") if is_run_dir(settings, path)]
    return max(runs, key=lambda path: path.stat().st_mtime) if runs else None
