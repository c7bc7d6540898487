"""The nodes this cache started: their state files, the lock and leases that share them between
processes, their run directories, and their processes."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

import filelock
import psutil

from cqlengine.testing.errors import LauncherError
from cqlengine.testing.settings import DAEMON_CLASS, ServerSettings

if TYPE_CHECKING:
    from testcontainers.cassandra import CassandraContainer  # an optional dependency

LOG_TAIL_LINES = 30


@dataclass
class NodeInfo:
    """What a started node is: printed by the CLI and kept in its state file.

    ``other_hosts`` are further contact points of a ``hosts`` node
    (CQLENGINE_TEST_HOSTS). ``stop_when_released`` is set when the session
    that started the node ended while others still used it: the last of them
    stops it. ``container`` is the testcontainers container of a
    ``container`` node (never written to a state file).
    """

    host: str
    port: int
    version: str
    pid: Optional[int]
    startup_seconds: float
    run_dir: Optional[str] = None
    source: str = "local"
    other_hosts: tuple[str, ...] = ()
    stop_when_released: bool = False
    container: Optional[CassandraContainer] = field(default=None, repr=False, compare=False)

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
