"""Token-range scans: read a whole table in splits that cover the ring exactly once.

``Model.objects.scan(splits=16)`` gives a :class:`Scan`. Its splits are
ranges of partition tokens, ``start < token(pk) <= end``, cut along the
cluster's own token ranges so that each split lies within one range and is
read from one of its replicas. Together they cover every token exactly once,
so every row is read exactly once.

A :class:`TokenSplit` is a small frozen value: it pickles (the model by its
importable name), so splits can be handed to ``multiprocessing`` or any other
executor, whose workers set up their own connection. Each split reads page by
page; after every page a :class:`SplitProgress` says how far it got, and a
split resumes from one (see :meth:`TokenSplit.pages`).
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, Optional, Sequence, TypeVar

from cassandra import InvalidRequest
from cassandra.protocol import ProtocolException

from cqlengine import connection, cursors, statements
from cqlengine.columns import UserDefinedType
from cqlengine.connection import NOT_SET
from cqlengine.exceptions import QueryException, check_positive_int

if TYPE_CHECKING:
    from cqlengine.mapped import MappedModel

M = TypeVar("M", bound="MappedModel")
R = TypeVar("R")

DEFAULT_FETCH_SIZE = 1000

#: The token bounds of the partitioners a scan can split: (lowest, highest). No key has the lowest token,
#: so ``token > lowest`` is every key.
PARTITIONER_BOUNDS = {
    "Murmur3Partitioner": (-(2**63), 2**63 - 1),
    "RandomPartitioner": (-1, 2**127),
}


def token_bounds(partitioner: str) -> tuple[int, int]:
    """The (lowest, highest) token of ``partitioner`` (its class name, qualified or not)."""
    name = partitioner.rsplit(".", 1)[-1]
    if name not in PARTITIONER_BOUNDS:
        raise QueryException(f"scan(): the {name or 'unknown'} partitioner does not order rows by a numeric token; "
                             f"splits need one of {', '.join(sorted(PARTITIONER_BOUNDS))}")
    return PARTITIONER_BOUNDS[name]


def split_ring(bounds: tuple[int, int], ring: Sequence[tuple[int, tuple[str, ...]]],
               splits: int) -> list[tuple[int, int, tuple[str, ...]]]:
    """``(start, end, replicas)`` pieces covering ``(lowest, highest]`` exactly once, in token order.

    ``ring`` is each node token with the replicas of the range ending at it
    (the range that wraps past the highest token belongs to the first
    token's replicas). Each range is cut into a share of ``splits`` in
    proportion to its width, at least one piece: so there are at least as many
    pieces as ranges, and about ``splits`` when that is more.
    """
    lowest, highest = bounds
    check_positive_int(splits, "scan(): splits", QueryException)
    ranges: list[tuple[int, int, tuple[str, ...]]] = []
    tokens = sorted(ring)
    if not tokens:
        ranges.append((lowest, highest, ()))
    else:
        first_token, first_replicas = tokens[0]
        if first_token > lowest:
            ranges.append((lowest, first_token, first_replicas))
        for (previous, _), (token, replicas) in zip(tokens, tokens[1:]):
            ranges.append((previous, token, replicas))
        if tokens[-1][0] < highest:
            ranges.append((tokens[-1][0], highest, first_replicas))
    total = highest - lowest
    pieces: list[tuple[int, int, tuple[str, ...]]] = []
    for start, end, replicas in ranges:
        count = max(1, round(splits * (end - start) / total))
        count = min(count, end - start)
        for i in range(count):
            piece_start = start + (end - start) * i // count
            piece_end = start + (end - start) * (i + 1) // count
            pieces.append((piece_start, piece_end, replicas))
    return pieces


@dataclass(frozen=True)
class SplitProgress:
    """How far a split has been read, after a page: what a resumed split starts from.

    ``after_token``: every partition whose token is at most this has been read
    in full (None: none yet). ``paging_state``: the driver's exact place, when
    the split stopped between two pages of one query. ``rows``: rows read so
    far. ``done``: the split is read to its end.
    """

    index: int
    after_token: Optional[int] = None
    paging_state: Optional[bytes] = None
    rows: int = 0
    done: bool = False


@dataclass
class ScanPage(Generic[M]):
    """One page of a split: its instances, each row's cells' (writetime, ttl) if asked for, and the
    progress after it."""

    instances: list[M]
    cells: Optional[list[dict[str, tuple[Optional[int], Optional[int]]]]]
    progress: SplitProgress
    #: When the page was asked for, in microseconds since the epoch (client clock).
    read_at: int


@dataclass(frozen=True)
class TokenSplit(Generic[M]):
    """The rows of ``model`` whose partition token is in ``(start, end]``: a picklable unit of a scan."""

    model: type[M]
    index: int
    start: int
    end: int
    replicas: tuple[str, ...] = ()
    keyspace: Optional[str] = None
    connection: Optional[str] = None
    fetch_size: int = DEFAULT_FETCH_SIZE
    consistency: Optional[int] = None
    timeout: Any = NOT_SET

    def __repr__(self) -> str:
        return f"TokenSplit({self.model.__name__} #{self.index}: ({self.start}, {self.end}])"

    def _table(self) -> tuple[Optional[str], str]:
        model = self.model
        return self.keyspace or model._meta.keyspace(self.connection), model._meta.table_name()

    def _statement(self, start: int, writetimes: bool = False, count: bool = False) -> statements.SelectStatement:
        model = self.model
        keyspace, table = self._table()
        keys = [col.db_field_name for col in model._meta.partition_keys.values()]
        where = [statements.TokenWhereClause(keys, ">", start), statements.TokenWhereClause(keys, "<=", self.end)]
        if count:
            return statements.SelectStatement(table, keyspace=keyspace, where=where, count=True)
        columns = model._meta.table_columns()
        fields = [col.db_field_name for col in columns.values()]
        timed = [col.db_field_name for col in cells_with_writetime(model)] if writetimes else []
        return statements.SelectStatement(table, keyspace=keyspace, fields=fields, where=where,
                                          writetime_of=timed, ttl_of=timed, token_of=keys)

    def _run(self, statement: statements.SelectStatement, paging_state: Optional[bytes] = None,
             tuple_rows: bool = True) -> Any:
        cql, params = statement.render()
        return connection.execute(cql, params, consistency=self.consistency, timeout=self.timeout,
                                  connection=self.connection, fetch_size=self.fetch_size,
                                  paging_state=paging_state, tuple_rows=tuple_rows, idempotent=True,
                                  route_to=self.replicas)

    def count(self) -> int:
        """``SELECT COUNT(*)`` over this split's tokens."""
        result = self._run(self._statement(self.start, count=True), tuple_rows=False)
        row = result.one()
        return int(row["count"] if isinstance(row, dict) else row[0])

    def __iter__(self) -> Iterator[M]:
        for page in self.pages():
            yield from page.instances

    def pages(self, resume: Optional[SplitProgress] = None, writetimes: bool = False) -> Iterator[ScanPage[M]]:
        """The split a page at a time, each with the progress after it; from ``resume`` when given.

        A resume with a ``paging_state`` continues the same query exactly where
        it stopped. Without one (or when the server no longer takes it, e.g.
        after the cluster was upgraded) the split restarts after
        ``after_token``: the rows of the one partition that was being read
        when it stopped are then read again. A finished split yields nothing.
        With ``writetimes``, each page carries each row's ``{column: (writetime,
        ttl)}`` for the columns that have them (see :func:`cells_with_writetime`).
        """
        progress = resume if resume is not None else SplitProgress(self.index)
        if progress.index != self.index:
            raise QueryException(f"{self!r}: cannot resume from the progress of split #{progress.index}")
        if progress.after_token is not None and not self.start <= progress.after_token <= self.end:
            raise QueryException(f"{self!r}: cannot resume after token {progress.after_token}, outside the split")
        if progress.done:
            return
        model = self.model
        start = self.start if progress.after_token is None else max(self.start, progress.after_token)
        statement = self._statement(start, writetimes)
        read_at = _now_micros()
        result = None
        if progress.paging_state is not None:
            try:
                # A state that is not one would make the server drop the connection: checked first.
                state = cursors.check_paging_state(progress.paging_state, f"{self!r}")
                result = self._run(statement, state)
            except (QueryException, InvalidRequest, ProtocolException):
                result = None  # not (or no longer) a usable state: restart after the last partition read in full
        if result is None:
            result = self._run(statement)
        names = list(result.column_names or [])
        width = len(model._meta.table_columns())
        timed = [col.db_field_name for col in cells_with_writetime(model)] if writetimes else []
        after, rows = progress.after_token, progress.rows
        while True:
            page = result.current_rows
            if page and isinstance(page[0], dict):
                page = [tuple(row.values()) for row in page]  # a legacy-mode session reads dicts only
            instances = model._instances_from_result(names[:width], [row[:width] for row in page])
            cells = None
            if writetimes:
                cells = []
                for row in page:
                    cells.append({name: (row[width + i], row[width + len(timed) + i])
                                  for i, name in enumerate(timed) if row[width + i] is not None})
            rows += len(page)
            more = result.has_more_pages
            if page:
                last = page[-1][-1]
                earlier = [row[-1] for row in page if row[-1] != last]
                if earlier:
                    after = earlier[-1]
            if more:
                progress = SplitProgress(self.index, after, result.paging_state, rows)
            else:
                progress = SplitProgress(self.index, self.end, None, rows, done=True)
            yield ScanPage(instances, cells, progress, read_at)
            if not more:
                return
            read_at = _now_micros()
            result = connection.next_page(result)


def _now_micros() -> int:
    return time.time_ns() // 1000


def cells_with_writetime(model: type[MappedModel]) -> list[Any]:
    """The columns whose value is one cell, with one WRITETIME and TTL: regular and static columns but
    non-frozen collections and user types (a cell per element or field) and counters. Primary key
    columns have none."""
    return [col for col in model._meta.table_columns().values()
            if not col.primary_key and not col.is_counter and not is_multi_cell(col)]


def is_multi_cell(col: Any) -> bool:
    """Whether a column's value is stored as several cells (a non-frozen collection or user type)."""
    return not col.cql_type().startswith("frozen<") and (col.is_collection or isinstance(col, UserDefinedType))


class Scan(Generic[M]):
    """A whole-table read in token splits; see the module docstring.

    The splits are worked out from the cluster's ring when first needed, and
    then kept: a scan resumed later must use the same splits (keep
    ``scan.splits``, or rebuild them from their bounds).
    """

    def __init__(self, model: type[M], splits: int = 1, keyspace: Optional[str] = None,
                 connection_name: Optional[str] = None, fetch_size: Optional[int] = None,
                 consistency: Optional[int] = None, timeout: Any = NOT_SET) -> None:
        model._meta.check_concrete("scan")
        if fetch_size is not None:
            check_positive_int(fetch_size, f"{model.__name__}.scan(): fetch_size", QueryException)
        self.model = model
        self.wanted = splits
        self.keyspace = keyspace
        self.connection = connection_name or model.__connection__
        self.fetch_size = fetch_size or DEFAULT_FETCH_SIZE
        self.consistency = consistency
        self.timeout = timeout
        self._splits: Optional[list[TokenSplit[M]]] = None
        split_ring((0, 1), [], splits)  # the count is checked now, not at the first read

    @property
    def splits(self) -> list[TokenSplit[M]]:
        """The splits, in token order; worked out from the ring once."""
        if self._splits is None:
            keyspace = self.keyspace or self.model._meta.keyspace(self.connection)
            if not keyspace:
                raise QueryException(f"{self.model.__name__}.scan(): no keyspace set")
            partitioner, ring = connection.token_ring(keyspace, self.connection)
            pieces = split_ring(token_bounds(partitioner), ring, self.wanted)
            self._splits = [
                TokenSplit(self.model, index, start, end, replicas, self.keyspace, self.connection, self.fetch_size,
                           self.consistency, self.timeout)
                for index, (start, end, replicas) in enumerate(pieces)
            ]
        return self._splits

    def __iter__(self) -> Iterator[M]:
        """Every row, split after split, in token order."""
        for split in self.splits:
            yield from split

    def map(self, fn: Callable[[TokenSplit[M]], R], concurrency: int = 4,
            executor: Optional[Executor] = None) -> list[R]:
        """``fn(split)`` for every split, ``concurrency`` at a time in threads (or on ``executor``, e.g. a
        ``ProcessPoolExecutor`` whose workers connect first); the results in split order.

        The first error is raised once the splits already started have finished.
        """
        _check_concurrency(self.model, concurrency)
        if executor is not None:
            return list(executor.map(fn, self.splits))
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="cqlengine-scan") as pool:
            return list(pool.map(fn, self.splits))

    def count(self, concurrency: int = 4) -> int:
        """The number of rows, counted split by split (``concurrency`` at a time)."""
        return sum(self.map(TokenSplit.count, concurrency))

    def iterate(self, concurrency: int = 4, buffer_pages: int = 4) -> Iterator[M]:
        """Every row, read from ``concurrency`` splits at a time; rows arrive in no particular order.

        At most ``buffer_pages`` pages wait to be consumed. An error in any split
        is raised here (after the rows read before it), and the other readers stop.
        """
        _check_concurrency(self.model, concurrency)
        pages: queue.Queue[Any] = queue.Queue(maxsize=buffer_pages)
        stop = threading.Event()
        todo = list(self.splits)
        lock = threading.Lock()
        done = object()

        def read() -> None:
            try:
                while not stop.is_set():
                    with lock:
                        if not todo:
                            return
                        split = todo.pop(0)
                    for page in split.pages():
                        while not stop.is_set():
                            try:
                                pages.put(page.instances, timeout=0.1)
                                break
                            except queue.Full:
                                continue
                        if stop.is_set():
                            return
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, who raises it
                stop.set()
                pages.put(exc)
            finally:
                pages.put(done)

        workers = [threading.Thread(target=read, name=f"cqlengine-scan-{i}", daemon=True)
                   for i in range(min(concurrency, len(todo)) or 1)]
        for worker in workers:
            worker.start()
        running = len(workers)
        try:
            while running:
                item = pages.get()
                if item is done:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield from item
        finally:
            stop.set()
            while running:  # let every reader finish its put and see the stop
                item = pages.get()
                if item is done:
                    running -= 1


def _check_concurrency(model: type[MappedModel], concurrency: Any) -> None:
    check_positive_int(concurrency, f"{model.__name__}.scan(): concurrency", QueryException)


def with_bounds(split: TokenSplit[M], start: int, end: int) -> TokenSplit[M]:
    """``split`` over other token bounds (splits recorded elsewhere, e.g. in a checkpoint table)."""
    return replace(split, start=start, end=end)
