"""``python -m cqlengine migrations make|apply|status|rollback|sql``: schema migrations from the shell."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Optional

from cqlengine.exceptions import CQLEngineException

EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_WAITING = 0, 1, 2, 3

DESCRIPTION = """\
Schema migrations: numbered files made from the models, applied in order.

  make MODULE ...      write the next migration for the models of MODULE(s)
  apply                apply the pending migrations to --keyspace
  status               applied, pending, and drift of the live tables from the files
  rollback             undo the last migration applied (--force when it drops data)
  sql                  print the CQL of the pending migrations (--all: of every one)

exit status: 0 done, or in sync; 1 error or refusal; 2 with status: migrations pending
(make: no change to write exits 0); 3 with apply: a data migration waits for a deploy
(deploy what it says, then apply again with --deployed NAME).
"""


def add_migrations_parser(commands: Any, add_connection_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """The ``migrations`` command and its subcommands, on ``python -m cqlengine``'s parser."""
    migrations = commands.add_parser("migrations", help="schema migrations: make, apply, status, rollback, sql",
                                     description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = migrations.add_subparsers(dest="migrations_command", metavar="STEP")
    for step, text in (("make", "write the next migration for the models of MODULE(s)"),
                       ("apply", "apply the pending migrations"), ("status", "what is applied, pending, drifted"),
                       ("rollback", "undo the last migration applied"), ("sql", "print the CQL of migrations")):
        sub = steps.add_parser(step, help=text, description=text)
        sub.add_argument("--folder", default="migrations", type=Path,
                         help="the migrations package (default: ./migrations)")
        if step == "make":
            sub.add_argument("modules", nargs="+", metavar="MODULE", help="dotted module name or .py file")
            sub.add_argument("--name", default=None, help="the new migration's name (default: what it does)")
            sub.add_argument("-v", "--verbose", action="store_true")
            continue
        add_connection_options(sub)
        if step == "apply":
            sub.add_argument("--target", default=None, help="apply up to this migration (included)")
            sub.add_argument("--deployed", action="append", default=[], metavar="NAME",
                             help="the deploy migration NAME waits for is done: pass its gate (repeatable; "
                                  "'all' passes every gate, for a keyspace no application uses yet)")
        if step in ("apply", "rollback"):
            sub.add_argument("--wait", type=float, default=0.0,
                             help="seconds to wait for another run's lock (default 0: report it)")
        if step == "rollback":
            sub.add_argument("--force", action="store_true", help="also when undoing drops a table or column")
        if step == "sql":
            sub.add_argument("--all", action="store_true", help="every migration, without connecting")


def run(args: argparse.Namespace, load_models: Callable[[list[str]], tuple[list[Any], Optional[str]]],
        connect: Callable[[argparse.Namespace], Optional[int]], disconnect: bool = True) -> int:
    """Run the ``migrations`` step ``args`` asks for; its exit status. ``disconnect``: unregister the default
    connection at the end (False when the caller's application owns it)."""
    from cqlengine import migrations

    step = args.migrations_command
    try:
        if step == "make":
            return _make(args, load_models)
        if step == "sql" and args.all:
            for migration in migrations.load_migrations(args.folder):
                _print_sql(migration, args.keyspace or "<keyspace>")
            return EXIT_OK
        if not args.keyspace:
            return _error("--keyspace: the keyspace the migrations are applied to")
        failed = connect(args)
        if failed is not None:
            return failed
        return _connected(step, args, disconnect)
    except CQLEngineException as exc:
        return _error(str(exc))


def _connected(step: str, args: argparse.Namespace, disconnect: bool = True) -> int:
    from cqlengine import connection, migrations

    try:
        if step == "apply":
            return _apply(args)
        if step == "rollback":
            name = migrations.rollback_migration(args.folder, args.keyspace, force=args.force, wait=args.wait)
            print(f"rolled back {name}")
            return EXIT_OK
        history = migrations.applied_migrations(args.keyspace)
        pending = [m for m in migrations.load_migrations(args.folder)
                   if m.name not in history or history[m.name].applied_at is None]
        if step == "sql":
            for migration in pending:
                _print_sql(migration, args.keyspace)
            return EXIT_OK
        return _status(args, history, pending)
    finally:
        if disconnect:
            connection.unregister_connection(connection.DEFAULT_CONNECTION)


def _apply(args: argparse.Namespace) -> int:
    from cqlengine import migrations

    deployed: Any = True if "all" in args.deployed else args.deployed
    try:
        done = migrations.apply_migrations(args.folder, args.keyspace, target=args.target, wait=args.wait,
                                           before_statement=lambda m, i, cql: print(f"  {m.name}: {cql}"),
                                           deployed=deployed, progress=True)
    except migrations.MigrationWaiting as waiting:
        if waiting.finished:
            print(f"applied {len(waiting.finished)} migration(s): {', '.join(waiting.finished)}")
        print(f"waiting: {waiting}")
        return EXIT_WAITING
    print(f"applied {len(done)} migration(s)" + (f": {', '.join(done)}" if done else ""))
    return EXIT_OK


def _status(args: argparse.Namespace, history: dict[str, Any], pending: list[Any]) -> int:
    from cqlengine import migrations
    from cqlengine.management import get_table, get_view, plan_table, plan_view

    files = migrations.load_migrations(args.folder)
    for migration in files:
        row = history.get(migration.name)
        if row is None:
            state = "pending"
        elif row.applied_at is None:
            steps = migration.steps(args.keyspace)
            state = f"stopped after {row.statements_done} of {len(steps)} steps"
            if row.statements_done < len(steps) and isinstance(steps[row.statements_done], migrations.Deployed):
                state += f": waits until {steps[row.statements_done].what}"
        elif row.checksum != migration.checksum:
            state = "applied, but the file changed since"
        else:
            state = f"applied {row.applied_at:%Y-%m-%d %H:%M:%S} UTC by {row.applied_by} in {row.duration_ms} ms"
        print(f"  {migration.name}  {state}")
    drift = []
    applied = [m for m in files if m.name in history and history[m.name].applied_at is not None]
    described = migrations.state_of(applied)
    for spec in described.tables.values():
        live = get_table(args.keyspace, spec.name)
        plan = plan_table(args.keyspace, spec, live)
        drift += [f"table {spec.name}: {c.description}" for c in plan.changes]
        drift += [f"table {spec.name}: {c}" for c in plan.conflicts]
    for view in described.views.values():
        plan = plan_view(args.keyspace, view, get_view(args.keyspace, view.name),
                         get_table(args.keyspace, view.base_table))
        drift += [f"view {view.name}: {c.description}" for c in plan.changes]
        drift += [f"view {view.name}: {c}" for c in plan.conflicts]
    for line in drift:
        print(f"  drift: {line}")
    if drift:
        return _error(f"{len(drift)} difference(s) between the applied migrations and the live schema")
    return EXIT_PENDING if pending else EXIT_OK


def _make(args: argparse.Namespace, load_models: Callable[[list[str]], tuple[list[Any], Optional[str]]]) -> int:
    from cqlengine import migrations

    models, failed_import = load_models(args.modules)
    if failed_import is not None:
        return _error(failed_import)
    path = migrations.make_migration(models, args.folder, name=args.name)
    if path is None:
        print(f"no changes: {args.folder} already describes the models")
        return EXIT_OK
    migration = migrations.load_migrations(args.folder)[-1]
    print(f"wrote {path}")
    for op in migration.operations:
        print(f"  - {op.describe()}{'  (destructive)' if op.destructive else ''}")
    return EXIT_OK


def _print_sql(migration: Any, keyspace: str) -> None:
    print(f"-- {migration.name}")
    for step in migration.steps(keyspace):
        print(f"{step};" if isinstance(step, str) else f"-- data step, run by apply: {step.describe()}")


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERROR
