"""Schema migrations: numbered, reviewable files made from the models, applied in order.

``make_migration(models, folder)`` compares the models with the schema the
folder's migrations describe (the files, never a live cluster) and writes the
next file, ``NNNN_name.py``, listing the operations between the two: tables,
columns, indexes, user types and table options to create, and the drops of
what the models lost (marked destructive). A change Cassandra cannot make in
place raises :class:`~cqlengine.migrations.diff.MigrationConflict`, listing
each one, and writes nothing. ``migration.statements(keyspace)`` is the CQL
a migration sends; ``apply_migrations(folder, keyspace)`` applies the
pending ones under the keyspace's lock, recording each in its history, and
``rollback_migration`` undoes the last (see :mod:`cqlengine.migrations.apply`).

(``cqlengine.migrate`` is the other half: moving data between tables with
no downtime.)
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

from cqlengine.migrations.apply import (
    MigrationLocked,
    MigrationTampered,
    applied_migrations,
    apply_migrations,
    rollback_migration,
)
from cqlengine.migrations.data import (
    Backfill,
    Deployed,
    MigrationVerifyFailed,
    MigrationWaiting,
    Verify,
)
from cqlengine.migrations.diff import MigrationConflict, changes, state_of_models, with_data_steps
from cqlengine.migrations.files import (
    Migration,
    MigrationFileError,
    load_migrations,
    next_name,
    render_migration,
    state_of,
)
from cqlengine.migrations.operations import Operation, SchemaState

__all__ = ["Backfill", "Deployed", "Migration", "MigrationConflict", "MigrationVerifyFailed", "MigrationWaiting",
           "Verify", "MigrationFileError", "MigrationLocked", "MigrationTampered", "Operation",
           "SchemaState", "applied_migrations", "apply_migrations", "changes", "load_migrations", "make_migration",
           "pending_operations", "rollback_migration", "state_of", "state_of_models"]


def pending_operations(models: Iterable[Any], folder: Path) -> list[Operation]:
    """The operations a new migration of ``folder`` would hold for ``models`` (empty: none needed)."""
    models = list(models)
    before = state_of(load_migrations(Path(folder)))
    return with_data_steps(changes(before, state_of_models(models)), models, before)


def make_migration(models: Iterable[Any], folder: Path, name: Optional[str] = None) -> Optional[Path]:
    """Write the next migration of ``folder`` (a package, made if missing) for ``models``; its path, or
    None when the files already describe the models. Deterministic: the same models and files give the
    same file."""
    folder = Path(folder)
    existing = load_migrations(folder)
    models = list(models)
    before = state_of(existing)
    operations = with_data_steps(changes(before, state_of_models(models)), models, before)
    if not operations:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").touch(exist_ok=True)
    file_name = next_name(existing, operations, name)
    path = folder / f"{file_name}.py"
    previous = existing[-1].name if existing else None
    path.write_text(render_migration(file_name, previous, operations))
    return path
