"""aexecute takes what execute takes and does the same with it: consistency_level and route_to, on the real node."""
from __future__ import annotations

import asyncio
import inspect
import uuid
from typing import Any, Callable, Optional

import pytest
from cassandra import ConsistencyLevel
from cassandra.connection import DefaultEndPoint
from cassandra.policies import SimpleConvictionPolicy
from cassandra.pool import Host

from cqlengine import connection

#: An address no cluster of the suite has (TEST-NET-1, RFC 5737).
NOWHERE = "192.0.2.1"


def execute(*args: Any, **kwargs: Any) -> Any:
    return connection.execute(*args, **kwargs)


def aexecute(*args: Any, **kwargs: Any) -> Any:
    return asyncio.run(connection.aexecute(*args, **kwargs))


TWINS = pytest.mark.parametrize("run", [execute, aexecute], ids=["execute", "aexecute"])


@pytest.fixture(scope="module")
def table(cqlengine_connection):
    name = f"{cqlengine_connection.default_keyspace}.parity_rows"
    connection.execute(f"CREATE TABLE IF NOT EXISTS {name} (id uuid PRIMARY KEY, body text)")
    yield name
    connection.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def row(table):
    """The (query, params) of a row written for the test, whose body is its id's text."""
    key = uuid.uuid4()
    connection.execute(f"INSERT INTO {table} (id, body) VALUES (?, ?)", [key, str(key)])
    return f"SELECT body FROM {table} WHERE id = ?", [key]


@pytest.fixture
def node(cqlengine_connection) -> Host:
    return next(host for host in connection.get_session().cluster.metadata.all_hosts() if host.is_up)


def sent_to(monkeypatch, instead: Optional[Host] = None) -> list[Optional[Host]]:
    """The host each request is sent to (None: the load balancing policy chooses); ``instead`` replaces a host."""
    session = connection.get_session()
    real = session.execute_async  # session.execute sends through it too
    hosts: list[Optional[Host]] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        call = inspect.signature(real).bind(*args, **kwargs)
        hosts.append(call.arguments.get("host"))
        if instead is not None and call.arguments.get("host") is not None:
            call.arguments["host"] = instead
        return real(*call.args, **call.kwargs)

    monkeypatch.setattr(session, "execute_async", spy)
    return hosts


def level_sent(result: Any) -> int:
    """The consistency level the request went with: read from the driver's message, or as acsylla's result
    records it (a connection with transport="acsylla")."""
    future = getattr(result, "response_future", None)
    return future.message.consistency_level if future is not None else result.consistency_level


def body_of(result: Any) -> str:
    return str(result.one()["body"])


def test_aexecute_takes_exactly_what_execute_takes():
    assert list(inspect.signature(connection.aexecute).parameters.values()) == list(
        inspect.signature(connection.execute).parameters.values())


@TWINS
def test_consistency_level_is_the_level_sent(row, run: Callable[..., Any]):
    query, params = row
    result = run(query, params, consistency_level=ConsistencyLevel.LOCAL_QUORUM)
    assert level_sent(result) == ConsistencyLevel.LOCAL_QUORUM
    assert body_of(result) == str(params[0])


@TWINS
def test_consistency_wins_over_consistency_level(row, run: Callable[..., Any]):
    query, params = row
    result = run(query, params, consistency=ConsistencyLevel.ONE, consistency_level=ConsistencyLevel.THREE)
    assert level_sent(result) == ConsistencyLevel.ONE


@TWINS
def test_a_consistency_level_the_node_cannot_meet_is_refused_by_the_server(row, run: Callable[..., Any]):
    query, params = row
    with pytest.raises(Exception, match="Cannot achieve consistency level THREE"):  # the driver may wrap it
        run(query, params, consistency_level=ConsistencyLevel.THREE)


@TWINS
def test_route_to_sends_to_the_first_of_its_hosts_that_is_up(row, node, monkeypatch, run: Callable[..., Any]):
    query, params = row
    hosts = sent_to(monkeypatch)
    result = run(query, params, route_to=[NOWHERE, str(node.address)])
    assert hosts == [node]
    assert body_of(result) == str(params[0])


@TWINS
def test_route_to_with_no_host_up_leaves_the_choice_to_the_driver(row, monkeypatch, run: Callable[..., Any]):
    query, params = row
    hosts = sent_to(monkeypatch)
    assert body_of(run(query, params, route_to=[NOWHERE])) == str(params[0])
    assert hosts == [None]


