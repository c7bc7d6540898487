"""``python -m cqlengine.testing start|stop|status|clean``: the local Cassandra by hand."""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Optional, Sequence

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
    args = parser.parse_args(argv)
    settings = ServerSettings.from_env()
    _interrupt_on_sigterm()
    try:
        if args.command == "start":
            source = resolve_source()
            if source.kind == "container":
                main_log("a Docker engine answers, but a container lives only as long as the "
                         "process that started it: `start` runs a local process instead")
                source.kind = "download"
            info, started = ensure_node(settings, log=main_log, source=source)
            print(("started " if started else "already running ") + info.describe())
            return 0
        if args.command == "stop":
            with node_lock(settings, main_log):
                stopped = stop_local(settings)
            if stopped is None:
                print(f"no local Cassandra started by cqlengine on port {settings.port}")
            else:
                print(f"stopped pid={stopped.pid} host={stopped.host} port={stopped.port}")
            return 0
        if args.command == "clean":
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
    except LauncherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing this command was starting is left running", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
