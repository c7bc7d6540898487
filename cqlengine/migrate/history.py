"""Copy a table's history into its new design: a resumable backfill that never overwrites a live write.

While :func:`~cqlengine.mirroring.mirror` sends every live write to both
tables, :func:`backfill` copies the rows written before. Each row is written
with its source cells' own write timestamps (``WRITETIME``), or the
timestamp a non-Cassandra source gives (:class:`Stamped`): a live write made
after the copy read the row is newer, so it wins whatever order the two
arrive in, and a live delete is never undone by an older copy.

How the timestamps are chosen, per target row:

- a target column whose name is a source column's takes that cell's write
  timestamp and remaining TTL (cells of different timestamps are written by
  separate INSERTs, one per timestamp);
- the other target columns take the row's latest cell timestamp;
- what has no write time to read (a row of key columns only, a non-frozen
  collection or user type, whose elements are cells of their own, and a row
  from elsewhere that is not :class:`Stamped`) is dated :data:`UNDATED`, just
  after the epoch: every real write is newer, so a live write or delete is
  never undone by it, however late the copy lands. This supposes the target
  held nothing before its writes branch began.

What a copy cannot carry: a row marker's own TTL (CQL cannot read it), so
each INSERT gives the row the TTL of the cells it writes; a rerun with a
changed transform does not overwrite rows already copied with the same
timestamps (Cassandra keeps the greater value of two equally dated cells):
truncate the target and backfill again while the mirror runs.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from cqlengine import connection, statements
from cqlengine.exceptions import CQLEngineException, check_positive_int
from cqlengine.migrate.checkpoints import TABLE, CheckpointTable, SplitRecord
from cqlengine.mirroring import Mirror, MirrorError, Transform, identity_transform
from cqlengine.models import Model, check_ttl, normalize_timestamp
from cqlengine.query import QuerySet
from cqlengine.scans import Scan, ScanPage, SplitProgress, TokenSplit, is_multi_cell

if TYPE_CHECKING:
    from cqlengine.migrate.progress import Progress

Cells = Mapping[str, tuple[Optional[int], Optional[int]]]

_NOT_SENT = CQLEngineException("not sent")
#: Stamped timestamps: from late April 1970 (smaller ones are seconds or milliseconds) to a day from now.
_PLAUSIBLE_MICROS = 10**13
_A_DAY = 86_400_000_000

#: The write timestamp of what a backfill cannot date (see the module docstring): older than any real write.
UNDATED = 1


class BackfillError(CQLEngineException):
    """A backfill stopped; ``summary`` says what was done. Resume it with ``resume=True``."""

    def __init__(self, message: str, summary: BackfillSummary) -> None:
        super().__init__(f"{message}\n{summary}")
        self.summary = summary


class BackfillStarted(CQLEngineException):
    """A backfill of this name was started before, and neither ``resume`` nor ``restart`` was asked for."""

    def __init__(self, name: str, where: str, done: int, total: int) -> None:
        state = "it is complete" if done == total else f"{done} of {total} splits done"
        super().__init__(f"backfill {name} was started before ({state}; recorded in {where}): pass resume=True "
                         "to continue it or restart=True to start over")
        self.name, self.where, self.done, self.total = name, where, done, total


@dataclass(frozen=True)
class Stamped:
    """A row of a source that is not Cassandra, with the timestamp to write it with.

    ``timestamp``: when the source last changed the row (microseconds since the
    epoch, or a datetime); ``ttl``: seconds it still has to live, if any.
    """

    values: Any
    timestamp: Union[int, datetime]
    ttl: Optional[int] = None

    def __post_init__(self) -> None:
        micros = normalize_timestamp(self.timestamp, "Stamped")
        if micros is None or not _PLAUSIBLE_MICROS <= micros <= time.time_ns() // 1000 + _A_DAY:
            raise CQLEngineException(
                f"Stamped: timestamp {self.timestamp!r} is not microseconds since the epoch up to now (a value "
                "in seconds, milliseconds or nanoseconds would date the copy wrongly)")
        check_ttl("Stamped", self.ttl)


@dataclass
class BackfillSummary:
    """What a backfill did (counts include the part done before a resume)."""

    name: str
    rows_read: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0
    splits: int = 0
    splits_done: int = 0
    #: Rows read by this run alone (less than ``rows_read`` after a resume).
    read_now: int = 0
    seconds: float = 0.0
    resumed: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.splits_done == self.splits and not self.failed

    def __str__(self) -> str:
        rate = self.read_now / self.seconds if self.seconds else 0.0
        state = "complete" if self.complete else f"stopped ({self.splits_done} of {self.splits} splits done)"
        resumed = ", resumed" if self.resumed else ""
        return (f"backfill {self.name}: {state}{resumed}; rows read {self.rows_read}, written {self.written}, "
                f"skipped {self.skipped}, failed {self.failed}; {self.read_now} rows in {self.seconds:.1f} s "
                f"({rate:.0f} rows/s)")


class RateLimit:
    """At most ``rate`` rows a second across every reader (a token bucket of one second)."""

    def __init__(self, rate: Optional[float]) -> None:
        if rate is not None and (not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0):
            raise CQLEngineException(f"backfill: rate must be a positive number of rows a second, got {rate!r}")
        self.rate = rate
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def take(self, rows: int) -> None:
        if self.rate is None or rows <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(self._next, now - 1.0)  # at most one second of unused allowance
            self._next = start + rows / self.rate
            wait = start - now
        if wait > 0:
            time.sleep(wait)


class _Writer:
    """Builds the target writes of source rows and sends them."""

    def __init__(self, mirror: Mirror, concurrency: int, timeout: Any, retries: int) -> None:
        self.mirror = mirror
        self.target = mirror.target
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        source_names = {c.db_field_name for c in mirror.source._meta.columns.values()}
        self.keys = [c.db_field_name for c in self.target._meta.primary_keys.values()]
        self.same_names = {c.db_field_name for c in self.target._meta.columns.values()} & source_names
        self.multi_cell = {c.db_field_name for c in self.target._meta.columns.values() if is_multi_cell(c)}

    def inserts(self, instance: Any, cells: Cells,
                ttl: Optional[int] = None) -> Optional[list[statements.InsertStatement]]:
        """The INSERTs of ``instance``'s target row (one per timestamp), or None when it has none."""
        values = self.mirror.target_values(instance)
        if values is None:
            return None
        row = self.target(**values)._copied_row()
        row.using(keyspace=self.mirror.keyspace, connection=self.mirror.connection)
        insert = row._save_statement()
        if not isinstance(insert, statements.InsertStatement):  # pragma: no cover - a new instance inserts
            raise MirrorError(f"{self.mirror!r}: {row!r} is not written by an INSERT")
        stamps = [wt for wt, _ in cells.values() if wt is not None]
        latest = max(stamps) if stamps else UNDATED
        ttls = {t for _, t in cells.values()}
        row_ttl = ttl if ttl is not None else (ttls.pop() if len(ttls) == 1 else None)
        pairs = list(insert.values.items()) if isinstance(insert.values, Mapping) else list(insert.values)
        key = [(name, value) for name, value in pairs if name in self.keys]
        groups: dict[tuple[int, Optional[int]], list[tuple[str, Any]]] = {}
        for name, value in pairs:
            if name in self.keys:
                continue
            cell = cells.get(name) if name in self.same_names else None
            if cell is not None and cell[0] is not None:
                stamp = (cell[0], cell[1])
            elif name in self.multi_cell and "" not in cells:  # "": a Stamped row's own time
                stamp = (UNDATED, None)  # elements of their own: an INSERT would delete newer live ones first
            else:
                stamp = (latest, row_ttl)
            groups.setdefault(stamp, []).append((name, value))
        if not groups:
            groups[(latest, row_ttl)] = []
        return [statements.InsertStatement(insert.table, keyspace=insert.keyspace, values=key + columns,
                                           ttl=group_ttl, timestamp=stamp)
                for (stamp, group_ttl), columns in groups.items()]

    def send(self, writes: list[statements.InsertStatement]) -> list[Optional[BaseException]]:
        """Send every write, retrying failures; each one's final error (None: written)."""
        errors: list[Optional[BaseException]] = [_NOT_SENT] * len(writes)
        todo = list(range(len(writes)))
        conn = self.mirror.connection or self.target.__connection__
        for attempt in range(self.retries + 1):
            if not todo:
                break
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 5.0))
            items = [(*writes[i].render(), None, True) for i in todo]
            outcomes = connection.execute_concurrently(items, concurrency=self.concurrency, timeout=self.timeout,
                                                       connection=conn)
            failed = []
            for index, (ok, result) in zip(todo, outcomes):
                errors[index] = None if ok else result
                if not ok:
                    failed.append(index)
            todo = failed
        return errors