@TWINS
def test_a_routed_host_that_cannot_be_reached_falls_back_to_any_host(row, node, monkeypatch,
                                                                    run: Callable[..., Any]):
    query, params = row
    unreachable = Host(DefaultEndPoint(NOWHERE, 9042), SimpleConvictionPolicy)  # no pool: NoHostAvailable
    hosts = sent_to(monkeypatch, instead=unreachable)
    assert body_of(run(query, params, route_to=[str(node.address)])) == str(params[0])
    assert hosts == [node, None]


@pytest.fixture
def fresh(cassandra, table):
    """A connection of its own (so its counters start at zero) and a query shape never sent before."""
    name = f"parity_{uuid.uuid4().hex[:8]}"
    conn = connection.register_connection(name, hosts=cassandra.contact_points,
                                          cluster_options={"port": cassandra.port})
    shape = f"SELECT body FROM {table} WHERE id = ? LIMIT {uuid.uuid4().int % 1000 + 1}"
    yield conn, shape
    connection.unregister_connection(name)


def _prepare_threads(conn: connection.Connection, monkeypatch) -> list[str]:
    """The name of the thread each statement of ``conn`` is prepared on."""
    import threading

    session = conn.ensure_session()
    real = session.prepare
    threads: list[str] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(session, "prepare", spy)
    return threads


@TWINS
def test_a_new_shape_is_one_miss_and_the_next_use_one_hit(fresh, run: Callable[..., Any]):
    conn, shape = fresh
    run(shape, [uuid.uuid4()], connection=conn.name)
    assert (conn.stats.prepared_misses, conn.stats.prepared_hits) == (1, 0)
    run(shape, [uuid.uuid4()], connection=conn.name)
    assert (conn.stats.prepared_misses, conn.stats.prepared_hits) == (1, 1)
    assert conn.stats.latency["SELECT"].count == 2 and conn.stats.executed == 2


@TWINS
def test_a_refused_statement_is_timed_as_failed(fresh, run: Callable[..., Any]):
    conn, shape = fresh
    with pytest.raises(Exception, match="Cannot achieve consistency level THREE"):
        run(shape, [uuid.uuid4()], connection=conn.name, consistency=ConsistencyLevel.THREE)
    latency = conn.stats.latency["SELECT"]
    assert (latency.count, latency.failed) == (1, 1)


def test_aexecute_prepares_a_new_shape_off_the_event_loop(fresh, monkeypatch):
    import threading

    conn, shape = fresh
    threads = _prepare_threads(conn, monkeypatch)
    aexecute(shape, [uuid.uuid4()], connection=conn.name)
    aexecute(shape, [uuid.uuid4()], connection=conn.name)  # cached: bound on the spot, nothing prepared
    assert len(threads) == 1 and threads[0] != threading.main_thread().name


def _batch(run_name: str, conn: connection.Connection, members: list[Any]) -> Any:
    if run_name == "execute":
        return connection.execute_batch(members, connection=conn.name)
    return asyncio.run(connection.aexecute_batch(members, connection=conn.name))


@pytest.mark.parametrize("run_name", ["execute", "aexecute"])
def test_a_batch_counts_each_new_shape_once_and_cached_shapes_as_hits(fresh, table, run_name: str):
    conn, _ = fresh
    insert = f"INSERT INTO {table} (id, body) VALUES (?, ?)"
    update = f"UPDATE {table} SET body = ? WHERE id = ?"
    key = uuid.uuid4()
    _batch(run_name, conn, [(insert, [key, "a"]), (update, ["b", key]), (insert, [uuid.uuid4(), "c"])])
    assert (conn.stats.prepared_misses, conn.stats.prepared_hits) == (2, 0)
    _batch(run_name, conn, [(update, ["d", key]), (insert, [uuid.uuid4(), "e"])])
    assert (conn.stats.prepared_misses, conn.stats.prepared_hits) == (2, 2)
    assert conn.stats.latency["BATCH"].count == 2
    assert connection.execute(f"SELECT body FROM {table} WHERE id = ?", [key]).one()["body"] == "d"


def test_aexecute_batch_prepares_new_shapes_off_the_event_loop(fresh, table, monkeypatch):
    import threading

    conn, _ = fresh
    threads = _prepare_threads(conn, monkeypatch)
    members = [(f"INSERT INTO {table} (id, body) VALUES (?, ?)", [uuid.uuid4(), "a"])]
    _batch("aexecute", conn, members)
    _batch("aexecute", conn, members)
    assert len(threads) == 1 and threads[0] != threading.main_thread().name
