"""``python -m cqlengine sync``: make the live schema match the models of some modules;
``python -m cqlengine migrate``: backfill and verify a migration (see :mod:`cqlengine.migrate.cli`);
``python -m cqlengine migrations``: schema migrations (see :mod:`cqlengine.migrations.cli`)."""
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

  python -m cqlengine sync [--hosts H ...] [--port P] [--keyspace K] [--plan]
                           [--username U] [--ssl-ca F [--ssl-cert F --ssl-key F]] MODULE ...
  python -m cqlengine migrate backfill|verify MODULE:Source MODULE:Target [--transform MODULE:func] ...
  python -m cqlengine migrations make|apply|status|rollback|sql [--folder F] ...

`sync` imports each MODULE (a dotted module name, or a path to a .py file),
finds the concrete (non-abstract) models and materialized views defined in
it, prints the schema plan (the DDL that would create the missing tables,
columns, indexes, user types, table options and, after the tables, views)
and applies it. Columns the database has and the
models do not are reported, never dropped. A change Cassandra cannot make in
place (a column type, the primary key, clustering order, static or counter
flags) is refused before anything is sent.

connection:
  hosts come from --hosts, else $CQLENGINE_HOSTS (comma-separated), else
  127.0.0.1. With --username (or $CQLENGINE_USERNAME) the password is read
  from $CQLENGINE_PASSWORD, else asked for on the terminal: never from an
  argument, where other users could read it. --ssl-ca turns TLS on and checks
  the server's certificate; --ssl-cert and --ssl-key add a client certificate.

exit status:
  0  the schema is in sync (or was brought in sync)
  1  error or refusal (bad usage, bad module, unreachable cluster, missing
     keyspace, schema conflict): nothing was applied; or a change Cassandra
     rejected midway: the message lists what was applied before it
  2  with --plan: changes are pending (nothing was applied)
"""


def _default_hosts() -> list[str]:
    env = os.environ.get("CQLENGINE_HOSTS", "")
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
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sync = commands.add_parser(
        "sync", help="create/extend tables and types to match the models of MODULE(s)",
        description="Create or extend the tables and user types of the models in MODULE(s); "
        "print the plan, then apply it unless --plan is given. Exit 0 in sync, 1 on error or "
        "refusal, 2 when --plan found pending changes.",
    )
    sync.add_argument("modules", nargs="+", metavar="MODULE",
                        help="dotted module name or path to a .py file defining models")
    add_connection_options(sync)
    sync.add_argument("--plan", action="store_true", help="print the plan only; apply nothing")
    from cqlengine.migrate.cli import add_migrate_parser

    add_migrate_parser(commands, add_connection_options)
    from cqlengine.migrations.cli import add_migrations_parser

    add_migrations_parser(commands, add_connection_options)
    return parser


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """--hosts, --port, --keyspace, --username and the TLS options, shared by every command."""
    parser.add_argument("--hosts", nargs="+", metavar="H", default=None,
                        help="contact points, each HOST or HOST:PORT (default: $CQLENGINE_HOSTS, "
                        "comma-separated, or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help=f"native protocol port (default {DEFAULT_PORT})")
    parser.add_argument("--keyspace", default=None,
                        help="keyspace of the models that do not set __keyspace__ (it must exist)")
    parser.add_argument("--username", default=None,
                        help="log in as this user (default: $CQLENGINE_USERNAME); the password comes from "
                        "$CQLENGINE_PASSWORD or is asked for")
    parser.add_argument("--ssl-ca", default=None, metavar="FILE",
                        help="TLS: the CA certificate(s) the server's certificate must be signed by")
    parser.add_argument("--ssl-cert", default=None, metavar="FILE", help="TLS: this client's certificate")
    parser.add_argument("--ssl-key", default=None, metavar="FILE", help="TLS: the private key of --ssl-cert")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log the driver's messages and each statement's kind")


def _version() -> str:
    import cassandra

    import cqlengine

    return f"cqlengine {cqlengine.__version__} (cassandra-driver {cassandra.__version__})"


class UsageError(Exception):
    """A connection option that cannot work; the message names the option to fix."""


def connection_options(args: argparse.Namespace, env: Optional[dict[str, str]] = None,
                       ask: Any = None) -> dict[str, Any]:
    """The driver's ``Cluster`` options for authentication and TLS, from the options and the environment."""
    env = dict(os.environ if env is None else env)
    options: dict[str, Any] = {}
    username = args.username or env.get("CQLENGINE_USERNAME")
    if username:
        from cassandra.auth import PlainTextAuthProvider

        password = env.get("CQLENGINE_PASSWORD")
        if password is None:
            if ask is None:
                if not sys.stdin.isatty():
                    raise UsageError("--username: no password: set CQLENGINE_PASSWORD (there is no terminal "
                                     "to ask on)")
                import getpass

                ask = getpass.getpass
            password = ask(f"password for {username}: ")
        options["auth_provider"] = PlainTextAuthProvider(username=username, password=password)
    from cqlengine.connection.security import security_options

    try:
        options.update(security_options(ssl_ca=args.ssl_ca, ssl_cert=args.ssl_cert, ssl_key=args.ssl_key))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return options


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


