"""Benchmark cqlengine against the raw driver and the peer mapper, ``cassandra.cqlengine``.

Three contenders run in this one process against the same Cassandra, in the
keyspace ``cqlengine_bench`` (created at the start, dropped at the end):

- ``ours``: cqlengine, through its public API;
- ``raw``: the driver itself, its own Cluster/Session, prepared statements and
  ``tuple_factory`` rows: the floor a mapper adds its cost to;
- ``peer``: ``cassandra.cqlengine`` (shipped inside cassandra-driver), imported
  here, and only here, as the yardstick.

Every contender writes its own tables (``ours_*``, ``raw_*``, ``peer_*``); the
large partitions that the iteration and memory workloads read are written once
and read by all three. Each workload runs in rounds; within a round the
contenders take turns in a rotated order (A B C, B C A, C A B, ...). Each turn
is one sample: client CPU (``time.process_time``: this process, the driver's
threads included) and wall time (``time.perf_counter``) around ``n`` operations.
The table reports medians over the rounds; the JSON file keeps every sample.

    .venv/bin/python benchmarks/run.py            # a few minutes on 2 cores
    .venv/bin/python benchmarks/run.py --quick    # under a minute
    .venv/bin/python benchmarks/run.py --help
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import logging
import os
import platform
import random
import socket
import sys
import threading
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from harness import Variant, Workload, run_workload  # noqa: E402 - benchmarks/ is on sys.path

try:
    import transports  # needs acsylla
except ImportError:
    transports = None  # type: ignore[assignment]

# The peer's schema helpers warn unless this is set; the benchmark manages its own keyspace.
os.environ.setdefault("CQLENG_ALLOW_SCHEMA_MANAGEMENT", "1")

import cassandra  # noqa: E402
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session  # noqa: E402
from cassandra.concurrent import execute_concurrent_with_args  # noqa: E402
from cassandra.cqlengine import columns as peer_columns  # noqa: E402
from cassandra.cqlengine import connection as peer_connection  # noqa: E402
from cassandra.cqlengine import management as peer_management  # noqa: E402
from cassandra.cqlengine import models as peer_models  # noqa: E402
from cassandra.cqlengine.query import BatchQuery as PeerBatchQuery  # noqa: E402
from cassandra.query import BatchStatement, tuple_factory  # noqa: E402

import cqlengine  # noqa: E402
from cqlengine import columns, connection, management  # noqa: E402

try:  # an older checkout (benchmarks/versions.py) may have no telemetry: no traced variant then
    from cqlengine.connection import telemetry as cqlengine_telemetry  # noqa: E402
except ImportError:
    cqlengine_telemetry = None  # type: ignore[assignment]
from cqlengine.models import Model  # noqa: E402
from cqlengine.query import BatchQuery  # noqa: E402

KEYSPACE = "cqlengine_bench"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
CONTENDERS = ("ours", "raw", "peer")
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


class BatchSizeWarnings(logging.Filter):
    """Counts, instead of printing, the server's warning that a batch exceeds batch_size_warn_threshold.

    50 rows of 6 columns are about 10 KiB, over the server's 5 KiB default: every batch warns.
    """

    count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Server warning: Batch for"):
            BatchSizeWarnings.count += 1
            return False
        return True


class ConnectAdvice(logging.Filter):
    """Drops the driver's advice printed on every connect (no load-balancing policy, protocol downgrade)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not message.startswith(("Cluster.__init__ called with contact_points", "Downgrading core protocol"))

# --------------------------------------------------------------------------- models
# The same columns for every contender. ``user`` has 6 columns, one of them a set<text>;
# ``wide`` has 20; ``event`` is one partition per size (bucket = row count), clustered by seq.

USER_COLUMNS = "id uuid PRIMARY KEY, name text, email text, age int, score double, tags set<text>"

# (name, CQL type) of the 19 regular columns of ``wide``.
WIDE = [(f"t{i}", "text") for i in range(6)] + [(f"i{i}", "int") for i in range(4)] + \
       [(f"b{i}", "bigint") for i in range(2)] + [(f"d{i}", "double") for i in range(3)] + \
       [(f"f{i}", "boolean") for i in range(2)] + [("ts", "timestamp"), ("ref", "uuid")]
OURS_TYPES = {"text": columns.Text, "int": columns.Integer, "bigint": columns.BigInt, "double": columns.Double,
              "boolean": columns.Boolean, "timestamp": columns.DateTime, "uuid": columns.UUID}
PEER_TYPES = {"text": peer_columns.Text, "int": peer_columns.Integer, "bigint": peer_columns.BigInt,
              "double": peer_columns.Double, "boolean": peer_columns.Boolean, "timestamp": peer_columns.DateTime,
              "uuid": peer_columns.UUID}


