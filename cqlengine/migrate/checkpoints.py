"""Where a backfill records how far each split got, so a stopped one resumes.

One table, ``cqlengine_backfill``, in the target's keyspace (or another one
given): a partition per backfill name, a row per split. A split's row is
written after every page whose writes were all acknowledged, never before:
a backfill stopped at any moment resumes from the last such page, so no row
is lost; the rows of the pages written but not yet recorded are written again,
with the same values and timestamps, which changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from cassandra import ConsistencyLevel

from cqlengine import columns, management
from cqlengine.models import Model
from cqlengine.query import BatchQuery
from cqlengine.scans import SplitProgress

TABLE = "cqlengine_backfill"
#: A resume, from whichever node, sees the last checkpoint written.
_QUORUM = ConsistencyLevel.QUORUM


class BackfillCheckpoint(Model):
    """One split of one backfill: its bounds, how far it got, and its counts so far."""

    __table_name__ = TABLE
    name = columns.Text(partition_key=True)
    split = columns.Integer(primary_key=True)
    start = columns.VarInt()
    end = columns.VarInt()
    after_token = columns.VarInt()
    paging_state = columns.Blob()
    rows_read = columns.BigInt(default=0)
    written = columns.BigInt(default=0)
    skipped = columns.BigInt(default=0)
    done = columns.Boolean(default=False)
    #: Rows from elsewhere, read in the order of a key: the last key copied (JSON).
    after_key = columns.Text()
    updated_at = columns.DateTime()


@dataclass
class SplitRecord:
    """What the table holds for one split."""

    split: int
    start: Optional[int]
    end: Optional[int]
    progress: SplitProgress
    written: int = 0
    skipped: int = 0
    after_key: Optional[str] = None


class CheckpointTable:
    """The checkpoints of backfill ``name`` in ``keyspace`` (created when first used)."""

    def __init__(self, name: str, keyspace: Optional[str], connection: Optional[str] = None) -> None:
        self.name = name
        self.keyspace = keyspace
        self.connection = connection

    def create(self) -> None:
        management.sync_table(BackfillCheckpoint, keyspaces=[self.keyspace] if self.keyspace else None,
                              connections=[self.connection] if self.connection else None)

    def load(self) -> list[SplitRecord]:
        """Every split recorded, in order (empty: no backfill of this name was started)."""
        rows = BackfillCheckpoint.objects.using(keyspace=self.keyspace, connection=self.connection) \
            .filter(name=self.name).consistency(_QUORUM)
        out = []
        for row in rows:
            progress = SplitProgress(row.split, row.after_token, row.paging_state, row.rows_read or 0,
                                     bool(row.done))
            out.append(SplitRecord(row.split, row.start, row.end, progress, row.written or 0, row.skipped or 0,
                                   row.after_key))
        return out

    def _row(self, record: SplitRecord) -> BackfillCheckpoint:
        progress = record.progress
        row = BackfillCheckpoint(
            name=self.name, split=record.split, start=record.start, end=record.end,
            after_token=progress.after_token, paging_state=progress.paging_state, rows_read=progress.rows,
            written=record.written, skipped=record.skipped, done=progress.done, after_key=record.after_key,
            updated_at=datetime.now(timezone.utc),
        )
        return row.using(keyspace=self.keyspace, connection=self.connection)

    def save(self, record: SplitRecord) -> None:
        self._row(record).consistency(_QUORUM).save()

    def save_layout(self, records: list[SplitRecord]) -> None:
        """Every split of a new backfill, in one logged batch of one partition: all recorded, or none
        (a resume must never see part of the ring)."""
        with BatchQuery(consistency=_QUORUM, connection=self.connection) as batch:
            for record in records:
                self._row(record).batch(batch).save()

    def clear(self) -> None:
        BackfillCheckpoint.objects.using(keyspace=self.keyspace, connection=self.connection) \
            .filter(name=self.name).consistency(_QUORUM).delete()