def _page_writes(writer: _Writer, page: ScanPage[Any]) -> tuple[list[list[statements.InsertStatement]], int]:
    rows: list[list[statements.InsertStatement]] = []
    skipped = 0
    cells_of = page.cells or [{}] * len(page.instances)
    for instance, cells in zip(page.instances, cells_of):
        writes = writer.inserts(instance, cells)
        if writes is None:
            skipped += 1
        else:
            rows.append(writes)
    return rows, skipped


class _Run:
    """The state shared by the readers of one backfill."""

    def __init__(self, summary: BackfillSummary, checkpoints: CheckpointTable, writer: _Writer,
                 limit: RateLimit, progress: Optional[Progress]) -> None:
        self.summary = summary
        self.checkpoints = checkpoints
        self.writer = writer
        self.limit = limit
        self.progress = progress
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.covered: dict[int, float] = {}  # split -> share of the ring read (for the progress estimate)

    def cover(self, split: TokenSplit[Any], progress: SplitProgress, share: float) -> None:
        if progress.done:
            part = 1.0
        elif progress.after_token is None or split.end == split.start:
            part = 0.0
        else:
            part = (progress.after_token - split.start) / (split.end - split.start)
        with self.lock:
            self.covered[split.index] = share * part

    def count(self, read: int, written: int, skipped: int, failed: int = 0, done: bool = False) -> None:
        with self.lock:
            s = self.summary
            s.rows_read += read
            s.read_now += read
            s.written += written
            s.skipped += skipped
            s.failed += failed
            s.splits_done += done
            if self.progress is not None:
                self.progress.advance(read, s, sum(self.covered.values()) if self.covered else None)

    ring = 2**64  # Murmur3's; only the progress estimate depends on it

    def share(self, split: TokenSplit[Any]) -> float:
        return (split.end - split.start) / self.ring

    def fail(self, message: str) -> None:
        with self.lock:
            self.summary.errors.append(message)
        self.stop.set()

    def split(self, split: TokenSplit[Any], record: SplitRecord) -> None:
        """Copy one split from where its record says, recording each page once its writes are acknowledged."""
        if record.progress.done:
            return
        written, skipped = record.written, record.skipped
        for page in split.pages(resume=record.progress, writetimes=True):
            if self.stop.is_set():
                return
            self.limit.take(len(page.instances))
            rows, page_skipped = _page_writes(self.writer, page)
            flat = [w for writes in rows for w in writes]
            errors = self.writer.send(flat)
            failed_rows = 0
            position = 0
            for writes in rows:
                if any(errors[position + i] is not None for i in range(len(writes))):
                    failed_rows += 1
                position += len(writes)
            if failed_rows:
                first = next(e for e in errors if e is not None)
                self.count(0, 0, 0, failed_rows)
                self.fail(f"{split!r}: {failed_rows} row(s) of a page could not be written after "
                          f"{self.writer.retries} retries: {type(first).__name__}: {first}")
                return  # not recorded: a resume writes this page again
            written += len(rows)
            skipped += page_skipped
            record = SplitRecord(split.index, split.start, split.end, page.progress, written, skipped)
            self.checkpoints.save(record)
            self.cover(split, page.progress, self.share(split))
            self.count(len(page.instances), len(rows), page_skipped, done=page.progress.done)


