"""``manage.py cqlengine_sync [--plan]``: make the tables of the installed apps' cqlengine models match them.

Prints the plan, then applies it unless ``--plan``; exits as ``python -m cqlengine sync`` does: 0 in sync
(or applied), 1 on an error or a refused plan (a change Cassandra cannot make in place), 2 with ``--plan``
when changes are pending.
"""
from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cqlengine.commands import sync_models
from cqlengine.contrib.django.conf import installed_models


class Command(BaseCommand):
    help = "Create or extend the tables, types and indexes of the cqlengine models (--plan: print only)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", action="store_true", help="print the plan only; apply nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        status = sync_models(installed_models(), plan_only=options["plan"], out=self.stdout.write,
                             error=lambda message: self.stderr.write(f"error: {message}"))
        if status:
            sys.exit(status)
