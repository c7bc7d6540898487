"""Applying schema migrations to a keyspace: its history, a lock, and resuming where a run stopped.

Two tables in the keyspace keep the story:

``cqlengine_migrations``
    one row per migration started: its checksum (a file changed after it was
    applied is refused, named), how many of its statements are done, when it
    finished, by whom (host and process) and how long it took. A run that
    stopped midway resumes after the last statement done.
``cqlengine_migration_lock``
    one lease row, taken with ``INSERT ... IF NOT EXISTS USING TTL`` and
    renewed before each statement: two deploys at once apply each migration
    once (the second waits, or reports the holder); a crashed holder's lease
    expires after its TTL.

Each statement is sent as ``sync_table`` sends DDL, followed by a bounded
wait for schema agreement.
"""
from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Union

from cqlengine import connection as _connection
from cqlengine.exceptions import CQLEngineException
from cqlengine.management import execute_schema_change
from cqlengine.migrations.data import DataStep, MigrationWaiting, StepContext
from cqlengine.migrations.files import Migration, load_migrations
from cqlengine.migrations.operations import Operation
from cqlengine.statements import qualified_table

__all__ = ["HISTORY_TABLE", "LOCK_TABLE", "AppliedMigration", "MigrationLocked", "MigrationTampered",
           "apply_migrations", "applied_migrations", "rollback_migration"]

HISTORY_TABLE = "cqlengine_migrations"
LOCK_TABLE = "cqlengine_migration_lock"
#: Seconds a lease lasts unless renewed: a crashed holder's lock is free again after this.
LEASE_SECONDS = 60


class MigrationTampered(CQLEngineException):
    """A migration file changed (or went missing) after it was applied."""


class MigrationLocked(CQLEngineException):
    """Another run holds the keyspace's migration lock (``holder`` says who)."""

    def __init__(self, keyspace: str, holder: str) -> None:
        self.holder = holder
        super().__init__(f"keyspace {keyspace}: migrations are being applied by {holder}; try again when it is "
                         f"done (a crashed run's lock expires within {LEASE_SECONDS} s)")


@dataclass(frozen=True)
class AppliedMigration:
    """One row of the history."""

    name: str
    checksum: str
    statements_done: int
    applied_at: Optional[datetime]  # None: started, not finished
    applied_by: Optional[str]
    duration_ms: Optional[int]


def _ensure_tables(keyspace: str, conn: Optional[str]) -> None:
    history = qualified_table(keyspace, HISTORY_TABLE)
    lock = qualified_table(keyspace, LOCK_TABLE)
    execute_schema_change(f"CREATE TABLE IF NOT EXISTS {history} (name text PRIMARY KEY, checksum text, "
                          "statements_done int, applied_at timestamp, applied_by text, duration_ms int)", conn)
    execute_schema_change(f"CREATE TABLE IF NOT EXISTS {lock} (name text PRIMARY KEY, holder text)", conn)


def applied_migrations(keyspace: str, connection: Optional[str] = None) -> dict[str, AppliedMigration]:
    """The history of ``keyspace`` by migration name (empty when no migration ever ran there)."""
    from cqlengine.management import get_table

    if get_table(keyspace, HISTORY_TABLE, connection) is None:
        return {}
    rows = _connection.execute(
        f"SELECT name, checksum, statements_done, applied_at, applied_by, duration_ms "
        f"FROM {qualified_table(keyspace, HISTORY_TABLE)}", connection=connection)
    return {row["name"]: AppliedMigration(row["name"], row["checksum"], row["statements_done"] or 0,
                                          row["applied_at"], row["applied_by"], row["duration_ms"]) for row in rows}