def _as_scan(source: Any, splits: int, fetch_size: Optional[int]) -> Scan[Any]:
    if isinstance(source, Scan):
        return source
    if isinstance(source, QuerySet):
        return source.scan(splits=splits, fetch_size=fetch_size)
    if isinstance(source, type) and issubclass(source, Model):
        return source.objects.scan(splits=splits, fetch_size=fetch_size)
    raise TypeError(f"not a model, queryset or scan: {source!r}")


def _check_positive(name: str, value: Any) -> None:
    check_positive_int(value, f"backfill: {name}")


def backfill(
    source: Any,
    target: type[Model],
    transform: Optional[Transform] = None,
    *,
    name: Optional[str] = None,
    splits: int = 16,
    readers: int = 4,
    concurrency: int = 64,
    rate: Optional[float] = None,
    resume: bool = False,
    restart: bool = False,
    progress: Union[bool, Callable[[BackfillSummary], None]] = True,
    fetch_size: Optional[int] = 500,
    keyspace: Optional[str] = None,
    connection_name: Optional[str] = None,
    checkpoint_keyspace: Optional[str] = None,
    timeout: Any = connection.NOT_SET,
    retries: int = 3,
    key: Optional[Callable[[Any], Any]] = None,
) -> BackfillSummary:
    """Copy every row of ``source`` into ``target`` through ``transform``; see the module docstring.

    ``source`` is a model, its ``objects`` (or a queryset), a :class:`Scan`, or
    any iterable of rows from elsewhere (mappings, objects, or :class:`Stamped`
    rows), which the transform gets as they are. ``transform`` is as for
    ``mirror()`` (default: same-named columns; rows from elsewhere: mappings
    of the target's columns); returning None skips a row. For rows from
    elsewhere, ``key(row)`` gives the key the iterable is ordered by (an int,
    str, float or bool, or a tuple of them, ascending and unique): a resume
    then continues after the last key copied; without ``key``, a resume
    copies every row again (see :func:`_backfill_rows`).

    ``readers`` splits are read at a time, with at most ``concurrency``
    writes in flight in all, and at most ``rate`` rows a second. Progress is
    recorded in a checkpoint table under ``name`` (default ``Source->Target``):
    a backfill of that name that was stopped is refused unless ``resume=True``
    (continue) or ``restart=True`` (start over). ``progress`` shows a progress
    bar (tqdm if installed, else a line every few seconds), or is called with
    the running summary. A write that still fails after ``retries`` stops the
    backfill with :class:`BackfillError`; what was recorded stays, for a resume.
    """
    _check_arguments(target, readers, concurrency, retries)
    limit = RateLimit(rate)
    if not _reads_a_table(source):
        if not isinstance(source, Iterable):
            raise TypeError(f"backfill: source must be a model, queryset, scan or iterable, not {source!r}")
        return _backfill_rows(source, target, transform, name=name, key=key, concurrency=concurrency, limit=limit,
                              resume=resume, restart=restart, progress=progress, keyspace=keyspace,
                              connection_name=connection_name, checkpoint_keyspace=checkpoint_keyspace,
                              timeout=timeout, retries=retries)
    if key is not None:
        raise CQLEngineException("backfill: key= is for rows from elsewhere; a table is read in token order")
    return _backfill_table(_as_scan(source, splits, fetch_size), target, transform, name=name, readers=readers,
                           concurrency=concurrency, limit=limit, resume=resume, restart=restart, progress=progress,
                           keyspace=keyspace, connection_name=connection_name,
                           checkpoint_keyspace=checkpoint_keyspace, timeout=timeout, retries=retries)


