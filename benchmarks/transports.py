"""The transports table of ``make bench``: cqlengine on acsylla beside both drivers alone.

Three contenders, in the benchmark's process, on the same node and tables:

- ``raw driver``: cassandra-driver alone (the ``raw`` contender of the main table);
- ``raw acsylla``: acsylla alone, its own session and prepared statements, awaited
  on the benchmark's event loop, rows read as tuples;
- ``ours acsylla``: cqlengine's awaited API on a connection with ``transport="acsylla"``.

Imported by ``run.py`` only when acsylla is installed.
"""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, Callable, Optional

import acsylla
from cassandra.concurrent import execute_concurrent_with_args
from harness import Variant, Workload

from cqlengine import connection
from cqlengine.models import Model

NAME = "bench-acsylla"
CONTENDERS = ("raw driver", "raw acsylla", "ours acsylla")


class Transports:
    """The workloads of the table; ``bench`` is run.py's ``Bench`` (its loop, keys, raw driver, arguments)."""

    def __init__(self, bench: Any, hosts: list[str], keyspace: str, user_fields: tuple[str, ...],
                 models: dict[str, type[Model]], vector_k: int, random_vector: Callable[[Any], list[float]]) -> None:
        self.bench = bench
        self.keyspace = keyspace
        self.fields = user_fields
        self.k = vector_k
        self.random_vector = random_vector
        connection.register_connection(NAME, hosts=hosts, transport="acsylla", cluster_options={})
        # run.py's own models (by name), their querysets on the acsylla connection
        self.models = models
        self.q = {name: model.objects.using(connection=NAME) for name, model in models.items()}
        self.loop: asyncio.AbstractEventLoop = bench.loop
        self.session = self.run(self._connect(hosts))
        ks, names = keyspace, ", ".join(user_fields)
        prepare = self.session.create_prepared
        self.get_user = self.run(prepare(f"SELECT {names} FROM {ks}.raw_user WHERE id = ?"))
        self.insert_user = self.run(prepare(f"INSERT INTO {ks}.raw_user ({names}) VALUES (?, ?, ?, ?, ?, ?)"))
        self.iterate_events = self.run(prepare(f"SELECT bucket, seq, payload, value, ts FROM {ks}.event "
                                               "WHERE bucket = ?"))
        self.ann_query = self.run(prepare(f"SELECT id, embedding FROM {ks}.vec ORDER BY embedding ANN OF ? LIMIT ?"))

    @staticmethod
    async def _connect(hosts: list[str]) -> Any:
        return await acsylla.create_cluster(hosts, application_name="benchmark").create_session()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.session.close())
        connection.unregister_connection(NAME)

    def workloads(self) -> list[Callable[[], Workload]]:
        return [self.get, self.create, self.concurrent_get, self.bulk_create, self.iterate, self.ann]

    # -- the workloads ------------------------------------------------------------

    def _workload(self, name: str, unit: str, n: int, raw_driver: Callable[[Any], None],
                  raw_acsylla: Callable[[Any], Any], ours: Callable[[Any], Any], prepare: Callable[[str, int], Any],
                  note: str) -> Workload:
        """Each variant on data of its own (``prepare(contender, round)``); coroutines run on the loop."""
        def on_loop(fn: Callable[[Any], Any]) -> Callable[[Any], None]:
            return lambda data: self.run(fn(data))

        return Workload(name, unit, n, [
            Variant("raw driver", "raw driver", raw_driver, lambda r: prepare("raw", r)),
            Variant("raw acsylla", "raw acsylla", on_loop(raw_acsylla), lambda r: prepare("raw", r)),
            Variant("ours acsylla", "ours acsylla", on_loop(ours), lambda r: prepare("ours", r)),
        ], note=note)

    def _keys(self, contender: str, r: int, n: int) -> list[uuid.UUID]:
        return self.bench.shuffled(self.bench.user_keys[contender], r, n)

    def get(self) -> Workload:
        n, raw, users = self.bench.args.n, self.bench.raw, self.q["user"]

        def raw_driver(keys: list[uuid.UUID]) -> None:
            for key in keys:
                assert raw.session.execute(raw.get_user, (key,)).one()[0] == key

        async def raw_acsylla(keys: list[uuid.UUID]) -> None:
            execute, bind = self.session.execute, self.get_user.bind
            for key in keys:  # the row's values read, as the raw driver's row parser reads them all
                assert (await execute(bind([key]))).first().as_tuple()[0] is not None

        async def ours(keys: list[uuid.UUID]) -> None:
            for key in keys:
                assert (await users.aget(id=key)).id == key

        return self._workload("get", "get", n, raw_driver, raw_acsylla, ours, lambda c, r: self._keys(c, r, n),
                              "one at a time; ours: await Model.objects.using(connection=...).aget(id=key)")

    def create(self) -> Workload:
        n, raw, users = self.bench.args.n, self.bench.raw, self.q["user"]
        fields = self.fields

        def raw_driver(values: list[dict[str, Any]]) -> None:
            for v in values:
                raw.session.execute(raw.insert_user, tuple(v[f] for f in fields))

        async def raw_acsylla(values: list[dict[str, Any]]) -> None:
            execute, bind = self.session.execute, self.insert_user.bind
            for v in values:
                await execute(bind([v[f] for f in fields]))

        async def ours(values: list[dict[str, Any]]) -> None:
            for v in values:
                await users.acreate(**v)

        return self._workload("create", "row", n, raw_driver, raw_acsylla, ours,
                              lambda c, r: self.bench.fresh_users(n),
                              "one at a time; ours: await Model.objects.using(connection=...).acreate(...)")

    def concurrent_get(self) -> Workload:
        n, flight, raw, users = self.bench.args.concurrent, self.bench.args.in_flight, self.bench.raw, self.q["user"]

        def raw_driver(keys: list[uuid.UUID]) -> None:
            results = execute_concurrent_with_args(raw.session, raw.get_user, [(k,) for k in keys],
                                                   concurrency=flight)
            assert all(ok and rows.one() is not None for ok, rows in results)

        async def raw_acsylla(keys: list[uuid.UUID]) -> None:
            execute, bind = self.session.execute, self.get_user.bind

            async def one(key: uuid.UUID) -> None:
                assert (await execute(bind([key]))).first().as_tuple()[0] is not None

            await in_flight(one, keys, flight)

        async def ours(keys: list[uuid.UUID]) -> None:
            async def one(key: uuid.UUID) -> None:
                assert (await users.aget(id=key)).id == key

            await in_flight(one, keys, flight)

        return self._workload(f"{n:,} gets, {flight} in flight", "get", n, raw_driver, raw_acsylla, ours,
                              lambda c, r: self._keys(c, r, n),
                              f"raw driver: execute_concurrent_with_args(concurrency={flight}); acsylla: "
                              f"a semaphore of {flight}")

    def bulk_create(self) -> Workload:
        n, flight, raw, users = self.bench.args.concurrent, self.bench.args.in_flight, self.bench.raw, self.q["user"]
        fields, model = self.fields, self.models["user"]

        def raw_driver(values: list[dict[str, Any]]) -> None:
            rows = [tuple(v[f] for f in fields) for v in values]
            results = execute_concurrent_with_args(raw.session, raw.insert_user, rows, concurrency=flight)
            assert all(ok for ok, _ in results)

        async def raw_acsylla(values: list[dict[str, Any]]) -> None:
            execute, bind = self.session.execute, self.insert_user.bind

            async def one(v: dict[str, Any]) -> None:
                await execute(bind([v[f] for f in fields]))

            await in_flight(one, values, flight)

        async def ours(values: list[dict[str, Any]]) -> None:
            await users.abulk_create([model(**v) for v in values], concurrency=flight)

        return self._workload(f"{n:,} inserts, {flight} in flight", "row", n, raw_driver, raw_acsylla, ours,
                              lambda c, r: self.bench.fresh_users(n),
                              f"ours: objects.abulk_create(instances, concurrency={flight})")

    def iterate(self) -> Workload:
        size = 10_000 if 10_000 in self.bench.args.sizes else max(self.bench.args.sizes)
        raw, fetch, events = self.bench.raw, self.bench.args.fetch_size, self.q["event"]

        def raw_driver(_: Any) -> None:
            assert sum(1 for _row in raw.session.execute(raw.iterate, (size,))) == size

        async def raw_acsylla(_: Any) -> None:
            count, state = 0, None
            while True:
                result = await self.session.execute(self.iterate_events.bind([size], page_size=fetch,
                                                                             page_state=state))
                count += sum(1 for _row in (row.as_tuple() for row in result))
                if not result.has_more_pages():
                    break
                state = result.page_state()
            assert count == size

        async def ours(_: Any) -> None:
            count = 0
            async for obj in events.filter(bucket=size).fetch_size(fetch):
                count += obj.seq is not None
            assert count == size

        return self._workload(f"iterate {size // 1000}k", "row", size, raw_driver, raw_acsylla, ours,
                              lambda c, r: None, f"one partition, fetch_size {fetch}; ours: async for")

    def ann(self) -> Workload:
        import random
        n, raw, vector_rows, k = self.bench.args.ann_queries, self.bench.raw, self.q["vector"], self.k

        def queries(_c: str, r: int) -> list[list[float]]:
            rng = random.Random(1000 + r)
            return [self.random_vector(rng) for _ in range(n)]

        def raw_driver(vectors: list[list[float]]) -> None:
            for vector in vectors:
                assert len(list(raw.session.execute(raw.ann, (vector, k)))) == k

        async def raw_acsylla(vectors: list[list[float]]) -> None:
            import struct
            for vector in vectors:  # acsylla binds a vector as its bytes: big-endian float32s
                packed = struct.pack(f">{len(vector)}f", *vector)
                result = await self.session.execute(self.ann_query.bind([packed, k]))
                assert len([row.as_tuple() for row in result]) == k

        async def ours(vectors: list[list[float]]) -> None:
            for vector in vectors:
                assert len([v async for v in vector_rows.ann("embedding", vector).limit(k)]) == k

        return self._workload(f"ann k={k}", "query", n, raw_driver, raw_acsylla, ours, queries,
                              "ours: async for over objects.ann('embedding', v).limit(k)")


