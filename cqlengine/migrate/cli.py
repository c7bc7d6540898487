"""``python -m cqlengine migrate backfill|verify MODULE:Source MODULE:Target``.

Models and the transform are named ``module:attribute``, the module a dotted
name or a path to a .py file. The connection options are those of ``sync``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Optional

EXIT_OK = 0
EXIT_ERROR = 1
#: verify: the target differs from the source (the report lists how).
EXIT_DIFFERENT = 3

DESCRIPTION = """\
backfill: copy every row of Source into Target through the transform, each
with its source cells' write timestamps, so live writes mirrored meanwhile
win; progress is recorded under --name (default Source->Target) and a
stopped backfill continues with --resume (or starts over with --restart).

verify: compare Source with Target through the transform (all of it, or
--sample F of the splits) and list the rows that differ.

exit status:
  0  backfill complete / verify found no difference
  1  error (bad usage, module or model, unreachable cluster, a backfill that
     stopped: run it again with --resume)
  3  verify: the target differs from the source
"""


def add_migrate_parser(commands: Any, add_connection_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """The ``migrate`` command and its two subcommands, on ``python -m cqlengine``'s parser (whose
    connection options it takes)."""
    migrate = commands.add_parser("migrate", help="backfill or verify a table migration (Source -> Target)",
                                  description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = migrate.add_subparsers(dest="migrate_command", metavar="STEP")
    for step, text in (("backfill", "copy the history of Source into Target"),
                       ("verify", "compare Source and Target; exit 3 when they differ")):
        sub = steps.add_parser(step, help=text, description=text)
        sub.add_argument("source", metavar="MODULE:Source", help="the model read (module or file, colon, name)")
        sub.add_argument("target", metavar="MODULE:Target", help="the model written / compared")
        sub.add_argument("--transform", metavar="MODULE:func", default=None,
                         help="a function of a Source instance giving the Target's values (default: the "
                         "columns of the same name)")
        sub.add_argument("--splits", type=int, default=16, help="token-range splits to read (default 16)")
        sub.add_argument("--concurrency", type=int, default=64,
                         help="requests in flight at most (default 64)")
        sub.add_argument("--readers", type=int, default=4, help="splits read at a time (default 4)")
        if step == "backfill":
            sub.add_argument("--rate", type=float, default=None, help="rows a second at most (default: no limit)")
            sub.add_argument("--name", default=None, help="the backfill's name in the checkpoint table "
                             "(default Source->Target)")
            resume = sub.add_mutually_exclusive_group()
            resume.add_argument("--resume", action="store_true", help="continue a backfill of this name")
            resume.add_argument("--restart", action="store_true", help="start a backfill of this name over")
            sub.add_argument("--no-progress", action="store_true", help="no progress bar")
        else:
            sub.add_argument("--sample", type=float, default=None, metavar="F",
                             help="check this share (0 < F <= 1) of the splits, chosen at random")
            sub.add_argument("--seed", type=int, default=None, help="repeat a --sample choice")
            sub.add_argument("--no-extras", action="store_true",
                             help="do not look for target rows that no source row leads to")
            sub.add_argument("--show", type=int, default=20, help="differences listed at most (default 20)")
        add_connection_options(sub)


def _named(target: str, what: str, load: Callable[[str], Any]) -> Any:
    module_name, colon, attribute = target.rpartition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"{what} {target!r} is not MODULE:NAME")
    try:
        module = load(module_name)
    except (Exception, SystemExit) as exc:  # whatever importing user code does, it is reported
        raise ValueError(f"cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    found = module
    for part in attribute.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise ValueError(f"{module_name} has no {attribute}")
    return found


def _model(target: str, what: str, load: Callable[[str], Any]) -> Any:
    from cqlengine.models import Model

    found = _named(target, what, load)
    if not (isinstance(found, type) and issubclass(found, Model)):
        raise ValueError(f"{what} {target} is not a model class")
    return found


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERROR


def migrate(args: argparse.Namespace, load: Callable[[str], Any],
            connect: Callable[[argparse.Namespace], Any]) -> int:
    """Run ``migrate backfill|verify``: ``load`` imports a module by name or path, ``connect`` sets up the
    default connection from the options (an exit status when it fails)."""
    from cqlengine import connection
    from cqlengine.exceptions import CQLEngineException

    try:
        source = _model(args.source, "source", load)
        target = _model(args.target, "target", load)
        transform: Optional[Any] = None
        if args.transform:
            transform = _named(args.transform, "--transform", load)
            if not callable(transform):
                raise ValueError(f"--transform {args.transform} is not callable")
    except ValueError as exc:
        return _error(str(exc))
    failed = connect(args)
    if failed is not None:
        return failed
    try:
        if args.migrate_command == "backfill":
            return _backfill(args, source, target, transform)
        return _verify(args, source, target, transform)
    except KeyboardInterrupt:
        return _error("interrupted: what was recorded stays; run again with --resume")
    except (CQLEngineException, TypeError) as exc:
        return _error(str(exc))
    except Exception as exc:  # the server refused something: say what
        return _error(f"{type(exc).__name__}: {exc}")
    finally:
        connection.unregister_connection(connection.DEFAULT_CONNECTION)


def _backfill(args: argparse.Namespace, source: Any, target: Any, transform: Any) -> int:
    from cqlengine.migrate.history import BackfillError, BackfillStarted, backfill

    try:
        summary = backfill(source, target, transform, name=args.name, splits=args.splits, readers=args.readers,
                           concurrency=args.concurrency, rate=args.rate, resume=args.resume, restart=args.restart,
                           progress=not args.no_progress)
    except BackfillStarted as exc:
        state = "it is complete" if exc.done == exc.total else f"{exc.done} of {exc.total} splits done"
        return _error(f"backfill {exc.name} was started before ({state}; recorded in {exc.where}): give --resume "
                      "to continue it or --restart to start over")
    except BackfillError as exc:
        return _error(f"{exc}\nfix the cause, then run the same command with --resume")
    print(summary)
    return EXIT_OK


def _verify(args: argparse.Namespace, source: Any, target: Any, transform: Any) -> int:
    from cqlengine.migrate.compare import verify

    report = verify(source, target, transform, sample=args.sample, seed=args.seed, splits=args.splits,
                    readers=args.readers, concurrency=args.concurrency, extras=not args.no_extras,
                    keep=args.show)
    print(report)
    sys.stdout.flush()
    return EXIT_OK if report.ok else EXIT_DIFFERENT
