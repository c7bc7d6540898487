"""Spot-check a migration: compare every (or a sample of) source row with the target row it should be.

:func:`verify` reads the source split by split, works out each row's target
row through the transform, reads those target rows by key, and compares them
column by column. With ``extras=True`` (full runs only) it also reads the
whole target first and reports target rows that no source row leads to (a
delete that was not mirrored, a row resurrected by a copy). Under live
traffic a row may change between the two reads: each difference is read
again, from both sides (the target side alone for rows from elsewhere,
which an iterable cannot give one at a time), before it is reported; check
rows from elsewhere when their writes have stopped, or expect to see the
rows changed during the check.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from cqlengine import connection, statements
from cqlengine.exceptions import CQLEngineException, check_positive_int
from cqlengine.mirroring import Mirror, Transform, identity_transform
from cqlengine.models import Model
from cqlengine.query import QuerySet
from cqlengine.scans import Scan, TokenSplit

Key = tuple[Any, ...]


@dataclass
class Difference:
    """A target row that is not what the source says: ``missing``, ``different`` (with each differing
    column's ``(expected, found)``) or ``extra`` (no source row leads to it)."""

    kind: str
    key: Key
    columns: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.kind != "different":
            return f"{self.kind}: {self.key}"
        cols = ", ".join(f"{k}: expected {e!r}, found {f!r}" for k, (e, f) in self.columns.items())
        return f"different: {self.key} ({cols})"


@dataclass
class VerifyReport:
    """What :func:`verify` compared and found. ``ok`` when nothing differs."""

    source: str
    target: str
    source_rows: int = 0
    compared: int = 0
    skipped: int = 0
    missing: int = 0
    different: int = 0
    extra: int = 0
    target_rows: Optional[int] = None
    splits: int = 0
    splits_checked: int = 0
    sampled: bool = False
    #: The first differences found (at most ``keep``), for the report.
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.different or self.extra)

    def __str__(self) -> str:
        scope = (f"{self.splits_checked} of {self.splits} splits (sampled)" if self.sampled
                 else f"{self.splits_checked} split(s)")
        target = "" if self.target_rows is None else f", target rows {self.target_rows}"
        lines = [f"verify {self.source} -> {self.target}: {scope}; source rows {self.source_rows}, compared "
                 f"{self.compared}, skipped by the transform {self.skipped}{target}; missing {self.missing}, "
                 f"different {self.different}, extra {self.extra}: {'OK' if self.ok else 'DIFFERENCES'}"]
        lines += [f"  {d}" for d in self.differences]
        shown = len(self.differences)
        if shown < self.missing + self.different + self.extra:
            lines.append(f"  ... and {self.missing + self.different + self.extra - shown} more")
        return "\n".join(lines)


def _normal(col: Any, value: Any) -> Any:
    """A value as it compares: empty collections as None, datetimes to the millisecond Cassandra keeps."""
    if value is None:
        return None
    if isinstance(value, (set, frozenset, list, dict, tuple)) and not value and col.is_collection:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


class _Comparer:
    def __init__(self, mirror: Mirror, concurrency: int, keep: int) -> None:
        self.mirror = mirror
        self.target = mirror.target
        self.concurrency = concurrency
        self.keep = keep
        self.lock = threading.Lock()
        self.expected_keys: set[Key] = set()
        self.collect_keys = False

    def expected(self, instance: Any) -> Optional[Any]:
        values = self.mirror.target_values(instance)
        return None if values is None else self.target(**values)

    def key_of(self, row: Any) -> Key:
        return tuple(row._values[k] for k in self.target._meta.primary_keys)

    def read(self, keys: list[Key]) -> list[Optional[Any]]:
        """The target row of each key (None: no such row), read concurrently."""
        if not keys:
            return []
        target = self.target
        keyspace = self.mirror.keyspace or target._meta.keyspace(self.mirror.connection)
        fields = [c.db_field_name for c in target._meta.table_columns().values()]
        pk = list(target._meta.primary_keys.values())
        items = []
        for key in keys:
            where = [statements.WhereClause(c.db_field_name, "=", c.to_database(v)) for c, v in zip(pk, key)]
            cql, params = statements.SelectStatement(target._meta.table_name(), keyspace=keyspace,
                                                     fields=fields, where=where).render()
            items.append((cql, params, None, True))
        outcomes = connection.execute_concurrently(items, concurrency=self.concurrency,
                                                   connection=self.mirror.connection or target.__connection__)
        out: list[Optional[Any]] = []
        for ok, result in outcomes:
            if not ok:
                raise result
            rows = list(result)
            out.append(target._construct_instance(rows[0]) if rows else None)
        return out

    def differences(self, expected: Any, found: Optional[Any]) -> Optional[Difference]:
        key = self.key_of(expected)
        if found is None:
            return Difference("missing", key)
        columns = {}
        for name, col in self.target._meta.columns.items():
            want, got = _normal(col, expected._values.get(name)), _normal(col, found._values.get(name))
            if want != got:
                columns[name] = (want, got)
        return Difference("different", key, columns) if columns else None