def connect(args: argparse.Namespace) -> Optional[int]:
    """Set up the default connection from the options; the exit status when that fails (None: connected)."""
    from cqlengine import connection
    from cqlengine.exceptions import AuthenticationRefused, CQLEngineException

    try:
        hosts, port = _hosts_and_port(args.hosts or _default_hosts(), args.port)
    except ValueError as exc:
        return _error(f"bad --hosts/--port value (or $CQLENGINE_HOSTS): {exc}")
    try:
        options = connection_options(args)
    except UsageError as exc:
        return _error(str(exc))
    try:
        connection.setup(hosts, default_keyspace=args.keyspace, port=port, **options)
    except AuthenticationRefused as exc:
        return _error(f"{exc}; check --username (or $CQLENGINE_USERNAME) and $CQLENGINE_PASSWORD")
    except CQLEngineException as exc:
        hint = "; if the cluster takes TLS only, give --ssl-ca" if not args.ssl_ca else \
            "; check that the cluster takes TLS and trusts --ssl-ca/--ssl-cert"
        return _error(f"{exc}; check --hosts/--port (or $CQLENGINE_HOSTS){hint}")
    return None


def load_models(targets: Sequence[str]) -> tuple[list[Any], Optional[str]]:
    """The concrete models of each module or file in ``targets``, materialized views last (a view needs its
    base table); or why not (what could not be imported, or defines no model)."""
    from cqlengine.views import is_view

    models: list[Any] = []
    for target in targets:
        try:
            module = _import(target)
        except (Exception, SystemExit) as exc:  # whatever importing user code does, it is reported
            return [], f"cannot import {target}: {type(exc).__name__}: {exc}"
        found = _models_of(module)
        if not found:
            return [], f"{target} defines no concrete models"
        models.extend(found)
    return sorted(models, key=is_view), None


def sync(args: argparse.Namespace) -> int:
    from cqlengine import connection
    from cqlengine.commands import sync_models

    models, failed_import = load_models(args.modules)
    if failed_import is not None:
        return _error(failed_import)

    failed = connect(args)
    if failed is not None:
        return failed
    try:
        return sync_models(models, args.keyspace, plan_only=args.plan)
    finally:
        connection.unregister_connection(connection.DEFAULT_CONNECTION)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None or (args.command == "migrate" and args.migrate_command is None) or (
            args.command == "migrations" and args.migrations_command is None):
        parser.print_help()
        return EXIT_ERROR
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command == "migrate":
        from cqlengine.migrate.cli import migrate

        return migrate(args, _import, connect)
    if args.command == "migrations":
        from cqlengine.migrations.cli import run

        return run(args, load_models, connect)
    return sync(args)


if __name__ == "__main__":
    sys.exit(main())
