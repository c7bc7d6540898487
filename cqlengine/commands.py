"""What the schema commands do once connected: shared by ``python -m cqlengine sync`` and Django's
``manage.py cqlengine_sync``, so that both print the same plan and exit with the same status."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Callable, Optional

from cqlengine import management
from cqlengine.exceptions import CQLEngineException

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_PENDING", "sync_models"]

#: In sync (or applied); an error or a refusal; with ``plan_only``, changes pending.
EXIT_OK, EXIT_ERROR, EXIT_PENDING = 0, 1, 2


def _stderr(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def sync_models(models: Sequence[Any], keyspace: Optional[str] = None, plan_only: bool = False,
                out: Callable[[str], Any] = print, error: Callable[[str], Any] = _stderr) -> int:
    """Print the plan that makes the live schema match ``models``, then apply it unless ``plan_only``; the
    exit status. A plan with conflicts (what Cassandra cannot change in place) is refused whole."""
    try:
        if keyspace and management.get_keyspace(keyspace) is None:
            error(f"keyspace {keyspace!r} does not exist; create it first")
            return EXIT_ERROR
        plan = management.plan(*models)
    except CQLEngineException as exc:
        error(str(exc))
        return EXIT_ERROR
    out(str(plan))
    if plan.conflicts:
        error(f"refused: {len(plan.conflicts)} conflict(s) listed above; nothing was applied")
        return EXIT_ERROR
    if plan_only:
        return EXIT_PENDING if plan else EXIT_OK
    if plan:
        try:
            management.apply_plan(plan)
        except CQLEngineException as exc:
            error(str(exc))
            return EXIT_ERROR
        except Exception as exc:  # the server refused a statement: say which
            error(f"Cassandra refused a change: {type(exc).__name__}: {exc}")
            return EXIT_ERROR
        out(f"applied {len(plan.changes)} change(s)")
    return EXIT_OK