def _compare(comparer: _Comparer, report: VerifyReport, sources: list[Any], recheck: Any) -> None:
    """Compare one page of source rows with their target rows; count into ``report``."""
    expected = []
    skipped = 0
    for instance in sources:
        row = comparer.expected(instance)
        if row is None:
            skipped += 1
        else:
            expected.append((instance, row))
    found = comparer.read([comparer.key_of(row) for _, row in expected])
    diffs = []
    for (instance, row), target_row in zip(expected, found):
        diff = comparer.differences(row, target_row)
        if diff is not None and recheck is not None:
            diff = recheck(instance)
        if diff is not None:
            diffs.append(diff)
    with comparer.lock:
        report.source_rows += len(sources)
        report.compared += len(expected)
        report.skipped += skipped
        if comparer.collect_keys:
            comparer.expected_keys.update(comparer.key_of(row) for _, row in expected)
        for diff in diffs:
            report.missing += diff.kind == "missing"
            report.different += diff.kind == "different"
            if len(report.differences) < comparer.keep:
                report.differences.append(diff)


def _rechecker(comparer: _Comparer, scan: Optional[Scan[Any]]) -> Any:
    """Read the source row again (when it is a Cassandra row: where, and as, the scan reads) and its
    target row: the difference now, if any. Rows from elsewhere are not read again (the iterable
    cannot be asked for one row): a difference there is the target read again against the row given."""
    def recheck(instance: Any) -> Optional[Difference]:
        current = instance
        if scan is not None and isinstance(instance, Model):
            keys = {k: instance._values[k] for k in scan.model._meta.primary_keys}
            query = type(instance).objects.filter(**keys).using(keyspace=scan.keyspace, connection=scan.connection)
            if scan.consistency is not None:
                query = query.consistency(scan.consistency)
            current = query.first()
            if current is None:
                return None  # deleted since: its target row is checked by the extras pass
        row = comparer.expected(current)
        if row is None:
            return None
        return comparer.differences(row, comparer.read([comparer.key_of(row)])[0])

    return recheck


def verify(
    source: Any,
    target: type[Model],
    transform: Optional[Transform] = None,
    *,
    sample: Optional[float] = None,
    splits: int = 16,
    readers: int = 4,
    concurrency: int = 64,
    extras: bool = True,
    recheck: bool = True,
    keep: int = 100,
    seed: Optional[int] = None,
    keyspace: Optional[str] = None,
    connection_name: Optional[str] = None,
    fetch_size: Optional[int] = 500,
) -> VerifyReport:
    """Compare ``source`` with ``target`` through ``transform`` (as for ``backfill()``); a :class:`VerifyReport`.

    ``sample`` (0 < sample <= 1) checks that share of the splits, chosen at
    random (``seed`` repeats a choice); a sampled run reports no extras. The
    first ``keep`` differences are listed; all are counted. ``extras`` holds
    one key per target row in memory.
    """
    _check_arguments(sample, readers=readers, concurrency=concurrency, splits=splits)
    scan, mirror = _source_scan_and_mirror(source, target, transform, splits, fetch_size, keyspace, connection_name)
    report = VerifyReport(getattr(scan.model if scan is not None else None, "__name__", "rows"), target.__name__)
    comparer = _Comparer(mirror, concurrency, keep)
    with_extras = extras and sample is None
    target_keys: set[Key] = set()
    if with_extras:
        comparer.collect_keys = True
        target_keys = _target_keys(target, keyspace, connection_name, splits, readers, fetch_size)
        report.target_rows = len(target_keys)
    again = _rechecker(comparer, scan) if recheck else None
    if scan is None:
        _compare_rows(comparer, report, source, again)
    else:
        _compare_splits(comparer, report, scan, sample, seed, readers, again)
    if with_extras:
        _count_extras(comparer, report, target_keys, recheck)
    return report


