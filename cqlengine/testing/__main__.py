"""``python -m cqlengine.testing start|stop|status|clean [--nodes N]``: the local Cassandra by hand."""
from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Optional, Sequence

from cqlengine.testing.cluster import ClusterSettings, LocalCluster, memory_mib
from cqlengine.testing.server import (
    LauncherError,
    ServerSettings,
    clean_runs,
    ensure_node,
    main_log,
    node_lock,
    query_release_version,
    resolve_source,
    running_node,
    stop_local,
)


def _interrupt_on_sigterm() -> None:
    # A start killed midway must stop the JVM it launched: SIGTERM unwinds like Ctrl-C.
    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cqlengine.testing",
        description="Start, stop or inspect the local single-node Cassandra used by tests and demos. "
        "Settings come from CQLENGINE_CASSANDRA_* environment variables; CQLENGINE_TEST_HOSTS "
        "names an existing cluster instead.",
    )
    parser.add_argument("command", choices=["start", "stop", "status", "clean"],
                        help="clean: remove the run directories (data and logs) of nodes that no longer run")
    parser.add_argument("--nodes", type=int, default=None, metavar="N",
                        help="a local cluster of N nodes on 127.0.0.1 ... 127.0.0.N (ports from "
                        "CQLENGINE_CLUSTER_PORT, default 19042, and CQLENGINE_CLUSTER_STORAGE_PORT, default 17000)")
    args = parser.parse_args(argv)
    _interrupt_on_sigterm()
    try:
        if args.nodes is not None:
            return _cluster_command(args.command, args.nodes)
        return _node_command(args.command)
    except LauncherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing this command was starting is left running", file=sys.stderr)
        return 130


def _node_command(command: str) -> int:
    settings = ServerSettings.from_env()
    if command == "start":
        source = resolve_source()
        if source.kind == "container":
            main_log("a Docker engine answers, but a container lives only as long as the "
                     "process that started it: `start` runs a local process instead")
            source.kind = "download"
        info, started = ensure_node(settings, log=main_log, source=source)
        print(("started " if started else "already running ") + info.describe())
        return 0
    if command == "stop":
        with node_lock(settings, main_log):
            stopped = stop_local(settings)
        if stopped is None:
            print(f"no local Cassandra started by cqlengine on port {settings.port}")
        else:
            print(f"stopped pid={stopped.pid} host={stopped.host} port={stopped.port}")
        return 0
    if command == "clean":
        with node_lock(settings, main_log):
            running = running_node(settings, main_log)
            removed = clean_runs(settings, keep=running.run_dir if running else None)
        print(f"removed {len(removed)} run director{'y' if len(removed) == 1 else 'ies'} of port {settings.port}"
              + "".join(f"\n  {path}" for path in removed))
        return 0
    running = running_node(settings, main_log)
    if running is None:
        print(f"not running (no live node recorded in {settings.state_file})")
        return 3
    if running.version == "starting":
        print(f"starting host={running.host} port={running.port} pid={running.pid} run_dir={running.run_dir}")
        return 3
    try:
        running.version = query_release_version(running.host, running.port)
    except Exception as exc:
        print(f"error: the node cqlengine started (pid {running.pid}, port {running.port}) runs but does "
              f"not answer CQL: {exc}; stop it with `python -m cqlengine.testing stop`", file=sys.stderr)
        return 1
    print("running " + running.describe())
    return 0


def _cluster_command(command: str, nodes: int) -> int:
    cluster = LocalCluster(ClusterSettings.from_env(nodes=nodes), log=main_log)
    if command == "start":
        missing = [index for index, info in enumerate(cluster.nodes(), start=1) if info is None]
        cluster.start()
        if not missing:
            print(f"already running: a cluster of {nodes} nodes on port {cluster.port}")
        elif len(missing) == nodes:
            print(f"started a cluster of {nodes} nodes on port {cluster.port}")
        else:
            print(f"started node{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} of the "
                  f"cluster of {nodes} nodes on port {cluster.port} (on their data)")
        _print_nodes(cluster)
        return 0
    if command == "stop":
        stopped = cluster.stop()
        print(f"stopped {len(stopped)} node{'' if len(stopped) == 1 else 's'}"
              + "".join(f"\n  pid={info.pid} host={info.host}" for info in stopped))
        return 0
    if command == "clean":
        removed = []
        for index in range(1, nodes + 1):
            settings = cluster.settings.node(index)
            with node_lock(settings, main_log):
                live = running_node(settings, main_log)
                removed += clean_runs(settings, keep=live.run_dir if live else None)
        print(f"removed {len(removed)} run director{'y' if len(removed) == 1 else 'ies'}"
              + "".join(f"\n  {path}" for path in removed))
        return 0
    up = _print_nodes(cluster)
    return 0 if up == nodes else 3


def _print_nodes(cluster: LocalCluster) -> int:
    """One line per node, as ``nodetool status`` would show it from node 1's side; how many run."""
    from cqlengine.testing.ring import RingWatcher

    nodes = cluster.nodes()
    live = {address for address, info in zip(cluster.contact_points, nodes) if info is not None}
    views: dict[str, dict[str, str]] = {}
    with RingWatcher(cluster.contact_points, cluster.port) as watcher:
        # Heartbeats advance about once a second: it takes two looks to tell up from down, and
        # a few more for a node that has just started.
        for _ in range(5):
            views = watcher.views()
            if live and all(view.get(peer, "D").startswith("U") for view in views.values() for peer in live):
                break
            time.sleep(1.1)
    seen_by = next(iter(views.values()), {})
    running = 0
    for index, (address, info) in enumerate(zip(cluster.contact_points, nodes), start=1):
        memory = memory_mib(info)
        running += info is not None
        state = seen_by.get(address, "D?" if info is None else "??")
        print(f"  node {index} {state} {address}:{cluster.port} "
              + (f"pid={info.pid} startup={info.startup_seconds:.1f}s rss={memory:.0f}MiB run_dir={info.run_dir}"
                 if info is not None and memory is not None else "not running"))
    return running


if __name__ == "__main__":
    sys.exit(main())
