"""Data steps: how a migration carries a change Cassandra cannot make in place.

A column's type or a primary key cannot be altered: the rows must move to a
new table. The application does half of that (it writes both tables while
the history is copied: :func:`cqlengine.mirroring.mirror`), the migration
the rest. When the models declare a new table that a declared mirror
writes from an existing one, ``make_migration`` writes, after the new
table's creation:

``Deployed(what)``
    a gate: ``apply`` stops here (:class:`MigrationWaiting`) until the
    application that mirrors is deployed, and goes on when told so
    (``deployed=[name]``, ``--deployed NAME``);
``Backfill(source, target, transform)``
    the history copied with :func:`cqlengine.migrate.history.backfill`,
    resumable from its checkpoint (named after the migration);
``Verify(source, target, transform)``
    the copy checked with :func:`cqlengine.migrate.compare.verify`; a
    difference stops the migration (:class:`MigrationVerifyFailed`) and the
    next ``apply`` checks again;
``Deployed(...)`` again
    the switch: the application reads the new table and stops mirroring.

Each step counts as one in the migration's history (``statements_done``), so
an ``apply`` that stopped resumes at the step it stopped in. The tables are
read through models built from the live schema
(:class:`cqlengine.named.NamedTable`): a migration file names tables, never
the application's model classes, which later versions of it may not have.
The transform is named ``"module:function"`` (or ``"path/file.py:function"``)
and imported only when a row is copied or compared; it gets each source row
with its columns as attributes, by CQL name.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Optional

from cqlengine.exceptions import CQLEngineException
from cqlengine.migrations.operations import Operation, SchemaState

__all__ = ["Backfill", "DataStep", "Deployed", "MigrationVerifyFailed", "MigrationWaiting", "StepContext",
           "Verify", "named", "reference_of"]


class MigrationWaiting(CQLEngineException):
    """``apply`` stopped at a :class:`Deployed` gate: deploy what it says, then apply again with it confirmed."""

    def __init__(self, migration: str, what: str, finished: Optional[list[str]] = None) -> None:
        self.migration, self.what, self.finished = migration, what, list(finished or [])
        super().__init__(f"{migration} waits until {what}. When it is, apply again with deployed=[{migration!r}] "
                         f"(python -m cqlengine migrations apply --deployed {migration})")


class MigrationVerifyFailed(CQLEngineException):
    """The copy a data migration made differs from its source; ``report`` is the verify report."""

    def __init__(self, migration: str, report: Any) -> None:
        self.migration, self.report = migration, report
        super().__init__(f"{migration}: the copy differs from its source, so the migration stops here; find "
                         f"why (a writer that does not mirror?), then apply again to check again.\n{report}")


@dataclass(frozen=True)
class StepContext:
    """What a data step runs with: where, for which migration, and whether its gate was confirmed."""

    keyspace: str
    connection: Optional[str]
    migration: str
    confirmed: bool
    progress: Any = False


class DataStep(Operation):
    """An operation that moves or checks rows, or waits, instead of sending DDL."""

    data_step = True

    def statements(self, keyspace: str) -> list[str]:
        return []

    def apply(self, state: SchemaState) -> None:
        """Data steps leave the schema as it is."""

    def run(self, context: StepContext) -> None:
        raise NotImplementedError

    def forget(self, context: StepContext) -> None:
        """What rolling the migration back clears, besides the schema (nothing, unless said)."""


@dataclass(frozen=True)
class Deployed(DataStep):
    """A gate: the application must be deployed as ``what`` says before the migration goes on."""

    what: str

    def run(self, context: StepContext) -> None:
        if not context.confirmed:
            raise MigrationWaiting(context.migration, self.what)

    def describe(self) -> str:
        return f"wait until {self.what}"


@dataclass(frozen=True)
class _Copy(DataStep):
    source: str
    target: str
    #: ``"module:function"`` or ``"path/file.py:function"``; None: same-named columns.
    transform: Optional[str] = None

    def models(self, context: StepContext) -> tuple[Any, Any]:
        from cqlengine.named import NamedKeyspace

        space = NamedKeyspace(context.keyspace, context.connection)
        found = []
        for table in (self.source, self.target):
            named_table = space.table(table)
            named_table.refresh()  # the table may have been made by this very migration
            found.append(named_table.model)
        return found[0], found[1]

    def transform_function(self) -> Optional[Callable[[Any], Any]]:
        if self.transform is None:
            return None
        reference = self.transform
        loaded: list[Callable[[Any], Any]] = []

        def transform(row: Any) -> Any:
            if not loaded:  # imported at the first row: an empty source never needs it
                loaded.append(named(reference))
            return loaded[0](row)

        return transform


@dataclass(frozen=True)
class Backfill(_Copy):
    """Copy every row of ``source`` into ``target`` at its write times (resumable: named after the migration)."""

    def run(self, context: StepContext) -> None:
        from cqlengine.migrate.history import backfill

        source, target = self.models(context)
        backfill(source, target, self.transform_function(), name=context.migration, resume=True,
                 progress=context.progress, connection_name=context.connection)

    def forget(self, context: StepContext) -> None:
        from cqlengine.management import get_table
        from cqlengine.migrate.checkpoints import TABLE, CheckpointTable

        if get_table(context.keyspace, TABLE, context.connection) is not None:
            CheckpointTable(context.migration, context.keyspace, context.connection).clear()

    def describe(self) -> str:
        return f"backfill {self.target} from {self.source}"


@dataclass(frozen=True)
class Verify(_Copy):
    """Compare ``target`` with ``source`` through the transform; any difference stops the migration."""

    def run(self, context: StepContext) -> None:
        from cqlengine.migrate.compare import verify

        source, target = self.models(context)
        report = verify(source, target, self.transform_function(), connection_name=context.connection)
        if context.progress is True:  # shown as the backfill's progress is
            print(report)
        if not report.ok:
            raise MigrationVerifyFailed(context.migration, report)

    def describe(self) -> str:
        return f"verify {self.target} against {self.source}"


def named(reference: str) -> Any:
    """What ``"module:name"`` or ``"path/file.py:name"`` names (``name`` may be dotted)."""
    where, colon, attribute = reference.rpartition(":")
    if not colon or not where or not attribute:
        raise CQLEngineException(f"{reference!r} does not name a function as module:name or path.py:name")
    try:
        module = _module(where)
    except Exception as exc:  # whatever importing user code raises, it is reported with the reference
        raise CQLEngineException(f"cannot import {where} (for {reference}): {type(exc).__name__}: {exc}") from exc
    found: Any = module
    for part in attribute.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise CQLEngineException(f"{where} has no {attribute} (for {reference})")
    return found


def _module(where: str) -> ModuleType:
    if not where.endswith(".py"):
        return importlib.import_module(where)
    path = os.path.abspath(where)
    name = Path(path).stem
    loaded = sys.modules.get(name)
    if loaded is not None and os.path.abspath(getattr(loaded, "__file__", "") or "") == path:
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"no such file: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def reference_of(function: Callable[..., Any]) -> str:
    """How a migration file names ``function``: its module's import name when that module imports by name,
    else its file's path (relative to the working directory); ``__main__`` for a script's, which only a run
    in that script's process finds. Refused for a lambda or a nested function."""
    qualname = getattr(function, "__qualname__", "")
    module = sys.modules.get(getattr(function, "__module__", "") or "")
    if not qualname or "<" in qualname or module is None:
        raise CQLEngineException(f"{function!r} cannot be named in a migration file: give the transform a "
                                 "module-level def")
    if module.__name__ == "__main__":  # a script: named so for runs in its own process
        return f"__main__:{qualname}"
    spec = importlib.util.find_spec(module.__name__)
    file = getattr(module, "__file__", None)
    if spec is not None and file and spec.origin and os.path.abspath(spec.origin) == os.path.abspath(file):
        return f"{module.__name__}:{qualname}"
    if not file:
        raise CQLEngineException(f"{function!r} is defined where no file holds it: a migration cannot name it")
    return f"{os.path.relpath(file)}:{qualname}"
