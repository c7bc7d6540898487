"""Benchmark cqlengine against the peer mapper, ``cassandra.cqlengine``.

Both mappers run in this one process against the same Cassandra, in the
keyspace ``cqlengine_bench``; each has its own tables with the same columns.
Each workload is timed with ``time.perf_counter`` after warm-up iterations;
the reported figure is the median of the repeats. The peer is imported here,
and only here, as the yardstick.

    .venv/bin/python benchmarks/run.py            # defaults: about a minute on 2 cores
    .venv/bin/python benchmarks/run.py --help

Results are printed as a table and written as JSON to
``benchmarks/results/latest.json`` (or ``--json PATH``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

# The peer's schema helpers warn unless this is set; the benchmark manages its own keyspace.
os.environ.setdefault("CQLENG_ALLOW_SCHEMA_MANAGEMENT", "1")

import cassandra  # noqa: E402
from cassandra.concurrent import execute_concurrent_with_args  # noqa: E402
from cassandra.cqlengine import columns as peer_columns  # noqa: E402
from cassandra.cqlengine import connection as peer_connection  # noqa: E402
from cassandra.cqlengine import management as peer_management  # noqa: E402
from cassandra.cqlengine import models as peer_models  # noqa: E402

import cqlengine  # noqa: E402
from cqlengine import columns, connection, management  # noqa: E402
from cqlengine.models import Model  # noqa: E402

KEYSPACE = "cqlengine_bench"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
BUCKET = 0  # the partition that workload 3 reads


# --------------------------------------------------------------------------- models
# Same columns on both sides; each mapper writes its own table.


class OursUser(Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "ours_user"
    id = columns.UUID(primary_key=True)
    name = columns.Text()
    email = columns.Text()
    age = columns.Integer()
    score = columns.Double()
    active = columns.Boolean()
    created = columns.DateTime()


class OursEvent(Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "ours_event"
    bucket = columns.Integer(partition_key=True)
    seq = columns.Integer(primary_key=True)
    payload = columns.Text()
    value = columns.Double()
    ts = columns.DateTime()


class PeerUser(peer_models.Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "peer_user"
    id = peer_columns.UUID(primary_key=True)
    name = peer_columns.Text()
    email = peer_columns.Text()
    age = peer_columns.Integer()
    score = peer_columns.Double()
    active = peer_columns.Boolean()
    created = peer_columns.DateTime()


class PeerEvent(peer_models.Model):
    __keyspace__ = KEYSPACE
    __table_name__ = "peer_event"
    bucket = peer_columns.Integer(partition_key=True)
    seq = peer_columns.Integer(primary_key=True)
    payload = peer_columns.Text()
    value = peer_columns.Double()
    ts = peer_columns.DateTime()


MAPPERS = {
    "ours": {"user": OursUser, "event": OursEvent},
    "peer": {"user": PeerUser, "event": PeerEvent},
}


# --------------------------------------------------------------------------- data


def now_ms() -> dt.datetime:
    # Cassandra stores milliseconds: a value that round-trips unchanged.
    t = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def user_values(key: uuid.UUID, i: int) -> dict[str, Any]:
    return {
        "id": key, "name": f"user {i}", "email": f"user{i}@example.com", "age": 20 + i % 60,
        "score": i * 0.5, "active": i % 2 == 0, "created": now_ms(),
    }


def user_rows(n: int) -> list[dict[str, Any]]:
    """Rows as the driver's dict_factory returns them (keys are CQL column names)."""
    return [user_values(uuid.uuid4(), i) for i in range(n)]


# --------------------------------------------------------------------------- timing


class Timed:
    """The samples of one mapper on one workload: seconds per repeat of ``n`` operations."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.samples: list[float] = []
        self.cpu_samples: list[float] = []

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ops_per_s(self) -> float:
        return self.n / self.median if self.median else float("inf")

    @property
    def us_per_op(self) -> float:
        return self.median / self.n * 1e6

    @property
    def cpu_us_per_op(self) -> float:
        """Client CPU (this process, driver threads included) per op: the part the server cannot hide."""
        return statistics.median(self.cpu_samples) / self.n * 1e6

    def add(self, fn: Callable[..., None], *args: Any) -> None:
        gc.collect()
        cpu = time.process_time()
        start = time.perf_counter()
        fn(*args)
        self.samples.append(time.perf_counter() - start)
        self.cpu_samples.append(time.process_time() - cpu)

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "ops_per_s": self.ops_per_s, "us_per_op": self.us_per_op,
                "cpu_us_per_op": self.cpu_us_per_op, "median_s": self.median, "samples_s": self.samples,
                "cpu_samples_s": self.cpu_samples}


class Stats:
    """Deltas of our connection's counters around one workload."""

    def __init__(self) -> None:
        self.conn = connection.get_connection()
        s = self.conn.stats
        self.before = (s.prepared_misses, s.prepared_hits, s.executed)

    def delta(self) -> dict[str, int]:
        s = self.conn.stats
        misses, hits, executed = self.before
        return {"prepared": s.prepared_misses - misses, "prepared_reused": s.prepared_hits - hits,
                "executed": s.executed - executed, "cache_len": self.conn.prepared_cache_len}


