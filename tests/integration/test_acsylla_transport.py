"""The acsylla transport against the real server: awaited calls go through acsylla, with cassandra-driver's
semantics (paging, LWT, timestamps, TTL, errors, prepared statements after DDL), and fall back visibly."""
from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any, Iterator

import pytest
from cassandra import InvalidRequest

from cqlengine import columns, connection, management
from cqlengine.exceptions import LWTException
from cqlengine.models import Model

pytest.importorskip("acsylla", reason="acsylla is not installed (no wheel for this Python/platform?): "
                                      "pip install 'cqlengine-mapper[acsylla]'", exc_type=ImportError)

NAME = "acsylla-tests"
FUTURE = 4_102_444_800_000_000  # 2100-01-01 in microseconds


class Event(Model):
    __table_name__ = "acs_events"
    __connection__ = NAME
    day = columns.Integer(partition_key=True)
    seq = columns.Integer(primary_key=True)
    what = columns.Text()
    at = columns.DateTime()
    ref = columns.UUID()
    tags = columns.Set(columns.Text)


class Priced(Model):
    """A decimal column: acsylla 1.2 cannot read decimals, so its statements go through cassandra-driver."""

    __table_name__ = "acs_priced"
    __connection__ = NAME
    id = columns.Integer(primary_key=True)
    price = columns.Decimal()


@pytest.fixture(scope="module")
def acs(cassandra, cqlengine_connection) -> Iterator[connection.Connection]:
    conn = connection.register_connection(NAME, hosts=cassandra.contact_points, transport="acsylla",
                                          default_keyspace=cqlengine_connection.default_keyspace,
                                          cluster_options={"port": cassandra.port})
    for model in (Event, Priced, Tally):
        management.sync_table(model)
    try:
        yield conn
    finally:
        connection.unregister_connection(NAME)


@pytest.fixture
def no_driver_requests(acs, monkeypatch) -> None:
    """Any statement cassandra-driver would send for the acsylla connection fails the test."""
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"sent by cassandra-driver: {args[0]!r}")

    monkeypatch.setattr(acs.ensure_session(), "execute_async", refused)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_awaited_reads_and_writes_go_through_acsylla(acs, no_driver_requests):
    ref = uuid.uuid4()

    async def scenario() -> Any:
        created = await Event.acreate(day=1, seq=1, what="one", ref=ref, tags={"a", "b"})
        got = await Event.objects.aget(day=1, seq=1)
        listed = [e async for e in Event.objects(day=1)]
        return created, got, listed, await Event.objects(day=1).acount()

    before = acs.stats.executed
    created, got, listed, count = run(scenario())
    assert got == created and listed == [created] and count == 1
    assert got.ref == ref and got.tags == {"a", "b"} and got.what == "one"
    assert acs.stats.executed - before == 4
    assert acs.stats.transport_fallbacks == 0


def test_blocking_calls_stay_on_cassandra_driver(acs):
    Event.create(day=2, seq=1, what="sync")
    assert Event.objects.get(day=2, seq=1).what == "sync"


def test_pages_and_page_states(acs, no_driver_requests):
    async def scenario() -> Any:
        for seq in range(25):
            await Event.acreate(day=3, seq=seq)
        streamed = [e.seq async for e in Event.objects(day=3).fetch_size(10)]
        first = await Event.objects(day=3).apage(10)
        second = await Event.objects(day=3).apage(10, first.paging_state)
        return streamed, first, second

    streamed, first, second = run(scenario())
    assert streamed == list(range(25))
    assert [e.seq for e in first] == list(range(10)) and [e.seq for e in second] == list(range(10, 20))
    assert first.paging_state  # a cassandra-driver page state resumes the same query there too
    on_driver = Event.objects(day=3).using(connection=connection.DEFAULT_CONNECTION)
    assert [e.seq for e in on_driver.page(10, first.paging_state)] == list(range(10, 20))


def test_lwt_results_and_lockouts(acs):
    async def scenario() -> Any:
        await Event.if_not_exists().acreate(day=4, seq=1, what="first")
        with pytest.raises(LWTException) as refused:
            await Event.if_not_exists().acreate(day=4, seq=1, what="second")
        event = await Event.objects.aget(day=4, seq=1)
        await event.timestamp(FUTURE).adelete()  # a delete dated 2100: later writes stay hidden
        await Event.acreate(day=4, seq=1, what="after")
        return refused.value, await Event.objects(day=4).acount()

    before = acs.stats.transport_fallbacks
    refused, count = run(scenario())
    assert refused.existing["what"] == "first"
    assert count == 0
    # A conditional statement goes through cassandra-driver (its result's columns vary), each one counted.
    assert acs.stats.transport_fallbacks - before == 2
    assert any("IF NOT EXISTS" in cql and "conditional" in why for cql, why in acs.stats.fallback_shapes.items())