async def in_flight(one: Callable[[Any], Any], items: list[Any], concurrency: int) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def bounded(item: Any) -> None:
        async with semaphore:
            await one(item)

    await asyncio.gather(*(bounded(item) for item in items))


# --------------------------------------------------------------------------- the table


def summarize(w: Workload) -> dict[str, Any]:
    by = {v.contender: v for v in w.variants}
    line: dict[str, Any] = {"workload": w.name, "unit": w.unit, "n": w.n}
    for contender in CONTENDERS:
        key = contender.replace(" ", "_")
        line[f"{key}_cpu_us"] = by[contender].cpu_us(w.n)
        line[f"{key}_wall_ops"] = by[contender].wall_ops(w.n)
    return line


HEADERS = ["workload", "unit", "raw driver cpu µs/op", "raw acsylla cpu µs/op", "ours acsylla cpu µs/op",
           "ours/raw driver", "ours/raw acsylla", "raw driver ops/s", "raw acsylla ops/s", "ours acsylla ops/s"]


def table(lines: list[dict[str, Any]], fmt_us: Callable[[Optional[float]], str],
          fmt_ratio: Callable[[Optional[float], Optional[float]], str],
          fmt_rate: Callable[[Optional[float]], str]) -> str:
    cells = [[ln["workload"], ln["unit"], fmt_us(ln["raw_driver_cpu_us"]), fmt_us(ln["raw_acsylla_cpu_us"]),
              fmt_us(ln["ours_acsylla_cpu_us"]), fmt_ratio(ln["ours_acsylla_cpu_us"], ln["raw_driver_cpu_us"]),
              fmt_ratio(ln["ours_acsylla_cpu_us"], ln["raw_acsylla_cpu_us"]), fmt_rate(ln["raw_driver_wall_ops"]),
              fmt_rate(ln["raw_acsylla_wall_ops"]), fmt_rate(ln["ours_acsylla_wall_ops"])] for ln in lines]
    for ln in lines:
        if "in flight" in ln["workload"] and ln["unit"] == "get":  # what one client core serves
            per_core = [1e6 / ln[f"{c.replace(' ', '_')}_cpu_us"] for c in CONTENDERS]
            cells.append([f"{ln['workload']}: gets/s per client core", "get", *(fmt_rate(v) for v in per_core),
                          fmt_ratio(per_core[2], per_core[0]), fmt_ratio(per_core[2], per_core[1]), "", "", ""])
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADERS)]

    def row(values: list[str]) -> str:
        return "  ".join(v.ljust(wd) if i < 2 else v.rjust(wd) for i, (v, wd) in enumerate(zip(values, widths)))

    return "\n".join([row(HEADERS), row(["-" * wd for wd in widths]), *(row(c) for c in cells)])