# --------------------------------------------------------------------------- workloads
# Each workload builds, per mapper, a callable ``run(repeat)`` that performs
# ``n`` operations; ``warm()`` runs a few operations that are not timed.


class Workload:
    name = ""
    unit = "op"
    server = True
    description = ""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def size(self) -> int:
        raise NotImplementedError

    def prepare(self) -> None:
        """Untimed set-up shared by both mappers."""

    def warm(self, mapper: str) -> None:
        raise NotImplementedError

    def run(self, mapper: str, repeat: int) -> None:
        raise NotImplementedError


class Create(Workload):
    name = "create"
    description = "Model.create(...) one row at a time (INSERT)"

    def size(self) -> int:
        return self.args.n

    def prepare(self) -> None:
        n = self.args.n
        self.values = {
            mapper: [[user_values(uuid.uuid4(), i) for i in range(n)] for _ in range(self.args.repeats)]
            for mapper in MAPPERS
        }

    def warm(self, mapper: str) -> None:
        model = MAPPERS[mapper]["user"]
        for i in range(self.args.warmup):
            model.create(**user_values(uuid.uuid4(), i))

    def run(self, mapper: str, repeat: int) -> None:
        model = MAPPERS[mapper]["user"]
        for values in self.values[mapper][repeat]:
            model.create(**values)


class OnSeededUsers(Workload):
    """A workload over ``n`` users written beforehand (``self.keys``: their ids per mapper)."""

    def size(self) -> int:
        return self.args.n

    def prepare(self) -> None:
        self.keys = {mapper: seed_users(mapper, self.args.n) for mapper in MAPPERS}


class Get(OnSeededUsers):
    name = "get"
    description = "Model.objects.get(id=...) point reads of existing rows"

    def warm(self, mapper: str) -> None:
        model = MAPPERS[mapper]["user"]
        for key in self.keys[mapper][: self.args.warmup]:
            model.objects.get(id=key)

    def run(self, mapper: str, repeat: int) -> None:
        model = MAPPERS[mapper]["user"]
        keys = self.keys[mapper][:]
        random.Random(repeat).shuffle(keys)
        for key in keys:
            obj = model.objects.get(id=key)
            assert obj.id == key


class Iterate(Workload):
    name = "iterate"
    unit = "row"
    description = "iterate one partition (clustering column) with fetch_size; one op is one row"

    def size(self) -> int:
        return self.args.rows

    def prepare(self) -> None:
        for mapper in MAPPERS:
            seed_events(mapper, self.args.rows)

    def query(self, mapper: str) -> Any:
        # limit(None): the peer caps queries at 10 000 rows by default.
        return MAPPERS[mapper]["event"].objects.filter(bucket=BUCKET).limit(None).fetch_size(self.args.fetch_size)

    def warm(self, mapper: str) -> None:
        self.consume(mapper)

    def consume(self, mapper: str) -> int:
        count = 0
        for obj in self.query(mapper):
            count += obj.seq is not None
        if count != self.args.rows:
            raise RuntimeError(f"{mapper}: iterated {count} rows, expected {self.args.rows}")
        return count

    def run(self, mapper: str, repeat: int) -> None:
        self.consume(mapper)


class Update(OnSeededUsers):
    name = "update"
    description = "Model.objects(id=...).update(...) of two columns (UPDATE, no read)"

    def warm(self, mapper: str) -> None:
        model = MAPPERS[mapper]["user"]
        for i, key in enumerate(self.keys[mapper][: self.args.warmup]):
            model.objects(id=key).update(name=f"warm {i}", age=i)

    def run(self, mapper: str, repeat: int) -> None:
        model = MAPPERS[mapper]["user"]
        for i, key in enumerate(self.keys[mapper]):
            model.objects(id=key).update(name=f"renamed {repeat} {i}", age=repeat * 100 + i % 100)


class Render(Workload):
    name = "render"
    server = False
    description = "client only: build filter(bucket=, seq__gte=).limit() and render CQL + params"

    def size(self) -> int:
        return self.args.client_n

    def warm(self, mapper: str) -> None:
        self.loop(mapper, self.args.warmup)

    def loop(self, mapper: str, n: int) -> None:
        model = MAPPERS[mapper]["event"]
        if mapper == "ours":
            for i in range(n):
                model.objects.filter(bucket=i, seq__gte=i).limit(100)._select_statement().render()
        else:
            for i in range(n):
                statement = model.objects.filter(bucket=i, seq__gte=i).limit(100)._select_query()
                str(statement), statement.get_context()

    def run(self, mapper: str, repeat: int) -> None:
        self.loop(mapper, self.args.client_n)