def test_ttl_is_set(acs, no_driver_requests):
    run(Event.ttl(600).acreate(day=5, seq=1, what="brief"))
    row = connection.get_session().execute(
        f"SELECT ttl(what) AS left FROM {acs.default_keyspace}.acs_events WHERE day = 5 AND seq = 1").one()
    assert 590 <= row["left"] <= 600


def test_errors_are_cassandra_drivers(acs):
    async def scenario() -> Any:
        return await connection.aexecute(f"SELECT nope FROM {acs.default_keyspace}.acs_events WHERE day = ?",
                                         [1], connection=NAME)

    with pytest.raises(InvalidRequest):
        run(scenario())


def test_a_type_acsylla_cannot_read_falls_back_visibly(acs):
    before = acs.stats.transport_fallbacks

    async def scenario() -> Any:
        await Priced.acreate(id=1, price=Decimal("12.50"))
        return await Priced.objects.aget(id=1)

    assert run(scenario()).price == Decimal("12.50")
    assert acs.stats.transport_fallbacks - before == 2
    assert any("acs_priced" in cql and "decimal" in why for cql, why in acs.stats.fallback_shapes.items())


def test_prepared_statements_follow_a_column_added_by_ddl(acs):
    class Grown(Model):
        __table_name__ = "acs_grown"
        __connection__ = NAME
        id = columns.Integer(primary_key=True)
        a = columns.Text()

    management.sync_table(Grown)

    async def before() -> Any:
        await Grown.acreate(id=1, a="x")
        return await Grown.objects.aget(id=1)

    assert run(before()).a == "x"

    class Grown2(Model):  # noqa: F811 - the same table, one column more
        __table_name__ = "acs_grown"
        __connection__ = NAME
        id = columns.Integer(primary_key=True)
        a = columns.Text()
        b = columns.Integer()

    management.sync_table(Grown2)

    async def after() -> Any:
        await Grown2.acreate(id=2, a="y", b=7)
        return await Grown2.objects.aget(id=2), [g.id async for g in Grown2.objects.all()]

    got, ids = run(after())
    assert got.b == 7 and sorted(ids) == [1, 2]


def test_concurrent_statements_report_every_outcome_in_order(acs, no_driver_requests):
    ks = acs.default_keyspace
    insert = f"INSERT INTO {ks}.acs_events (day, seq, what) VALUES (?, ?, ?)"
    items = [(insert, [6, seq, f"n{seq}"], None) for seq in range(20)]
    items[7] = (f"INSERT INTO {ks}.acs_events (day, seq, nope) VALUES (?, ?, ?)", [6, 7, "x"], None)

    async def scenario() -> Any:
        outcomes = await connection.aexecute_concurrently(items, concurrency=5, connection=NAME)
        return outcomes, sorted([e.seq async for e in Event.objects(day=6)])

    before = acs.stats.transport_fallbacks
    outcomes, stored = run(scenario())
    assert [ok for ok, _ in outcomes] == [seq != 7 for seq in range(20)]
    assert isinstance(outcomes[7][1], InvalidRequest) and "nope" in str(outcomes[7][1])
    assert stored == [seq for seq in range(20) if seq != 7]
    assert acs.stats.transport_fallbacks == before


def test_the_options_kept_follow_the_connection_and_profile_defaults(acs):
    from cqlengine.connection import acsylla_transport
    from cqlengine.connection.driver import NOT_SET

    def options() -> dict[str, Any]:
        return acsylla_transport.send_options(acs, None, NOT_SET, None)

    profile = acs.ensure_session().cluster.profile_manager.default
    kept = (acs.default_timeout, acs.consistency, profile.request_timeout)
    try:
        assert options()["timeout"] == profile.request_timeout
        acs.default_timeout = 3.5
        assert options()["timeout"] == 3.5
        acs.default_timeout = NOT_SET
        profile.request_timeout = 7.0
        assert options()["timeout"] == 7.0
        acs.consistency = 4  # QUORUM
        assert options()["consistency"].value == 4
    finally:
        acs.default_timeout, acs.consistency, profile.request_timeout = kept


class Tally(Model):
    __table_name__ = "acs_tally"
    __connection__ = NAME
    k = columns.Integer(primary_key=True)
    n = columns.Counter()


def test_batches_go_through_acsylla(acs, no_driver_requests):
    from cqlengine.query import BatchQuery

    async def scenario() -> Any:
        async with BatchQuery(timestamp=FUTURE - 1) as batch:
            for seq in range(3):
                await Event.batch(batch).acreate(day=7, seq=seq, what="batched")
        await Event.acreate(day=7, seq=0, what="later, but dated before the batch")
        async with BatchQuery(batch_type="COUNTER") as counted:
            await Tally.objects(k=1).batch(counted).aupdate(n=5)
        return [e.what async for e in Event.objects(day=7)], (await Tally.objects.aget(k=1)).n

    before = acs.stats.transport_fallbacks
    whats, n = run(scenario())
    assert whats == ["batched"] * 3 and n == 5
    assert acs.stats.transport_fallbacks == before