class _Lease:
    """The keyspace's migration lock, held by one run."""

    def __init__(self, keyspace: str, conn: Optional[str], ttl: int) -> None:
        self.table = qualified_table(keyspace, LOCK_TABLE)
        self.keyspace, self.conn, self.ttl = keyspace, conn, ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def take(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            row = _connection.execute(f"INSERT INTO {self.table} (name, holder) VALUES (?, ?) IF NOT EXISTS "
                                      "USING TTL ?", ["lock", self.holder, self.ttl], connection=self.conn).one()
            if row["[applied]"]:
                return
            if time.monotonic() >= deadline:
                raise MigrationLocked(self.keyspace, row.get("holder") or "another run")
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))

    def renew(self) -> None:
        row = _connection.execute(f"UPDATE {self.table} USING TTL ? SET holder = ? WHERE name = ? IF holder = ?",
                                  [self.ttl, self.holder, "lock", self.holder], connection=self.conn).one()
        if not row["[applied]"]:
            raise MigrationLocked(self.keyspace, row.get("holder") or "nobody: the lease expired")

    def release(self) -> None:
        _connection.execute(f"DELETE FROM {self.table} WHERE name = ? IF holder = ?", ["lock", self.holder],
                            connection=self.conn)


def _check_history(keyspace: str, migrations: list[Migration], history: dict[str, AppliedMigration]) -> None:
    by_name = {m.name: m for m in migrations}
    for name, row in sorted(history.items()):
        migration = by_name.get(name)
        if migration is None:
            raise MigrationTampered(f"keyspace {keyspace}: migration {name} was applied, but its file is gone")
        if migration.checksum != row.checksum:
            raise MigrationTampered(f"{migration.path}: changed after it was applied to keyspace {keyspace} "
                                    f"(checksum {row.checksum[:12]}... recorded, {migration.checksum[:12]}... now); "
                                    "write a new migration instead, or restore the file")


def apply_migrations(folder: Path, keyspace: str, connection: Optional[str] = None, target: Optional[str] = None,
                     wait: float = 0.0, lease_seconds: int = LEASE_SECONDS,
                     before_statement: Optional[Callable[[Migration, int, str], None]] = None,
                     deployed: Union[bool, Iterable[str]] = False, progress: Any = False) -> list[str]:
    """Apply the pending migrations of ``folder`` to ``keyspace`` (up to ``target`` included); the names of
    those it finished. Under the keyspace's lock: waits up to ``wait`` seconds for another run to finish,
    then raises :class:`MigrationLocked`. A run that stopped midway is resumed after its last step done.
    ``before_statement(migration, index, text)`` is called before each step (a statement's CQL, or
    ``-- `` and what a data step does).

    A data migration (see :mod:`cqlengine.migrations.data`) stops at each of its ``Deployed`` gates with
    :class:`~cqlengine.migrations.data.MigrationWaiting`; a later run given the migration's name in
    ``deployed`` passes the gate it stopped at (one gate per run: the next one stops it again).
    ``deployed=True`` passes every gate, for a keyspace no application uses yet (a test's, a new
    environment's). ``progress`` is the backfill's progress option."""
    migrations = load_migrations(Path(folder))
    if target is not None and target not in {m.name for m in migrations}:
        raise CQLEngineException(f"no migration {target} in {folder}")
    named = frozenset() if isinstance(deployed, bool) else frozenset(deployed)
    unknown = sorted(named - {m.name for m in migrations})
    if unknown:
        raise CQLEngineException(f"deployed: no migration {', '.join(unknown)} in {folder}")
    _ensure_tables(keyspace, connection)
    lease = _Lease(keyspace, connection, lease_seconds)
    lease.take(wait)
    finished: list[str] = []
    try:
        history = applied_migrations(keyspace, connection)
        _check_history(keyspace, migrations, history)
        for migration in migrations:
            row = history.get(migration.name)
            if row is None or row.applied_at is None:
                gates = "all" if deployed is True else "waiting" if migration.name in named else "none"
                run = _Run(migration, keyspace, connection, lease, before_statement, progress, gates)
                try:
                    run.apply(row)
                except MigrationWaiting as waiting:
                    waiting.finished = list(finished)
                    raise
                finished.append(migration.name)
            if migration.name == target:
                break
    finally:
        lease.release()
    return finished


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