class Construct(Workload):
    name = "construct"
    server = False
    description = "client only: Model._construct_instance(row) from driver-shaped dict rows"

    def size(self) -> int:
        return self.args.client_n

    def prepare(self) -> None:
        self.rows = user_rows(self.args.client_n)

    def warm(self, mapper: str) -> None:
        model = MAPPERS[mapper]["user"]
        for row in self.rows[: self.args.warmup]:
            model._construct_instance(row)

    def run(self, mapper: str, repeat: int) -> None:
        construct = MAPPERS[mapper]["user"]._construct_instance
        for row in self.rows:
            construct(row)


WORKLOADS: list[type[Workload]] = [Create, Get, Iterate, Update, Render, Construct]


# --------------------------------------------------------------------------- seeding (untimed)


def _table(mapper: str, kind: str) -> str:
    return f"{KEYSPACE}.{mapper}_{kind}"


def seed_users(mapper: str, n: int) -> list[uuid.UUID]:
    """Insert ``n`` users straight through the driver; returns their keys."""
    session = connection.get_session()
    statement = session.prepare(
        f"INSERT INTO {_table(mapper, 'user')} (id, name, email, age, score, active, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    rows = [user_values(uuid.uuid4(), i) for i in range(n)]
    params = [(r["id"], r["name"], r["email"], r["age"], r["score"], r["active"], r["created"]) for r in rows]
    _check_concurrent(execute_concurrent_with_args(session, statement, params, concurrency=64))
    return [r["id"] for r in rows]


def seed_events(mapper: str, rows: int) -> None:
    session = connection.get_session()
    session.execute(f"DELETE FROM {_table(mapper, 'event')} WHERE bucket = %s", [BUCKET])
    statement = session.prepare(
        f"INSERT INTO {_table(mapper, 'event')} (bucket, seq, payload, value, ts) VALUES (?, ?, ?, ?, ?)"
    )
    ts = now_ms()
    params = [(BUCKET, i, f"event payload number {i:06d}", i / 7.0, ts) for i in range(rows)]
    _check_concurrent(execute_concurrent_with_args(session, statement, params, concurrency=64))


def _check_concurrent(results: Any) -> None:
    failures = [result for ok, result in results if not ok]
    if failures:
        raise RuntimeError(f"seeding failed: {failures[0]!r} ({len(failures)} failures)")


# --------------------------------------------------------------------------- memory


def iterate_peak(consume: Callable[[], Any]) -> int:
    """Peak bytes allocated (above the starting point) while ``consume`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        consume()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def measure_memory(workload: Iterate) -> dict[str, int]:
    def ours_iterator() -> None:
        count = sum(1 for _ in workload.query("ours").iterator())
        assert count == workload.args.rows

    return {
        "ours": iterate_peak(lambda: workload.consume("ours")),
        "peer": iterate_peak(lambda: workload.consume("peer")),
        "ours_iterator": iterate_peak(ours_iterator),
    }


# --------------------------------------------------------------------------- setup


def connect(hosts: list[str]) -> None:
    connection.setup(hosts)
    management.create_keyspace_simple(KEYSPACE, 1)
    peer_connection.setup(hosts, KEYSPACE)
    for model in (OursUser, OursEvent):
        management.drop_table(model)
        management.sync_table(model)
    for peer_model in (PeerUser, PeerEvent):
        peer_management.drop_table(peer_model)
        peer_management.sync_table(peer_model)


def disconnect() -> None:
    peer_connection.unregister_connection("default")
    connection.unregister_connection(connection.DEFAULT_CONNECTION)


# --------------------------------------------------------------------------- report


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def fmt_us(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def fmt_bytes(value: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024  # type: ignore[assignment]
    return str(value)


def print_table(results: list[dict[str, Any]], memory: Optional[dict[str, int]], meta: dict[str, Any]) -> None:
    headers = ["workload", "unit", "n", "ours ops/s", "peer ops/s", "ours µs/op", "peer µs/op",
               "ours/peer", "ours cpu µs", "peer cpu µs", "prepared"]
    lines = []
    for r in results:
        lines.append([
            r["workload"], r["unit"], f"{r['n']:,}", fmt_rate(r["ours"]["ops_per_s"]),
            fmt_rate(r["peer"]["ops_per_s"]), fmt_us(r["ours"]["us_per_op"]), fmt_us(r["peer"]["us_per_op"]),
            f"{r['speedup']:.2f}x", fmt_us(r["ours"]["cpu_us_per_op"]), fmt_us(r["peer"]["cpu_us_per_op"]),
            str(r["ours_stats"]["prepared"]) if r["server"] else "-",
        ])
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    right = set(range(2, len(headers)))

    def row(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print()
    print(f"cqlengine {meta['cqlengine']} vs cassandra.cqlengine (cassandra-driver {meta['cassandra_driver']}), "
          f"Cassandra at {','.join(meta['hosts'])}, Python {meta['python']}")
    print(f"median of {meta['repeats']} repeats after {meta['warmup']} warm-up ops; "
          "ours/peer > 1 means ours is faster")
    print("µs/op is wall time; cpu µs is this process's CPU time per op (mapper + driver, no server)")
    print()
    print(row(headers))
    print(row(["-" * w for w in widths]))
    for line in lines:
        print(row(line))
    print()
    print("prepared = statements our mapper prepared during the workload (warm-up included); "
          "every later execution reused them:")
    for r in results:
        if r["server"]:
            s = r["ours_stats"]
            print(f"  {r['workload']:<10} prepared {s['prepared']}, reused {s['prepared_reused']:,}, "
                  f"executed {s['executed']:,}")
    if memory is not None:
        print()
        print(f"peak memory while iterating the {meta['rows']:,}-row partition (tracemalloc, fetch_size "
              f"{meta['fetch_size']}):")
        print(f"  ours  for obj in qs          {fmt_bytes(memory['ours']):>12}")
        print(f"  ours  for obj in qs.iterator() {fmt_bytes(memory['ours_iterator']):>10}")
        print(f"  peer  for obj in qs          {fmt_bytes(memory['peer']):>12}")
    print()


# --------------------------------------------------------------------------- main


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    names = [w.name for w in WORKLOADS]
    parser = argparse.ArgumentParser(description="Benchmark cqlengine against cassandra.cqlengine.")
    parser.add_argument("--hosts", default=os.environ.get("CQLENGINE_TEST_HOSTS", "127.0.0.1"),
                        help="comma-separated contact points (default: $CQLENGINE_TEST_HOSTS or 127.0.0.1)")
    parser.add_argument("-n", "--n", type=int, default=1000,
                        help="operations per repeat for create, get and update (default 1000)")
    parser.add_argument("--rows", type=int, default=5000, help="rows in the iterated partition (default 5000)")
    parser.add_argument("--fetch-size", type=int, default=1000, help="page size when iterating (default 1000)")
    parser.add_argument("--client-n", type=int, default=20000,
                        help="operations per repeat for the client-only workloads (default 20000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported (default 3)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed warm-up ops per mapper (default 100)")
    parser.add_argument("--workloads", default=",".join(names),
                        help=f"comma-separated subset of {','.join(names)}")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass of 'iterate'")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write results (default {RESULTS})")
    args = parser.parse_args(argv)
    chosen = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    args.workloads = chosen
    for option in ("n", "rows", "fetch_size", "client_n", "repeats"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    meta = {
        "cqlengine": getattr(cqlengine, "__version__", "dev"), "cassandra_driver": cassandra.__version__,
        "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "hosts": hosts, "keyspace": KEYSPACE, "n": args.n, "rows": args.rows, "fetch_size": args.fetch_size,
        "client_n": args.client_n, "repeats": args.repeats, "warmup": args.warmup,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    print(f"connecting to {','.join(hosts)}; keyspace {KEYSPACE} (tables are recreated)", flush=True)
    connect(hosts)
    results: list[dict[str, Any]] = []
    memory: Optional[dict[str, int]] = None
    started = time.perf_counter()
    try:
        for workload_class in WORKLOADS:
            if workload_class.name not in args.workloads:
                continue
            workload = workload_class(args)
            print(f"{workload.name:<10} {workload.description}", flush=True)
            workload.prepare()
            n = workload.size()
            stats = Stats()
            timed = {mapper: Timed(n) for mapper in MAPPERS}
            for mapper in MAPPERS:
                workload.warm(mapper)
            for repeat in range(args.repeats):
                # Alternate who goes first so that drift in the server hurts both alike.
                order = list(MAPPERS) if repeat % 2 == 0 else list(reversed(MAPPERS))
                for mapper in order:
                    timed[mapper].add(workload.run, mapper, repeat)
            ours, peer = timed["ours"], timed["peer"]
            results.append({
                "workload": workload.name, "unit": workload.unit, "description": workload.description,
                "server": workload.server, "n": n, "ours": ours.as_dict(), "peer": peer.as_dict(),
                "speedup": ours.ops_per_s / peer.ops_per_s, "ours_stats": stats.delta(),
            })
            if isinstance(workload, Iterate) and not args.no_memory:
                memory = measure_memory(workload)
                results[-1]["peak_memory_bytes"] = memory
    finally:
        disconnect()
    meta["elapsed_s"] = round(time.perf_counter() - started, 1)
    print_table(results, memory, meta)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    print(f"wrote {args.json} ({meta['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