def test_a_value_of_the_wrong_type_is_refused_as_cassandra_driver_refuses_it(acs):
    # acsylla would bind an int to a text column without a word; cassandra-driver refuses it.
    insert = f"INSERT INTO {acs.default_keyspace}.acs_events (day, seq, what) VALUES (?, ?, ?)"
    with pytest.raises(Exception) as blocking:
        connection.execute(insert, [8, 1, 12], connection=NAME)
    with pytest.raises(Exception) as awaited:
        run(connection.aexecute(insert, [8, 1, 12], connection=NAME))
    assert type(awaited.value) is type(blocking.value) and str(awaited.value) == str(blocking.value)
    assert run(Event.objects(day=8).acount()) == 0


class _Index:
    """An integer by ``__index__`` alone: cassandra-driver binds it for an int column, acsylla does not."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def test_a_batch_member_acsylla_cannot_bind_goes_through_cassandra_driver_counted_once(acs):
    insert = f"INSERT INTO {acs.default_keyspace}.acs_events (day, seq, what) VALUES (?, ?, ?)"
    executed, fallbacks = acs.stats.executed, acs.stats.transport_fallbacks
    run(connection.aexecute_batch([(insert, [9, 1, "plain"]), (insert, [9, _Index(2), "by __index__"])],
                                  connection=NAME))
    assert acs.stats.executed - executed == 1
    assert acs.stats.transport_fallbacks - fallbacks == 1
    assert any(" BATCH: " in cql and "could not bind" in why for cql, why in acs.stats.fallback_shapes.items())
    assert [(e.seq, e.what) for e in Event.objects(day=9)] == [(1, "plain"), (2, "by __index__")]


def test_a_statement_acsylla_cannot_bind_is_counted_once_and_not_as_a_failed_request(acs):
    # acsylla refuses the value before anything is sent; cassandra-driver then sends the statement.
    # One statement went to the node: executed counts 1, and its latency is one request that succeeded.
    insert = f"INSERT INTO {acs.default_keyspace}.acs_events (day, seq, what) VALUES (?, ?, ?)"
    run(connection.aexecute(insert, [12, 0, "prepared first"], connection=NAME))
    inserts = acs.stats.latency["INSERT"]
    executed, fallbacks = acs.stats.executed, acs.stats.transport_fallbacks
    sent, failed = inserts.count, inserts.failed
    run(connection.aexecute(insert, [12, _Index(1), "by __index__"], connection=NAME))
    assert acs.stats.transport_fallbacks - fallbacks == 1
    assert (acs.stats.executed - executed, inserts.count - sent, inserts.failed - failed) == (1, 1, 0)
    assert [(e.seq, e.what) for e in Event.objects(day=12)] == [(0, "prepared first"), (1, "by __index__")]


def test_concurrent_statements_acsylla_cannot_bind_are_sent_as_one_at_a_time_sends_them(acs):
    # Many at once go the short way when nothing needs a step; a refusal takes the general way from there.
    insert = f"INSERT INTO {acs.default_keyspace}.acs_events (day, seq, what) VALUES (?, ?, ?)"

    def items(day: int) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = [(insert, [day, seq, f"n{seq}"], None) for seq in range(10)]
        found[3] = (insert, [day, _Index(3), "by __index__"], None)
        found[6] = (insert, [day, 6, 12], None)  # refused as cassandra-driver refuses it
        return found

    def counted(scenario: Any) -> tuple[Any, int, int]:
        executed, fallbacks = acs.stats.executed, acs.stats.transport_fallbacks
        got = run(scenario)
        return got, acs.stats.executed - executed, acs.stats.transport_fallbacks - fallbacks

    async def one_at_a_time() -> list[tuple[bool, Any]]:
        out: list[tuple[bool, Any]] = []
        for query, params, _level in items(10):
            try:
                out.append((True, await connection.aexecute(query, params, connection=NAME)))
            except Exception as exc:  # noqa: BLE001 - compared below
                out.append((False, exc))
        return out

    alone, alone_executed, alone_fallbacks = counted(one_at_a_time())
    together, executed, fallbacks = counted(connection.aexecute_concurrently(items(11), concurrency=4,
                                                                             connection=NAME))
    assert [ok for ok, _ in together] == [ok for ok, _ in alone] == [seq != 6 for seq in range(10)]
    assert type(together[6][1]) is type(alone[6][1]) and str(together[6][1]) == str(alone[6][1])
    assert (executed, fallbacks) == (alone_executed, alone_fallbacks) and fallbacks >= 1
    stored = {day: [(e.seq, e.what) for e in Event.objects(day=day)] for day in (10, 11)}
    assert stored[10] == stored[11] and (3, "by __index__") in stored[11] and len(stored[11]) == 9