def _check_arguments(target: type[Model], readers: int, concurrency: int, retries: int) -> None:
    """Refuse, before anything is read or written, what no backfill into ``target`` can run with."""
    _check_positive("readers", readers)
    _check_positive("concurrency", concurrency)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise CQLEngineException(f"backfill: retries must be an int >= 0, got {retries!r}")
    if target._meta.has_counter:
        raise MirrorError(f"backfill: {target.__name__} has counter columns, which are written as increments "
                          "and cannot be copied with a timestamp")


def _reads_a_table(source: Any) -> bool:
    return isinstance(source, (Scan, QuerySet)) or (isinstance(source, type) and issubclass(source, Model))


# -- rows of a table ------------------------------------------------------------------


def _backfill_table(scan: Scan[Any], target: type[Model], transform: Optional[Transform], *, name: Optional[str],
                    readers: int, concurrency: int, limit: RateLimit, resume: bool, restart: bool, progress: Any,
                    keyspace: Optional[str], connection_name: Optional[str], checkpoint_keyspace: Optional[str],
                    timeout: Any, retries: int) -> BackfillSummary:
    """Rows of a Cassandra table, read split by split, ``readers`` splits at a time."""
    model = scan.model
    if model._meta.has_counter:
        raise MirrorError(f"backfill: {model.__name__} has counter columns, which cannot be copied with a timestamp")
    mirror = Mirror(model, target, transform or identity_transform(target), keyspace=keyspace,
                    connection=connection_name)
    name = name or f"{model.__name__}->{target.__name__}"
    checkpoints = _checkpoints(name, target, keyspace, connection_name, checkpoint_keyspace)
    work, resumed = _split_work(checkpoints, name, scan, resume, restart)
    summary = _summary_so_far(name, work, resumed)
    writer = _Writer(mirror, max(1, concurrency // min(readers, len(work) or 1)), timeout, retries)
    run = _Run(summary, checkpoints, writer, limit, _progress(progress, summary, None))
    if work:
        run.ring = max(1, work[-1][0].end - work[0][0].start)
        for split, record in work:
            run.cover(split, record.progress, run.share(split))
    return _run_to_end(run, name, lambda: _run_splits(run, work, readers))


def _split_work(checkpoints: CheckpointTable, name: str, scan: Scan[Any], resume: bool,
                restart: bool) -> tuple[list[tuple[TokenSplit[Any], SplitRecord]], bool]:
    """Each split to copy with its record (the recorded layout when resuming), and whether it is a resume."""
    records = _start(checkpoints, name, resume, restart)
    if records:
        _check_layout(name, records, scan)
        return [(_recorded(scan, r), r) for r in records], True
    work = [(split, SplitRecord(split.index, split.start, split.end, SplitProgress(split.index)))
            for split in scan.splits]
    # The layout first, at once: a resume uses these splits, whatever the ring is then.
    checkpoints.save_layout([record for _, record in work])
    return work, False


def _summary_so_far(name: str, work: list[tuple[TokenSplit[Any], SplitRecord]], resumed: bool) -> BackfillSummary:
    """A summary that starts from what the records say was done before."""
    summary = BackfillSummary(name, splits=len(work), resumed=resumed)
    for _, record in work:
        summary.rows_read += record.progress.rows
        summary.written += record.written
        summary.skipped += record.skipped
        summary.splits_done += record.progress.done
    return summary


def _run_to_end(run: _Run, name: str, copy: Callable[[], None]) -> BackfillSummary:
    """Time ``copy`` and close the progress display whatever happens; an error it recorded is raised."""
    summary = run.summary
    started = time.monotonic()
    try:
        copy()
    finally:
        summary.seconds = time.monotonic() - started
        if run.progress is not None:
            run.progress.close(summary)
    if summary.errors:
        raise BackfillError(f"backfill {name} stopped: {summary.errors[0]}", summary)
    return summary


def _check_layout(name: str, records: list[SplitRecord], scan: Scan[Any]) -> None:
    """Refuse a recorded layout that does not cover the ring exactly once (a resume would miss rows)."""
    bounds = [(int(r.start or 0), int(r.end or 0)) for r in records]
    ring = (scan.splits[0].start, scan.splits[-1].end)
    joined = all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    if not records or bounds[0][0] != ring[0] or bounds[-1][1] != ring[1] or not joined:
        raise CQLEngineException(f"backfill {name}: the recorded splits do not cover the token ring once (was "
                                 "it written by another version, or edited?); restart=True starts it over")


def _recorded(scan: Scan[Any], record: SplitRecord) -> TokenSplit[Any]:
    """The split ``record`` describes, served by the replicas of the range that holds it now (if one does)."""
    start, end = int(record.start or 0), int(record.end or 0)
    holder = next((s for s in scan.splits if s.start <= start and end <= s.end), scan.splits[0])
    return replace(holder, index=record.split, start=start, end=end,
                   replicas=holder.replicas if holder.start <= start and end <= holder.end else ())


def _run_splits(run: _Run, work: list[tuple[TokenSplit[Any], SplitRecord]], readers: int) -> None:
    todo = [item for item in work if not item[1].progress.done]
    lock = threading.Lock()

    def reader() -> None:
        while not run.stop.is_set():
            with lock:
                if not todo:
                    return
                split, record = todo.pop(0)
            try:
                run.split(split, record)
            except BaseException as exc:  # noqa: BLE001 - stops every reader; raised by backfill()
                run.fail(f"{split!r}: {type(exc).__name__}: {exc}")
                return

    threads = [threading.Thread(target=reader, name=f"cqlengine-backfill-{i}", daemon=True)
               for i in range(min(readers, len(todo)))]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:
        run.stop.set()  # e.g. Ctrl-C: readers stop after their page; what was recorded stays
        for thread in threads:
            thread.join()
        raise


def _checkpoints(name: str, target: type[Model], keyspace: Optional[str], connection_name: Optional[str],
                 checkpoint_keyspace: Optional[str]) -> CheckpointTable:
    conn = connection_name or target.__connection__
    where = checkpoint_keyspace or keyspace or target._meta.keyspace(conn)
    table = CheckpointTable(name, where, connection_name)
    table.create()
    return table


def _start(checkpoints: CheckpointTable, name: str, resume: bool, restart: bool) -> list[SplitRecord]:
    if resume and restart:
        raise CQLEngineException("backfill: resume=True and restart=True cannot be combined")
    records = checkpoints.load()
    if restart and records:
        checkpoints.clear()
        return []
    if records and not resume:
        raise BackfillStarted(name, f"{checkpoints.keyspace}.{TABLE}", sum(r.progress.done for r in records),
                              len(records))
    return records


def _progress(progress: Any, summary: BackfillSummary, total: Optional[int]) -> Optional[Progress]:
    if progress is False or progress is None:
        return None
    from cqlengine.migrate.progress import Progress

    return Progress(summary, total=total, callback=None if progress is True else progress)


# -- rows from elsewhere ------------------------------------------------------------


def _backfill_rows(rows: Iterable[Any], target: type[Model], transform: Optional[Transform], *, name: Optional[str],
                   key: Optional[Callable[[Any], Any]], concurrency: int, limit: RateLimit, resume: bool,
                   restart: bool, progress: Any, keyspace: Optional[str], connection_name: Optional[str],
                   checkpoint_keyspace: Optional[str], timeout: Any, retries: int) -> BackfillSummary:
    """Rows from an iterable. The transform gets each row as the iterable gives it (a :class:`Stamped`
    row's ``values``).

    With ``key`` (a function of a row, the order the iterable gives them in),
    each checkpoint records the key of the last row copied, and a resume
    skips the rows up to it, however many rows before it were added or
    deleted since. Without ``key`` there is no place to resume from that a
    changing source keeps: a resume copies every row again (with the same
    timestamps, which changes nothing already copied).
    """
    mirror = Mirror(target, target, transform or _as_given(target), keyspace=keyspace, connection=connection_name)
    name = name or f"rows->{target.__name__}"
    checkpoints = _checkpoints(name, target, keyspace, connection_name, checkpoint_keyspace)
    records = _start(checkpoints, name, resume, restart)
    record = records[0] if records else SplitRecord(0, None, None, SplitProgress(0))
    if records and key is None and not record.progress.done:
        record = SplitRecord(0, None, None, SplitProgress(0))  # from the start: see above
    summary = BackfillSummary(name, splits=1, resumed=bool(records), rows_read=record.progress.rows,
                              written=record.written, skipped=record.skipped,
                              splits_done=int(record.progress.done))
    writer = _Writer(mirror, concurrency, timeout, retries)
    run = _Run(summary, checkpoints, writer, limit,
               _progress(progress, summary, len(rows) if isinstance(rows, Sized) else None))
    page_size = max(concurrency, 100)

    def copy() -> None:
        if not record.progress.done:
            _copy_rows(run, rows, record, page_size, key)

    return _run_to_end(run, name, copy)


def _as_given(target: type[Model]) -> Transform:
    """Rows from elsewhere without a transform: mappings of the target's columns, or model instances."""
    same_names = identity_transform(target)

    def as_given(row: Any) -> Any:
        return row if isinstance(row, Mapping) else same_names(row)

    return as_given


_KEY_TYPES = (int, float, str, bool)


def _encoded_key(row_key: Any) -> str:
    """A row's ``key()`` as the checkpoint stores it (JSON: ints, floats, strs, bools, tuples of them)."""
    parts = row_key if isinstance(row_key, tuple) else (row_key,)
    if not parts or not all(isinstance(p, _KEY_TYPES) for p in parts):
        raise CQLEngineException(f"backfill: key() must give an int, float, str or bool, or a tuple of them; "
                                 f"got {row_key!r} (convert it, e.g. str() of a UUID, keeping the rows' order)")
    return json.dumps(list(parts) if isinstance(row_key, tuple) else row_key)


def _key_of(key: Callable[[Any], Any], item: Any) -> Any:
    try:
        row_key = key(item.values if isinstance(item, Stamped) else item)
    except Exception as exc:
        raise CQLEngineException(f"backfill: key() failed on {item!r}: {type(exc).__name__}: {exc}") from exc
    _encoded_key(row_key)  # refused at once when it could not be recorded
    return row_key


def _ascending(previous: Any, row_key: Any) -> bool:
    try:
        return bool(previous < row_key)
    except TypeError:
        raise CQLEngineException(f"backfill: key() gave {row_key!r} after {previous!r}, which do not compare "
                                 "(keys must all be of one kind)") from None


def _decoded_key(text: str) -> Any:
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value


def _copy_rows(run: _Run, rows: Iterable[Any], record: SplitRecord, page_size: int,
               key: Optional[Callable[[Any], Any]]) -> None:
    after = None if record.after_key is None else _decoded_key(record.after_key)
    position = record.progress.rows
    page: list[Any] = []
    last_key: Any = None
    written, skipped = record.written, record.skipped

    def flush(last: bool) -> bool:
        nonlocal written, skipped, page
        run.limit.take(len(page))
        writes: list[list[statements.InsertStatement]] = []
        page_skipped = 0
        for number, item in enumerate(page, start=position - len(page) + 1):
            stamped = item if isinstance(item, Stamped) else None
            instance = stamped.values if stamped is not None else item
            try:
                stamp = normalize_timestamp(stamped.timestamp) if stamped is not None else None
                cells = {} if stamp is None else {"": (stamp, stamped.ttl if stamped else None)}
                made = run.writer.inserts(instance, cells, ttl=stamped.ttl if stamped else None)
            except (MirrorError, CQLEngineException, ValueError, TypeError) as exc:
                run.fail(f"row {number}: {exc}")  # nothing of this page is written or recorded
                return False
            if made is None:
                page_skipped += 1
            else:
                writes.append(made)
        errors = run.writer.send([w for made in writes for w in made])
        failed = sum(1 for e in errors if e is not None)
        if failed:
            first = next(e for e in errors if e is not None)
            run.count(0, 0, 0, failed)
            run.fail(f"rows {position - len(page) + 1}..{position}: {failed} write(s) failed after "
                     f"{run.writer.retries} retries: {type(first).__name__}: {first}")
            return False
        written += len(writes)
        skipped += page_skipped
        recorded_key = None if last_key is None else _encoded_key(last_key)
        progress = SplitProgress(0, None, None, position, done=last)
        run.checkpoints.save(SplitRecord(0, None, None, progress, written, skipped, after_key=recorded_key))
        run.count(len(page), len(writes), page_skipped, done=last)
        page = []
        return True

    previous: Any = after
    reading = iter(rows)
    try:
        while True:
            try:
                item = next(reading)
            except StopIteration:
                break
            except Exception as exc:  # the source's own failure: what was recorded stays, for a resume
                run.fail(f"reading the rows failed after row {position}: {type(exc).__name__}: {exc}")
                return
            if key is not None:
                row_key = _key_of(key, item)
                if previous is not None and not _ascending(previous, row_key):
                    if previous is after:
                        continue  # copied before the resume
                    raise CQLEngineException(f"backfill: key() gave {row_key!r} after {previous!r}: the rows "
                                             "must come in ascending order of their key, each key once")
                previous = last_key = row_key
            position += 1
            page.append(item)
            if len(page) >= page_size and not flush(False):
                return
        flush(True)
    except CQLEngineException as exc:  # a key that fails: reported with the summary
        run.fail(f"row {position + 1}: {exc}")
