"""``python -m cqlengine sync``: make the live schema match the models of some modules."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
from types import ModuleType
from typing import Any, Optional, Sequence

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_PENDING = 2
DEFAULT_PORT = 9042

DESCRIPTION = """\
Schema management for cqlengine models.

  python -m cqlengine sync [--hosts H ...] [--port P] [--keyspace K] [--plan] MODULE ...

`sync` imports each MODULE (a dotted module name, or a path to a .py file),
finds the concrete (non-abstract) models defined in it, prints the schema
plan (the DDL that would create the missing tables, columns, indexes, user
types and table options) and applies it. Columns the database has and the
models do not are reported, never dropped. A change Cassandra cannot make in
place (a column type, the primary key, clustering order, static or counter
flags) is refused before anything is sent.

exit status:
  0  the schema is in sync (or was brought in sync)
  1  error or refusal (bad usage, bad module, unreachable cluster, missing
     keyspace, schema conflict): nothing was applied; or a change Cassandra
     rejected midway: the message lists what was applied before it
  2  with --plan: changes are pending (nothing was applied)
"""


def _default_hosts() -> list[str]:
    env = os.environ.get("CQLENGINE_TEST_HOSTS", "")
    return [h.strip() for h in env.split(",") if h.strip()] or ["127.0.0.1"]


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1: exit 2 means "changes pending" to a CI drift check."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m cqlengine", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sync = commands.add_parser(
        "sync", help="create/extend tables and types to match the models of MODULE(s)",
        description="Create or extend the tables and user types of the models in MODULE(s); "
        "print the plan, then apply it unless --plan is given. Exit 0 in sync, 1 on error or "
        "refusal, 2 when --plan found pending changes.",
    )
    sync.add_argument("modules", nargs="+", metavar="MODULE",
                      help="dotted module name or path to a .py file defining models")
    sync.add_argument("--hosts", nargs="+", metavar="H", default=None,
                      help="contact points, each HOST or HOST:PORT (default: $CQLENGINE_TEST_HOSTS, "
                      "comma-separated, or 127.0.0.1)")
    sync.add_argument("--port", type=int, default=None, help=f"native protocol port (default {DEFAULT_PORT})")
    sync.add_argument("--keyspace", default=None,
                      help="keyspace of the models that do not set __keyspace__ (it must exist)")
    sync.add_argument("--plan", action="store_true", help="print the plan only; apply nothing")
    sync.add_argument("-v", "--verbose", action="store_true", help="log the driver's messages and each DDL sent")
    return parser


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _import(target: str) -> ModuleType:
    if target.endswith(".py") or os.sep in target:
        path = os.path.abspath(target)
        if not os.path.isfile(path):
            raise ImportError(f"no such file: {path}")
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(target)


def _models_of(module: ModuleType) -> list[Any]:
    from cqlengine.models import Model

    found = []
    for value in vars(module).values():
        if (isinstance(value, type) and issubclass(value, Model) and value is not Model
                and value.__module__ == module.__name__ and not value.__dict__.get("__abstract__", False)):
            found.append(value)
    return found


def _hosts_and_port(hosts: Sequence[str], port: Optional[int]) -> tuple[list[str], int]:
    names: list[str] = []
    found_port: Optional[int] = None
    for host in hosts:
        for part in host.split(","):
            part = part.strip()
            if not part:
                continue
            if part.count(":") == 1:
                name, _, text = part.partition(":")
                found_port = int(text)
                part = name
            names.append(part)
    chosen = port or found_port or DEFAULT_PORT
    if not 0 < chosen < 65536:
        raise ValueError(f"port {chosen} is not between 1 and 65535")
    return names, chosen


def sync(args: argparse.Namespace) -> int:
    from cqlengine import connection, management
    from cqlengine.exceptions import CQLEngineException

    models: list[Any] = []
    for target in args.modules:
        try:
            module = _import(target)
        except (Exception, SystemExit) as exc:  # whatever importing user code does, it is reported
            return _error(f"cannot import {target}: {type(exc).__name__}: {exc}")
        found = _models_of(module)
        if not found:
            return _error(f"{target} defines no concrete models")
        models.extend(found)

    try:
        hosts, port = _hosts_and_port(args.hosts or _default_hosts(), args.port)
    except ValueError as exc:
        return _error(f"bad --hosts/--port value: {exc}")
    try:
        connection.setup(hosts, default_keyspace=args.keyspace, port=port)
    except CQLEngineException as exc:
        return _error(str(exc))
    try:
        try:
            if args.keyspace and management.get_keyspace(args.keyspace) is None:
                return _error(f"keyspace {args.keyspace!r} does not exist; create it first")
            plan = management.plan(*models)
        except CQLEngineException as exc:
            return _error(str(exc))
        print(plan)
        if plan.conflicts:
            return _error(f"refused: {len(plan.conflicts)} conflict(s) listed above; nothing was applied")
        if args.plan:
            return EXIT_PENDING if plan else EXIT_OK
        if plan:
            try:
                management.apply_plan(plan)
            except CQLEngineException as exc:
                return _error(str(exc))
            except Exception as exc:  # the server refused a statement: say which
                return _error(f"Cassandra refused a change: {type(exc).__name__}: {exc}")
            print(f"applied {len(plan.changes)} change(s)")
        return EXIT_OK
    finally:
        connection.unregister_connection(connection.DEFAULT_CONNECTION)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL,
                        format="%(levelname)s %(name)s: %(message)s")
    return sync(args)


if __name__ == "__main__":
    sys.exit(main())