class _Run:
    """One migration being applied: its steps from where its history says it stopped."""

    def __init__(self, migration: Migration, keyspace: str, conn: Optional[str], lease: _Lease,
                 before_statement: Optional[Callable[[Migration, int, str], None]], progress: Any,
                 gates: str) -> None:
        self.migration, self.keyspace, self.conn, self.lease = migration, keyspace, conn, lease
        self.before_statement, self.progress = before_statement, progress
        #: Which gates open: "all", the one the migration "waiting" at, or "none".
        self.gates = gates
        self.history = qualified_table(keyspace, HISTORY_TABLE)

    def apply(self, row: Optional[AppliedMigration]) -> None:
        migration, conn = self.migration, self.conn
        # The duration is the time spent applying, over every run: not the time waiting at a gate.
        started = time.monotonic() - (row.duration_ms or 0) / 1000 if row is not None else time.monotonic()
        done = row.statements_done if row is not None else 0
        if row is None:
            _connection.execute(f"INSERT INTO {self.history} (name, checksum, statements_done) VALUES (?, ?, ?)",
                                [migration.name, migration.checksum, 0], connection=conn)
        for index, step in enumerate(migration.steps(self.keyspace)):
            if index < done:
                continue
            self.lease.renew()
            self._run_step(index, step, index == done and row is not None)
            _connection.execute(f"UPDATE {self.history} SET statements_done = ?, duration_ms = ? WHERE name = ?",
                                [index + 1, _ms_since(started), migration.name], connection=conn)
        _connection.execute(
            f"UPDATE {self.history} SET applied_at = ?, applied_by = ?, duration_ms = ? WHERE name = ?",
            [datetime.now(timezone.utc), self.lease.holder.rsplit(":", 1)[0], _ms_since(started), migration.name],
            connection=conn)

    def _run_step(self, index: int, step: Union[str, Operation], stopped_here: bool) -> None:
        if self.before_statement is not None:
            self.before_statement(self.migration, index, step if isinstance(step, str) else f"-- {step.describe()}")
        if isinstance(step, str):
            execute_schema_change(step, self.conn, self.keyspace)
            return
        assert isinstance(step, DataStep)
        # A named confirmation passes only the gate a run finds the migration stopped at, never one
        # reached later: the deploy a gate asks for needs what comes before it (the new table).
        confirmed = self.gates == "all" or (self.gates == "waiting" and stopped_here)
        step.run(StepContext(self.keyspace, self.conn, self.migration.name, confirmed, self.progress))


def rollback_migration(folder: Path, keyspace: str, connection: Optional[str] = None, force: bool = False,
                       wait: float = 0.0, lease_seconds: int = LEASE_SECONDS) -> str:
    """Undo the last migration applied to ``keyspace`` (its operations reversed, last first); its name.
    A data migration's steps are undone by its new table's drop (and its backfill's checkpoint is cleared).

    Refused when an operation has no reverse, and, unless ``force``, when a reverse destroys data (the
    reverse of a created table or column drops it)."""
    migrations = load_migrations(Path(folder))
    _ensure_tables(keyspace, connection)
    lease = _Lease(keyspace, connection, lease_seconds)
    lease.take(wait)
    try:
        history = applied_migrations(keyspace, connection)
        _check_history(keyspace, migrations, history)
        applied = [m for m in migrations if m.name in history]
        if not applied:
            raise CQLEngineException(f"keyspace {keyspace}: no migration to roll back")
        last = applied[-1]
        schema_ops = [op for op in reversed(last.operations) if not op.data_step]
        reverses = [op.reverse() for op in schema_ops]
        missing = [op.describe() for op, rev in zip(schema_ops, reverses) if rev is None]
        if missing:
            raise CQLEngineException(f"{last.name} cannot be rolled back: Cassandra cannot undo "
                                     f"{'; '.join(missing)}")
        destroying = [rev.describe() for rev in reverses if rev is not None and rev.destructive]
        if destroying and not force:
            raise CQLEngineException(f"rolling back {last.name} would {'; '.join(destroying)} (and the data in "
                                     "them): pass force=True (--force) to do it")
        for step in last.operations:
            if isinstance(step, DataStep):  # a later apply starts its copy over, not from this one's end
                step.forget(StepContext(keyspace, connection, last.name, False))
        for rev in reverses:
            assert rev is not None
            for cql in rev.statements(keyspace):
                lease.renew()
                execute_schema_change(cql, connection, keyspace)
        _connection.execute(f"DELETE FROM {qualified_table(keyspace, HISTORY_TABLE)} WHERE name = ?",
                            [last.name], connection=connection)
        return last.name
    finally:
        lease.release()