class OursUser(Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "ours_user"
    id = columns.UUID(primary_key=True)
    name = columns.Text()
    email = columns.Text()
    age = columns.Integer()
    score = columns.Double()
    tags = columns.Set(columns.Text)


class PeerUser(peer_models.Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "peer_user"
    id = peer_columns.UUID(primary_key=True)
    name = peer_columns.Text()
    email = peer_columns.Text()
    age = peer_columns.Integer()
    score = peer_columns.Double()
    tags = peer_columns.Set(peer_columns.Text)


class OursEvent(Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "event"
    bucket = columns.Integer(partition_key=True)
    seq = columns.Integer(primary_key=True)
    payload = columns.Text()
    value = columns.Double()
    ts = columns.DateTime()


class PeerEvent(peer_models.Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "event"  # the same table as OursEvent: read only
    bucket = peer_columns.Integer(partition_key=True)
    seq = peer_columns.Integer(primary_key=True)
    payload = peer_columns.Text()
    value = peer_columns.Double()
    ts = peer_columns.DateTime()


#: The vector search workload: rows, dimensions, neighbours per query.
VECTOR_ROWS, VECTOR_DIM, VECTOR_K = 5000, 32, 10


class OursVector(Model):
    """Read by ours and raw alike (the peer has no vector column)."""
    __keyspace__ = KEYSPACE
    __table_name__ = "vec"
    id = columns.Integer(partition_key=True)
    embedding = columns.Vector(VECTOR_DIM, index=True)


def random_vector(rng: random.Random) -> list[float]:
    return [rng.uniform(-1, 1) for _ in range(VECTOR_DIM)]


def _wide_attrs(types: dict[str, Any], prefix: str, id_column: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {"__keyspace__": KEYSPACE, "__table_name__": f"{prefix}_wide", "__module__": __name__,
                             "id": id_column}
    attrs.update({name: types[kind]() for name, kind in WIDE})
    return attrs


OursWide: Any = type("OursWide", (Model,), _wide_attrs(OURS_TYPES, "ours", columns.UUID(primary_key=True)))
PeerWide: Any = type("PeerWide", (peer_models.Model,),
                     _wide_attrs(PEER_TYPES, "peer", peer_columns.UUID(primary_key=True)))

# --------------------------------------------------------------------------- data


def now_ms() -> dt.datetime:
    # Cassandra stores milliseconds: a value that round-trips unchanged.
    t = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def user_values(i: int) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "name": f"user {i}", "email": f"u{i}@example.com", "age": 20 + i % 60,
            "score": i * 0.5, "tags": {"a", f"t{i % 7}"}}


USER_FIELDS = ("id", "name", "email", "age", "score", "tags")


def as_tuple(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values[f] for f in USER_FIELDS)


def wide_values(i: int) -> tuple[Any, ...]:
    ts = now_ms()
    by_kind = {"text": f"text value {i}", "int": i, "bigint": i * 1_000_003, "double": i / 3.0,
               "boolean": i % 2 == 0, "timestamp": ts, "uuid": uuid.uuid4()}
    return (uuid.uuid4(), *(by_kind[kind] for _, kind in WIDE))


# --------------------------------------------------------------------------- the raw contender


class Raw:
    """The driver alone: its own Cluster and Session, tuple rows, statements prepared once."""

    def __init__(self, hosts: list[str], fetch_size: int, cluster_options: dict[str, Any]) -> None:
        profile = ExecutionProfile(row_factory=tuple_factory)
        self.cluster = Cluster(hosts, execution_profiles={EXEC_PROFILE_DEFAULT: profile}, **cluster_options)
        self.session: Session = self.cluster.connect()
        self.session.default_fetch_size = fetch_size
        self.fetch_size = fetch_size

    def prepare_statements(self) -> None:
        p = self.session.prepare
        ks = KEYSPACE
        self.insert_user = p(f"INSERT INTO {ks}.raw_user ({', '.join(USER_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?)")
        self.get_user = p(f"SELECT {', '.join(USER_FIELDS)} FROM {ks}.raw_user WHERE id = ?")
        self.update_user = p(f"UPDATE {ks}.raw_user SET name = ?, age = ? WHERE id = ?")
        wide = ", ".join(["id"] + [name for name, _ in WIDE])
        self.get_wide = p(f"SELECT {wide} FROM {ks}.raw_wide WHERE id = ?")
        self.iterate = p(f"SELECT bucket, seq, payload, value, ts FROM {ks}.event WHERE bucket = ?")
        self.ann = p(f"SELECT id, embedding FROM {ks}.vec ORDER BY embedding ANN OF ? LIMIT ?")

    def shutdown(self) -> None:
        self.cluster.shutdown()


def check_concurrent(results: Iterable[Any], what: str) -> list[Any]:
    out = list(results)
    failures = [result for ok, result in out if not ok]
    if failures:
        raise RuntimeError(f"{what}: {failures[0]!r} ({len(failures)} failures)")
    return out


# --------------------------------------------------------------------------- timing


def tracing_on() -> Any:
    """cqlengine's telemetry with the OpenTelemetry SDK (spans batched, then dropped), or None without the SDK.

    Made once and left off; the traced variant switches it on for its own samples only.
    """
    if cqlengine_telemetry is None:
        return None
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
    except ImportError:
        return None

    class Dropped(SpanExporter):
        def export(self, spans: Any) -> Any:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Dropped()))
    traced = cqlengine_telemetry.enable(tracer_provider, MeterProvider())
    cqlengine_telemetry.disable()
    return traced


# --------------------------------------------------------------------------- workloads


class Bench:
    def __init__(self, args: argparse.Namespace, raw: Raw) -> None:
        self.args = args
        self.raw = raw
        self.loop = asyncio.new_event_loop()
        self.pool = ThreadPoolExecutor(max_workers=args.peer_threads, thread_name_prefix="peer")
        self.user_keys: dict[str, list[uuid.UUID]] = {}
        self.wide_keys: dict[str, list[uuid.UUID]] = {}
        self.counter = 0

    def close(self) -> None:
        self.pool.shutdown()
        self.loop.close()

    # -- helpers ------------------------------------------------------------------

    def fresh_users(self, n: int) -> list[dict[str, Any]]:
        start = self.counter
        self.counter += n
        return [user_values(i) for i in range(start, start + n)]

    def shuffled(self, keys: list[uuid.UUID], r: int, n: int) -> list[uuid.UUID]:
        rng = random.Random(r)
        return [keys[rng.randrange(len(keys))] for _ in range(n)]

    def in_threads(self, fn: Callable[[Any], Any], items: list[Any]) -> None:
        """``fn(item)`` for every item, on the peer's thread pool (as many in flight as threads)."""
        source = iter(items)
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    item = next(source, None)
                if item is None:
                    return
                fn(item)

        for future in [self.pool.submit(worker) for _ in range(self.args.peer_threads)]:
            future.result()

    def in_flight(self, coro_fn: Callable[[Any], Any], items: list[Any], concurrency: int) -> None:
        """Await ``coro_fn(item)`` for every item, ``concurrency`` at a time (a semaphore of that size)."""

        async def main() -> None:
            semaphore = asyncio.Semaphore(concurrency)

            async def one(item: Any) -> None:
                async with semaphore:
                    await coro_fn(item)

            await asyncio.gather(*(one(item) for item in items))

        self.loop.run_until_complete(main())

    def seed_users(self, contender: str, n: int) -> list[uuid.UUID]:
        session = self.raw.session
        ps = session.prepare(f"INSERT INTO {KEYSPACE}.{contender}_user ({', '.join(USER_FIELDS)}) "
                             "VALUES (?, ?, ?, ?, ?, ?)")
        rows = [as_tuple(v) for v in self.fresh_users(n)]
        check_concurrent(execute_concurrent_with_args(session, ps, rows, concurrency=100), "seeding users")
        return [row[0] for row in rows]

    def seed_wide(self, contender: str, n: int) -> list[uuid.UUID]:
        session = self.raw.session
        names = ["id"] + [name for name, _ in WIDE]
        ps = session.prepare(f"INSERT INTO {KEYSPACE}.{contender}_wide ({', '.join(names)}) "
                             f"VALUES ({', '.join('?' * len(names))})")
        rows = [wide_values(i) for i in range(n)]
        check_concurrent(execute_concurrent_with_args(session, ps, rows, concurrency=100), "seeding wide rows")
        return [row[0] for row in rows]

    def seed_events(self, sizes: list[int]) -> None:
        session = self.raw.session
        ps = session.prepare(f"INSERT INTO {KEYSPACE}.event (bucket, seq, payload, value, ts) VALUES (?, ?, ?, ?, ?)")
        ts = now_ms()
        for size in sizes:
            rows = ((size, i, f"event payload number {i:06d}", i / 7.0, ts) for i in range(size))
            check_concurrent(execute_concurrent_with_args(session, ps, rows, concurrency=100,
                                                          results_generator=True), "seeding events")

    def seed(self) -> None:
        n = self.args.n
        for contender in CONTENDERS:
            self.user_keys[contender] = self.seed_users(contender, n)
            self.wide_keys[contender] = self.seed_wide(contender, n)
        self.seed_events(sorted(set(self.args.sizes) | set(self.args.memory_sizes)))
        self.seed_vectors()

    def seed_vectors(self) -> None:
        session = self.raw.session
        ps = session.prepare(f"INSERT INTO {KEYSPACE}.vec (id, embedding) VALUES (?, ?)")
        rng = random.Random(32)
        rows = [(i, random_vector(rng)) for i in range(VECTOR_ROWS)]
        # Cassandra 5.0 fails writes that reach a vector index more than a few at a time (3 on 2 cores).
        check_concurrent(execute_concurrent_with_args(session, ps, rows, concurrency=2), "seeding vectors")

    # -- the workloads --------------------------------------------------------------

    def create(self) -> Workload:
        n, raw = self.args.n, self.raw

        def ours(values: list[dict[str, Any]]) -> None:
            for v in values:
                OursUser.create(**v)

        def peer(values: list[dict[str, Any]]) -> None:
            for v in values:
                PeerUser.create(**v)

        def raw_run(rows: list[tuple[Any, ...]]) -> None:
            execute, ps = raw.session.execute, raw.insert_user
            for row in rows:
                execute(ps, row)

        users = lambda _r: self.fresh_users(n)  # noqa: E731
        return Workload("create", "row", n, [
            Variant("ours", "ours", ours, users, lambda: ours(self.fresh_users(20))),
            Variant("raw", "raw", raw_run, lambda _r: [as_tuple(v) for v in self.fresh_users(n)],
                    lambda: raw_run([as_tuple(v) for v in self.fresh_users(20)])),
            Variant("peer", "peer", peer, users, lambda: peer(self.fresh_users(20))),
        ], note="Model.create(**6 columns, one a set<text>); raw: prepared INSERT")

    def get(self) -> Workload:
        n, raw = self.args.n, self.raw

        def ours(keys: list[uuid.UUID]) -> None:
            for key in keys:
                assert OursUser.objects.get(id=key).id == key

        def peer(keys: list[uuid.UUID]) -> None:
            for key in keys:
                assert PeerUser.objects.get(id=key).id == key

        def raw_run(keys: list[uuid.UUID]) -> None:
            execute, ps = raw.session.execute, raw.get_user
            for key in keys:
                assert execute(ps, (key,)).one()[0] == key

        workload = self._keyed("get", "get", n, self.user_keys, ours, raw_run, peer,
                               "Model.objects.get(id=key) of a 6-column row; raw: prepared SELECT, .one()")
        traced = tracing_on()
        if traced is not None:
            def ours_traced(keys: list[uuid.UUID]) -> None:
                cqlengine_telemetry.active = traced
                try:
                    ours(keys)
                finally:
                    cqlengine_telemetry.active = None

            workload.variants.insert(1, Variant("ours", "ours, OpenTelemetry on", ours_traced,
                                                lambda r: self.shuffled(self.user_keys["ours"], r, n),
                                                lambda: ours_traced(self.user_keys["ours"][:20])))
            workload.note += ("; OpenTelemetry on: cqlengine.telemetry with the SDK's TracerProvider, a "
                              "BatchSpanProcessor whose exporter drops the spans, and a MeterProvider")
        return workload

    def _keyed(self, name: str, unit: str, n: int, keys: dict[str, list[uuid.UUID]], ours: Callable[[Any], None],
               raw_run: Callable[[Any], None], peer: Callable[[Any], None], note: str) -> Workload:
        def pick(contender: str) -> Callable[[int], list[uuid.UUID]]:
            return lambda r: self.shuffled(keys[contender], r, n)

        return Workload(name, unit, n, [
            Variant("ours", "ours", ours, pick("ours"), lambda: ours(keys["ours"][:20])),
            Variant("raw", "raw", raw_run, pick("raw"), lambda: raw_run(keys["raw"][:20])),
            Variant("peer", "peer", peer, pick("peer"), lambda: peer(keys["peer"][:20])),
        ], note=note)

    def update(self) -> Workload:
        n, raw = self.args.n, self.raw

        def ours(keys: list[uuid.UUID]) -> None:
            for i, key in enumerate(keys):
                OursUser.objects(id=key).update(name=f"renamed {i}", age=i % 100)

        def peer(keys: list[uuid.UUID]) -> None:
            for i, key in enumerate(keys):
                PeerUser.objects(id=key).update(name=f"renamed {i}", age=i % 100)

        def raw_run(keys: list[uuid.UUID]) -> None:
            execute, ps = raw.session.execute, raw.update_user
            for i, key in enumerate(keys):
                execute(ps, (f"renamed {i}", i % 100, key))

        return self._keyed("update", "update", n, self.user_keys, ours, raw_run, peer,
                           "Model.objects(id=key).update(name=, age=), no read; raw: prepared UPDATE")

    def get_wide(self) -> Workload:
        n, raw = self.args.n, self.raw

        def ours(keys: list[uuid.UUID]) -> None:
            for key in keys:
                assert OursWide.objects.get(id=key).id == key

        def peer(keys: list[uuid.UUID]) -> None:
            for key in keys:
                assert PeerWide.objects.get(id=key).id == key

        def raw_run(keys: list[uuid.UUID]) -> None:
            execute, ps = raw.session.execute, raw.get_wide
            for key in keys:
                assert execute(ps, (key,)).one()[0] == key

        return self._keyed("get 20 columns", "get", n, self.wide_keys, ours, raw_run, peer,
                           "Model.objects.get(id=key) of a 20-column row")

    def iterate(self, size: int) -> Workload:
        raw, fetch = self.raw, self.args.fetch_size
        passes = max(1, self.args.iterate_rows // size)  # small partitions: several passes per sample

        def expect(count: int) -> None:
            if count != size:
                raise RuntimeError(f"iterated {count} rows of bucket {size}")

        def ours(_: Any) -> None:
            for _pass in range(passes):
                count = 0
                for obj in OursEvent.objects.filter(bucket=size).fetch_size(fetch):
                    count += obj.seq is not None
                expect(count)

        def ours_iterator(_: Any) -> None:
            for _pass in range(passes):
                count = 0
                for obj in OursEvent.objects.filter(bucket=size).fetch_size(fetch).iterator():
                    count += obj.seq is not None
                expect(count)

        def peer(_: Any) -> None:
            for _pass in range(passes):
                count = 0
                # limit(None): the peer caps a query at 10 000 rows by default.
                for obj in PeerEvent.objects.filter(bucket=size).limit(None).fetch_size(fetch):
                    count += obj.seq is not None
                expect(count)

        def raw_run(_: Any) -> None:
            for _pass in range(passes):
                count = 0
                for row in raw.session.execute(raw.iterate, (size,)):
                    count += row[1] is not None
                expect(count)

        return Workload(f"iterate {size // 1000}k", "row", passes * size, [
            Variant("ours", "ours", ours), Variant("ours", "ours iterator()", ours_iterator),
            Variant("raw", "raw", raw_run), Variant("peer", "peer", peer),
        ], note=f"one partition of {size:,} rows, fetch_size {fetch}, {passes} pass(es) per sample")

    def batch(self) -> Workload:
        size, count, raw = self.args.batch_size, self.args.batches, self.raw

        def ours(groups: list[list[dict[str, Any]]]) -> None:
            for group in groups:
                with BatchQuery() as b:
                    for v in group:
                        OursUser.batch(b).create(**v)

        def peer(groups: list[list[dict[str, Any]]]) -> None:
            for group in groups:
                with PeerBatchQuery() as b:
                    for v in group:
                        PeerUser.batch(b).create(**v)

        def raw_run(groups: list[list[tuple[Any, ...]]]) -> None:
            session, ps = raw.session, raw.insert_user
            for group in groups:
                statement = BatchStatement()
                for row in group:
                    statement.add(ps, row)
                session.execute(statement)

        def groups(r: int) -> list[list[dict[str, Any]]]:
            return [self.fresh_users(size) for _ in range(count)]

        def raw_groups(r: int) -> list[list[tuple[Any, ...]]]:
            return [[as_tuple(v) for v in group] for group in groups(r)]

        return Workload(f"batch of {size}", "batch", count, [
            Variant("ours", "ours", ours, groups, lambda: ours(groups(0)[:2])),
            Variant("raw", "raw", raw_run, raw_groups, lambda: raw_run(raw_groups(0)[:2])),
            Variant("peer", "peer", peer, groups, lambda: peer(groups(0)[:2])),
        ], note=f"a logged batch of {size} inserts; ours/peer: BatchQuery + Model.batch(b).create(); "
                "raw: BatchStatement of prepared INSERTs")

    def concurrent_create(self) -> Workload:
        n, flight, raw = self.args.concurrent, self.args.in_flight, self.raw

        async def acreate(v: dict[str, Any]) -> None:
            await OursUser.acreate(**v)

        def ours(values: list[dict[str, Any]]) -> None:
            self.in_flight(acreate, values, flight)

        def ours_bulk(values: list[dict[str, Any]]) -> None:
            OursUser.objects.bulk_create(values, concurrency=flight)

        def peer(values: list[dict[str, Any]]) -> None:
            self.in_threads(lambda v: PeerUser.create(**v), values)

        def raw_run(rows: list[tuple[Any, ...]]) -> None:
            check_concurrent(execute_concurrent_with_args(raw.session, raw.insert_user, rows, concurrency=flight),
                             "concurrent inserts")

        users = lambda _r: self.fresh_users(n)  # noqa: E731
        return Workload(f"{n:,} inserts, {flight} in flight", "row", n, [
            Variant("ours", "ours", ours, users, lambda: ours(self.fresh_users(200))),
            Variant("ours", "ours bulk_create()", ours_bulk, users, lambda: ours_bulk(self.fresh_users(200))),
            Variant("raw", "raw", raw_run, lambda _r: [as_tuple(v) for v in self.fresh_users(n)],
                    lambda: raw_run([as_tuple(v) for v in self.fresh_users(200)])),
            Variant("peer", "peer", peer, users, lambda: peer(self.fresh_users(200))),
        ], note=f"ours: asyncio Model.acreate under a semaphore of {flight}, and objects.bulk_create(concurrency="
                f"{flight}); raw: execute_concurrent_with_args"
                f"(concurrency={flight}); peer: synchronous create() on {self.args.peer_threads} threads "
                f"(its execute blocks: {self.args.peer_threads} in flight, not {flight})")

    def concurrent_get(self) -> Workload:
        n, flight, raw = self.args.concurrent, self.args.in_flight, self.raw

        async def aget(key: uuid.UUID) -> None:
            assert (await OursUser.objects.aget(id=key)).id == key

        def ours(keys: list[uuid.UUID]) -> None:
            self.in_flight(aget, keys, flight)

        def peer_one(key: uuid.UUID) -> None:
            assert PeerUser.objects.get(id=key).id == key

        def peer(keys: list[uuid.UUID]) -> None:
            self.in_threads(peer_one, keys)

        def raw_run(keys: list[uuid.UUID]) -> None:
            results = execute_concurrent_with_args(raw.session, raw.get_user, [(k,) for k in keys],
                                                   concurrency=flight)
            for _ok, rows in check_concurrent(results, "concurrent gets"):
                assert rows.one() is not None

        w = self._keyed(f"{n:,} gets, {flight} in flight", "get", n, self.user_keys, ours, raw_run, peer, "")
        w.note = (f"ours: asyncio objects.aget under a semaphore of {flight}; raw: execute_concurrent_with_args"
                  f"(concurrency={flight}); peer: synchronous get() on {self.args.peer_threads} threads")
        return w

    def ann(self) -> Workload:
        n, raw = self.args.ann_queries, self.raw

        def queries(r: int) -> list[list[float]]:
            rng = random.Random(1000 + r)
            return [random_vector(rng) for _ in range(n)]

        def ours(vectors: list[list[float]]) -> None:
            for vector in vectors:
                assert len(list(OursVector.objects.ann("embedding", vector).limit(VECTOR_K))) == VECTOR_K

        def ours_scored(vectors: list[list[float]]) -> None:
            for vector in vectors:
                assert len(list(OursVector.objects.ann("embedding", vector, score=True).limit(VECTOR_K))) == VECTOR_K

        def raw_run(vectors: list[list[float]]) -> None:
            execute, ps = raw.session.execute, raw.ann
            for vector in vectors:
                assert len(list(execute(ps, (vector, VECTOR_K)))) == VECTOR_K

        warm = queries(99)[:20]
        return Workload(f"ann k={VECTOR_K}", "query", n, [
            Variant("ours", "ours", ours, queries, lambda: ours(warm)),
            Variant("ours", "ours score=True", ours_scored, queries, lambda: ours_scored(warm)),
            Variant("raw", "raw", raw_run, queries, lambda: raw_run(warm)),
        ], note=f"objects.ann('embedding', v).limit({VECTOR_K}) over {VECTOR_ROWS:,} vectors of {VECTOR_DIM} "
                "floats (cosine index), instances built; score=True also selects similarity_cosine; raw: prepared "
                "SELECT id, embedding ... ORDER BY embedding ANN OF ? LIMIT ?, tuples; peer: no vector column",
            not_applicable={"peer": "no vector column"})

    def workloads(self) -> Iterator[Callable[[], Workload]]:
        yield self.create
        yield self.get
        yield self.update
        for size in self.args.sizes:
            yield lambda size=size: self.iterate(size)  # type: ignore[misc]
        yield self.batch
        yield self.concurrent_create
        yield self.concurrent_get
        yield self.get_wide
        yield self.ann

    # -- memory -----------------------------------------------------------------------

    def memory(self) -> list[dict[str, Any]]:
        """tracemalloc: the peak while reading, and what stays allocated while the result is held."""
        fetch, raw = self.args.fetch_size, self.raw
        hold = self.args.memory_sizes[-1]
        out = []

        def measure(contender: str, what: str, size: int, fn: Callable[[], Any]) -> None:
            gc.collect()
            tracemalloc.start()
            try:
                base, _ = tracemalloc.get_traced_memory()
                result = fn()
                held, peak = tracemalloc.get_traced_memory()
                count = len(result) if isinstance(result, list) else result
                del result
            finally:
                tracemalloc.stop()
            if count != size:
                raise RuntimeError(f"{contender} {what}: {count} rows, expected {size}")
            out.append({"contender": contender, "what": what, "rows": size, "peak_bytes": peak - base,
                        "held_bytes": held - base if what.startswith("hold") else 0})
            print(f"  memory {contender:<5} {what:<28} {size:>7,} rows: peak {fmt_bytes(peak - base)}", flush=True)

        def stream_ours(size: int) -> int:
            return sum(1 for _ in OursEvent.objects.filter(bucket=size).fetch_size(fetch).iterator())

        def stream_raw(size: int) -> int:
            return sum(1 for _ in raw.session.execute(raw.iterate, (size,)))

        holders = {
            "ours": ("hold list(qs)", lambda: list(OursEvent.objects.filter(bucket=hold).fetch_size(fetch))),
            "raw": ("hold list(rows) of tuples", lambda: list(raw.session.execute(raw.iterate, (hold,)))),
            "peer": ("hold list(qs)",
                     lambda: list(PeerEvent.objects.filter(bucket=hold).limit(None).fetch_size(fetch))),
        }
        for contender in CONTENDERS:
            what, fn = holders[contender]
            measure(contender, what, hold, fn)
        for size in self.args.memory_sizes:
            measure("ours", "stream qs.iterator()", size, lambda size=size: stream_ours(size))
            measure("raw", "stream for row in rows", size, lambda size=size: stream_raw(size))
        return out


# --------------------------------------------------------------------------- setup


def create_schema(raw: Raw, hosts: list[str], cluster_options: dict[str, Any]) -> None:
    management.drop_keyspace(KEYSPACE)
    management.create_keyspace_simple(KEYSPACE, 1)
    peer_connection.setup(hosts, KEYSPACE, **cluster_options)
    for model in (OursUser, OursWide, OursEvent, OursVector):
        management.sync_table(model)
    for peer_model in (PeerUser, PeerWide):
        peer_management.sync_table(peer_model)
    wide = ", ".join(f"{name} {kind}" for name, kind in WIDE)
    raw.session.execute(f"CREATE TABLE {KEYSPACE}.raw_user ({USER_COLUMNS})")
    raw.session.execute(f"CREATE TABLE {KEYSPACE}.raw_wide (id uuid PRIMARY KEY, {wide})")
    raw.cluster.control_connection.wait_for_schema_agreement()
    raw.prepare_statements()


def cassandra_version(raw: Raw) -> str:
    row = raw.session.execute("SELECT release_version FROM system.local").one()
    return str(row[0]) if row else "?"


# --------------------------------------------------------------------------- report


def fmt_us(value: Optional[float]) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def fmt_rate(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def fmt_ratio(a: Optional[float], b: Optional[float]) -> str:
    return "n/a" if a is None or b is None or not b else f"{a / b:.2f}"


def fmt_bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(value)


def summarize(w: Workload) -> list[dict[str, Any]]:
    """One line per way ours does the workload, against the raw driver's and the peer's medians."""
    others = {v.contender: v for v in w.variants if v.contender != "ours"}
    lines = []
    for v in w.variants:
        if v.contender != "ours":
            continue
        name = w.name if v.label == "ours" else f"{w.name} {v.label.removeprefix('ours ')}"
        line: dict[str, Any] = {"workload": name, "unit": w.unit, "n": w.n}
        for contender, variant in (("ours", v), ("raw", others.get("raw")), ("peer", others.get("peer"))):
            line[f"{contender}_cpu_us"] = variant.cpu_us(w.n) if variant else None
            line[f"{contender}_wall_ops"] = variant.wall_ops(w.n) if variant else None
        lines.append(line)
    return lines


HEADERS = ["workload", "unit", "ours cpu µs/op", "raw cpu µs/op", "peer cpu µs/op", "ours/raw", "ours/peer",
           "ours ops/s", "raw ops/s", "peer ops/s"]


def table(lines: list[dict[str, Any]]) -> str:
    cells = [[ln["workload"], ln["unit"], fmt_us(ln["ours_cpu_us"]), fmt_us(ln["raw_cpu_us"]),
              fmt_us(ln["peer_cpu_us"]), fmt_ratio(ln["ours_cpu_us"], ln["raw_cpu_us"]),
              fmt_ratio(ln["ours_cpu_us"], ln["peer_cpu_us"]), fmt_rate(ln["ours_wall_ops"]),
              fmt_rate(ln["raw_wall_ops"]), fmt_rate(ln["peer_wall_ops"])] for ln in lines]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADERS)]

    def row(values: list[str]) -> str:
        return "  ".join(v.ljust(wd) if i < 2 else v.rjust(wd) for i, (v, wd) in enumerate(zip(values, widths)))

    return "\n".join([row(HEADERS), row(["-" * wd for wd in widths]), *(row(c) for c in cells)])


def memory_table(memory: list[dict[str, Any]]) -> str:
    out = [f"{'contender':<10}{'what':<28}{'rows':>9}{'peak':>14}{'held':>14}{'peak/row':>10}"]
    for m in memory:
        held = fmt_bytes(m["held_bytes"]) if m["what"].startswith("hold") else "-"
        out.append(f"{m['contender']:<10}{m['what']:<28}{m['rows']:>9,}{fmt_bytes(m['peak_bytes']):>14}"
                   f"{held:>14}{m['peak_bytes'] / m['rows']:>9,.0f}B")
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark cqlengine against the raw driver and cassandra.cqlengine.")
    parser.add_argument("--hosts", default=os.environ.get("CQLENGINE_TEST_HOSTS", "127.0.0.1"),
                        help="comma-separated contact points (default: $CQLENGINE_TEST_HOSTS or 127.0.0.1)")
    parser.add_argument("--quick", action="store_true", help="fewer operations and smaller partitions: under a minute")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default 7; --quick 5)")
    parser.add_argument("-n", type=int, help="ops per sample of create/get/update/get 20 columns "
                                             "(default 1000; --quick 200)")
    parser.add_argument("--sizes", help="partition sizes to iterate, comma-separated (default 1000,10000,100000; "
                                        "--quick 1000,10000)")
    parser.add_argument("--iterate-rows", type=int, help="rows per sample at least: small partitions are read "
                                                         "several times (default 20000; --quick 10000)")
    parser.add_argument("--memory-sizes", help="iterator() sizes for the memory table; the largest is also held "
                                               "as a list (default 10000,100000; --quick 10000,20000)")
    parser.add_argument("--fetch-size", type=int, default=5000, help="page size of every read (default 5000)")
    parser.add_argument("--batch-size", type=int, default=50, help="inserts per batch (default 50)")
    parser.add_argument("--batches", type=int, help="batches per sample (default 20; --quick 6)")
    parser.add_argument("--concurrent", type=int, help="ops per sample of the concurrent workloads "
                                                       "(default 5000; --quick 1000)")
    parser.add_argument("--ann-queries", type=int, help="ANN queries per sample (default 200; --quick 50)")
    parser.add_argument("--in-flight", type=int, default=100, help="requests in flight, ours and raw (default 100)")
    parser.add_argument("--peer-threads", type=int, default=8, help="threads of the peer's concurrent workloads "
                                                                    "(default 8)")
    parser.add_argument("--nagle", action="store_true",
                        help="leave Nagle's algorithm on for every contender (the driver's default; cqlengine's "
                             "own clusters set TCP_NODELAY, and by default so do raw and the peer here)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc measurements")
    parser.add_argument("--no-acsylla", action="store_true",
                        help="skip the transports table (cqlengine on acsylla; skipped anyway without acsylla)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write results (default {RESULTS})")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {"rounds": 5 if quick else 7, "n": 200 if quick else 1000, "iterate_rows": 10000 if quick else 20000,
                "batches": 6 if quick else 20, "concurrent": 1000 if quick else 5000,
                "ann_queries": 50 if quick else 200,
                "sizes": "1000,10000" if quick else "1000,10000,100000",
                "memory_sizes": "10000,20000" if quick else "10000,100000"}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("sizes", "memory_sizes"):
        try:
            setattr(args, key, sorted({int(s) for s in getattr(args, key).split(",") if s.strip()}))
        except ValueError:
            parser.error(f"--{key.replace('_', '-')} takes comma-separated integers")
        if not getattr(args, key) or min(getattr(args, key)) < 1:
            parser.error(f"--{key.replace('_', '-')} needs positive sizes")
    for key in ("rounds", "n", "iterate_rows", "batches", "concurrent", "fetch_size", "batch_size", "in_flight",
                "peer_threads", "ann_queries"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1")
    return args


def run_transports(bench: Bench, hosts: list[str], args: argparse.Namespace, samples: list[dict[str, Any]],
                   notes: list[str]) -> list[dict[str, Any]]:
    """The transports table's workloads (see ``transports.py``): one summary line each."""
    lines = []
    tr = transports.Transports(bench, hosts, KEYSPACE, USER_FIELDS,
                                 {"user": OursUser, "event": OursEvent, "vector": OursVector}, VECTOR_K, random_vector)
    try:
        for make in tr.workloads():
            w = make()
            t0 = time.perf_counter()
            run_workload(w, args.rounds)
            line = transports.summarize(w)
            lines.append(line)
            notes.append(f"transports, {w.name}: {w.note}")
            for v in w.variants:
                samples += [{"workload": f"transports: {w.name}", "unit": w.unit, "contender": v.contender,
                             "variant": v.label, **s} for s in v.samples]
            print(f"  transports: {w.name:<20} {time.perf_counter() - t0:5.1f} s   cpu µs/op: raw driver "
                  f"{fmt_us(line['raw_driver_cpu_us'])}  raw acsylla {fmt_us(line['raw_acsylla_cpu_us'])}  "
                  f"ours acsylla {fmt_us(line['ours_acsylla_cpu_us'])}", flush=True)
    finally:
        tr.close()
    return lines


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    print(f"connecting to {','.join(hosts)}; keyspace {KEYSPACE} is created now and dropped at the end", flush=True)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("cassandra.protocol").addFilter(BatchSizeWarnings())
    logging.getLogger("cassandra.cluster").addFilter(ConnectAdvice())
    # The driver leaves Nagle's algorithm on unless told: a request over ~8 KiB then waits for a
    # delayed ACK (about 40 ms on Linux). cqlengine's own clusters set TCP_NODELAY; all three
    # contenders get the same socket options (--nagle: the driver's default for all three).
    cluster_options: dict[str, Any] = {"sockopts": []} if args.nagle else {"sockopts": NODELAY}
    connection.setup(hosts, **cluster_options)
    raw = Raw(hosts, args.fetch_size, cluster_options)
    bench: Optional[Bench] = None
    lines: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    notes: list[str] = []
    memory: list[dict[str, Any]] = []
    transport_lines: list[dict[str, Any]] = []
    meta: dict[str, Any] = {
        "command": [sys.executable, *sys.argv] if argv is None else ["run.py", *argv],
        "platform": platform.platform(), "machine": platform.machine(), "python": platform.python_version(),
        "python_implementation": platform.python_implementation(), "cpu_count": os.cpu_count(),
        "cassandra_driver": cassandra.__version__, "cqlengine": getattr(cqlengine, "__version__", "dev"),
        "hosts": hosts, "keyspace": KEYSPACE,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    try:
        meta["cassandra"] = cassandra_version(raw)
        create_schema(raw, hosts, cluster_options)
        bench = Bench(args, raw)
        print("seeding (untimed) ...", flush=True)
        bench.seed()
        time.sleep(2)  # let the drivers' debounced schema refreshes settle before timing
        print(f"{args.rounds} rounds per workload, contenders rotated each round; medians reported", flush=True)
        for make in bench.workloads():
            w = make()
            t0 = time.perf_counter()
            run_workload(w, args.rounds)
            summary = summarize(w)
            lines += summary
            notes.append(f"{w.name}: {w.note}" if w.note else w.name)
            for v in w.variants:
                for s in v.samples:
                    samples.append({"workload": w.name, "unit": w.unit, "contender": v.contender,
                                    "variant": v.label, **s})
            ours = summary[0]
            print(f"  {w.name:<28} {time.perf_counter() - t0:5.1f} s   cpu µs/op: ours {fmt_us(ours['ours_cpu_us'])}"
                  f"  raw {fmt_us(ours['raw_cpu_us'])}  peer {fmt_us(ours['peer_cpu_us'])}", flush=True)
        if transports is not None and not args.no_acsylla:
            transport_lines = run_transports(bench, hosts, args, samples, notes)
        if not args.no_memory:
            memory = bench.memory()
    finally:
        if bench is not None:
            bench.close()
        try:
            management.drop_keyspace(KEYSPACE)
        finally:
            if "default" in peer_connection._connections:  # noqa: SLF001 - the peer has no public check
                peer_connection.unregister_connection("default")
            raw.shutdown()
            connection.unregister_connection(connection.DEFAULT_CONNECTION)
    meta["elapsed_s"] = round(time.perf_counter() - started, 1)
    meta["batch_size_warnings"] = BatchSizeWarnings.count

    print()
    print(f"cqlengine {meta['cqlengine']} | raw cassandra-driver {meta['cassandra_driver']} (prepared, tuple_factory) "
          f"| peer cassandra.cqlengine {meta['cassandra_driver']}")
    print(f"Cassandra {meta.get('cassandra', '?')} at {','.join(hosts)} | Python {meta['python']} | "
          f"{meta['platform']} | {meta['cpu_count']} CPUs")
    print(f"median of {args.rounds} rounds, contenders interleaved and rotated per round; cpu = client CPU "
          "(time.process_time, driver threads included) per op; ops/s = wall clock")
    print("ours/raw and ours/peer are ratios of cpu µs/op: below 1 means ours spends less CPU")
    print()
    print(table(lines))
    print()
    if transport_lines:
        print("transports: ours on acsylla (connection.setup(..., transport='acsylla'), awaited API) beside "
              "cassandra-driver and acsylla alone; ratios of cpu µs/op (gets/s per client core: ours/raw)")
        print(transports.table(transport_lines, fmt_us, fmt_ratio, fmt_rate))
        print()
    for note in notes:
        print(f"  {note}")
    if BatchSizeWarnings.count:
        print(f"  the server warned {BatchSizeWarnings.count} times that a batch exceeds its "
              "batch_size_warn_threshold (5 KiB by default); those warnings are counted, not printed")
    if args.nagle:
        print("  --nagle: TCP_NODELAY off (the driver's default): requests over ~8 KiB, such as the batches, "
              "wait ~40 ms for a delayed ACK")
    if memory:
        print()
        print(f"peak memory (tracemalloc; fetch_size {args.fetch_size}): 'hold' keeps every row, "
              "'stream' keeps none")
        print(memory_table(memory))
        streams = [m for m in memory if m["contender"] == "ours" and m["what"].startswith("stream")]
        if len(streams) > 1:
            first, last = streams[0], streams[-1]
            print(f"ours qs.iterator() peak: {fmt_bytes(first['peak_bytes'])} at {first['rows']:,} rows, "
                  f"{fmt_bytes(last['peak_bytes'])} at {last['rows']:,} rows "
                  f"(x{last['peak_bytes'] / first['peak_bytes']:.2f} for x{last['rows'] / first['rows']:.0f} rows)")
    print()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "summary": lines, "transports": transport_lines, "notes": notes,
                                     "memory": memory, "samples": samples}, indent=1, default=str) + "\n")
    print(f"wrote {args.json} ({len(samples)} samples); total {meta['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