def _check_arguments(sample: Optional[float], **counts: int) -> None:
    """Refuse a sample outside (0, 1] or a count below 1, before anything is read."""
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, (int, float))
                               or not 0 < sample <= 1):
        raise CQLEngineException(f"verify: sample must be a share of the splits in (0, 1], got {sample!r}")
    for name, value in counts.items():
        check_positive_int(value, f"verify: {name}")


def _source_scan_and_mirror(source: Any, target: type[Model], transform: Optional[Transform], splits: int,
                            fetch_size: Optional[int], keyspace: Optional[str],
                            connection_name: Optional[str]) -> tuple[Optional[Scan[Any]], Mirror]:
    """The scan that reads ``source`` (None: rows from elsewhere) and the mirror that gives each row's target row."""
    if isinstance(source, (Scan, QuerySet)) or (isinstance(source, type) and issubclass(source, Model)):
        scan = source if isinstance(source, Scan) else (
            source.scan(splits=splits, fetch_size=fetch_size) if isinstance(source, QuerySet)
            else source.objects.scan(splits=splits, fetch_size=fetch_size))
        return scan, Mirror(scan.model, target, transform or identity_transform(target), keyspace=keyspace,
                            connection=connection_name)
    if isinstance(source, Iterable):
        same_names = identity_transform(target)
        return None, Mirror(target, target, transform or (lambda row: row if isinstance(row, Mapping)
                                                          else same_names(row)),
                            keyspace=keyspace, connection=connection_name)
    raise TypeError(f"verify: source must be a model, queryset, scan or iterable, not {source!r}")


def _compare_rows(comparer: _Comparer, report: VerifyReport, rows: Iterable[Any], recheck: Any) -> None:
    """Rows from elsewhere, compared a page of 500 at a time; they count as one split."""
    page: list[Any] = []
    for row in rows:
        page.append(row)
        if len(page) >= 500:
            _compare(comparer, report, page, recheck)
            page = []
    _compare(comparer, report, page, recheck)
    report.splits = report.splits_checked = 1


def _compare_splits(comparer: _Comparer, report: VerifyReport, scan: Scan[Any], sample: Optional[float],
                    seed: Optional[int], readers: int, recheck: Any) -> None:
    """Every split of ``scan`` (a random ``sample`` of them), ``readers`` splits at a time."""
    chosen = list(scan.splits)
    report.splits = len(chosen)
    if sample is not None:
        count = max(1, round(len(chosen) * float(sample)))
        chosen = sorted(random.Random(seed).sample(chosen, count), key=lambda s: s.index)
        report.sampled = True
    report.splits_checked = len(chosen)

    def check(split: TokenSplit[Any]) -> None:
        for part in split.pages():
            _compare(comparer, report, part.instances, recheck)

    _in_threads(check, chosen, readers)


def _count_extras(comparer: _Comparer, report: VerifyReport, target_keys: set[Key], recheck: bool) -> None:
    """Target rows no source row led to, each read again first (with ``recheck``): one deleted since is not one."""
    leftover = [key for key in target_keys if key not in comparer.expected_keys]
    if leftover and recheck:
        still = comparer.read(leftover)
        leftover = [key for key, row in zip(leftover, still) if row is not None]
    report.extra = len(leftover)
    for key in leftover[: max(0, comparer.keep - len(report.differences))]:
        report.differences.append(Difference("extra", key))


def _target_keys(target: type[Model], keyspace: Optional[str], connection_name: Optional[str], splits: int,
                 readers: int, fetch_size: Optional[int]) -> set[Key]:
    scan = target.objects.using(keyspace=keyspace, connection=connection_name).scan(splits=splits,
                                                                                   fetch_size=fetch_size)
    keys: set[Key] = set()
    lock = threading.Lock()
    names = list(target._meta.primary_keys)

    def collect(split: TokenSplit[Any]) -> None:
        for page in split.pages():
            found = [tuple(row._values[k] for k in names) for row in page.instances]
            with lock:
                keys.update(found)

    _in_threads(collect, scan.splits, readers)
    return keys


def _in_threads(fn: Any, splits: list[TokenSplit[Any]], readers: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=readers, thread_name_prefix="cqlengine-verify") as pool:
        for _ in pool.map(fn, splits):
            pass
