"""``manage.py cqlengine_migrations make|apply|status|rollback|sql``: the schema migrations of the installed
apps' cqlengine models (see :mod:`cqlengine.migrations`), with the exit status of
``python -m cqlengine migrations``. The connection is the app's (``settings.CQLENGINE``); ``--keyspace``
defaults to its ``KEYSPACE``, ``--folder`` to ``migrations_cqlengine`` beside ``manage.py``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

from django.core.management.base import BaseCommand, CommandParser

from cqlengine import connection
from cqlengine.contrib.django.conf import installed_models
from cqlengine.migrations import cli

STEPS = ("make", "apply", "status", "rollback", "sql")


class Command(BaseCommand):
    help = "Schema migrations of the cqlengine models: make, apply, status, rollback, sql"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("step", choices=STEPS)
        parser.add_argument("--folder", type=Path, default=Path("migrations_cqlengine"))
        parser.add_argument("--keyspace", default=None, help="default: CQLENGINE['KEYSPACE']")
        parser.add_argument("--name", default=None, help="make: the new migration's name")
        parser.add_argument("--target", default=None, help="apply: up to this migration (included)")
        parser.add_argument("--deployed", action="append", default=[], metavar="NAME",
                            help="apply: the deploy migration NAME waits for is done")
        parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another run's lock")
        parser.add_argument("--force", action="store_true", help="rollback: also when it drops data")
        parser.add_argument("--all", action="store_true", help="sql: every migration")

    def handle(self, *args: Any, **options: Any) -> None:
        keyspace = options["keyspace"] or connection.get_connection().default_keyspace
        namespace = argparse.Namespace(migrations_command=options["step"], modules=["<installed apps>"],
                                       verbose=False, keyspace=keyspace, **{k: options[k] for k in (
                                           "folder", "name", "target", "deployed", "wait", "force", "all")})

        def load(_: list[str]) -> tuple[list[Any], Optional[str]]:
            return installed_models(), None

        def connected(_: argparse.Namespace) -> Optional[int]:
            return None  # the app connected when Django started

        status = cli.run(namespace, load, connected, disconnect=False)
        if status:
            sys.exit(status)
