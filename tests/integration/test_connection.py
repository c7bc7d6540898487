"""The connection layer against the real server."""
from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from cassandra import ConsistencyLevel, InvalidRequest, OperationTimedOut

from cqlengine import connection
from cqlengine.exceptions import ConnectionException


@pytest.fixture(scope="module")
def table(cqlengine_connection):
    ks = cqlengine_connection.default_keyspace
    name = f"{ks}.conn_rows"
    connection.execute(f"CREATE TABLE {name} (id uuid PRIMARY KEY, body text)")
    yield name
    connection.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def named(cassandra):
    names = []

    def make(name, cluster_options=None, **kw):
        conn = connection.register_connection(name, hosts=cassandra.contact_points,
                                              cluster_options={"port": cassandra.port, **(cluster_options or {})}, **kw)
        names.append(name)
        return conn
    yield make
    for name in names:
        if name in connection.connections():
            connection.unregister_connection(name)


def row_model(table, connection_name):
    """A model of the module's table whose statements go through ``connection_name``."""
    from cqlengine import columns, management
    from cqlengine.models import Model

    keyspace, name = table.split(".")

    class Row(Model):
        __keyspace__ = keyspace
        __table_name__ = name
        __connection__ = connection_name
        id = columns.UUID(primary_key=True)
        body = columns.Text()

    management.sync_table(Row)
    return Row


@contextmanager
def request_timeouts(name):
    """The timeout of every request the connection ``name`` sends meanwhile."""
    session = connection.get_session(name)
    real = session.execute_async
    seen = []

    def spy(*args, **kwargs):
        future = real(*args, **kwargs)
        seen.append(future.timeout)
        return future

    session.execute_async = spy
    try:
        yield seen
    finally:
        del session.execute_async


def test_default_connection_answers(cqlengine_connection, cassandra):
    row = connection.execute("SELECT release_version FROM system.local").one()
    assert row["release_version"] == cassandra.version
    assert connection.get_session() is cqlengine_connection.session
    assert connection.get_cluster() is cqlengine_connection.cluster


def test_write_and_read_with_bound_values(table):
    row_id = uuid.uuid4()
    connection.execute(f"INSERT INTO {table} (id, body) VALUES (?, ?)", [row_id, "it's 'quoted'"])
    row = connection.execute(f"SELECT body FROM {table} WHERE id = ?", [row_id]).one()
    assert row["body"] == "it's 'quoted'"


def test_consistency_and_timeout_reach_the_driver(table):
    row_id = uuid.uuid4()
    result = connection.execute(f"INSERT INTO {table} (id, body) VALUES (?, ?)", [row_id, "x"],
                                consistency=ConsistencyLevel.ALL, timeout=5)
    assert result.response_future.message.consistency_level == ConsistencyLevel.ALL
    assert result.response_future.timeout == 5
    # One node: a consistency level it cannot meet fails at the server, proving the level was sent.
    with pytest.raises(Exception, match="(?i)unavailable|consistency|replica"):
        connection.execute(f"SELECT body FROM {table} WHERE id = ?", [row_id],
                           consistency=ConsistencyLevel.THREE)
    # A timeout shorter than any round trip expires client-side.
    with pytest.raises(OperationTimedOut):
        connection.execute(f"SELECT body FROM {table} WHERE id = ?", [row_id], timeout=0.000001)


def test_prepared_cache_counts_hits_and_misses(table, cqlengine_connection):
    cqlengine_connection.clear_prepared_cache()
    before = (cqlengine_connection.stats.prepared_misses, cqlengine_connection.stats.prepared_hits)
    query = f"SELECT body FROM {table} WHERE id = ?"
    for _ in range(5):
        connection.execute(query, [uuid.uuid4()])
    connection.execute(f"SELECT id FROM {table} WHERE id = ?", [uuid.uuid4()])
    misses = cqlengine_connection.stats.prepared_misses - before[0]
    hits = cqlengine_connection.stats.prepared_hits - before[1]
    assert (misses, hits) == (2, 4)


def test_parameterless_text_is_not_prepared(cqlengine_connection, table):
    before = cqlengine_connection.stats.prepared_misses
    connection.execute(f"SELECT * FROM {table} LIMIT 1")
    assert cqlengine_connection.stats.prepared_misses == before


def test_lru_bound_is_honoured(named, table):
    conn = named("lru", prepared_cache_size=3)
    queries = [f"SELECT body FROM {table} WHERE id = ? LIMIT {n}" for n in range(1, 6)]
    for q in queries:
        connection.execute(q, [uuid.uuid4()], connection="lru")
    assert conn.prepared_cache_len == 3
    assert conn.stats.prepared_evictions == 2
    connection.execute(queries[-1], [uuid.uuid4()], connection="lru")  # most recent: still cached
    assert conn.stats.prepared_hits == 1
    connection.execute(queries[0], [uuid.uuid4()], connection="lru")  # evicted: prepared again
    assert conn.stats.prepared_misses == 6


def test_prepared_statement_survives_drop_and_recreate(cqlengine_connection):
    ks = cqlengine_connection.default_keyspace
    name = f"{ks}.recreated"
    insert = f"INSERT INTO {name} (id, body) VALUES (?, ?)"
    select = f"SELECT body FROM {name} WHERE id = ?"
    connection.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, body text)")
    connection.execute(insert, [1, "before"])
    assert connection.execute(select, [1]).one()["body"] == "before"
    connection.execute(f"DROP TABLE {name}")
    connection.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, body text)")
    stats = cqlengine_connection.stats
    hits, invalidated = stats.prepared_hits, stats.prepared_invalidations
    connection.execute(insert, [2, "after"])  # the table changed: both statements are prepared anew
    assert connection.execute(select, [2]).one()["body"] == "after"
    assert connection.execute(select, [1]).one() is None
    assert (stats.prepared_hits, stats.prepared_invalidations) == (hits + 1, invalidated + 2)
    connection.execute(f"DROP TABLE {name}")


def test_several_named_connections(named, table):
    a = named("conn_a")
    b = named("conn_b", consistency=ConsistencyLevel.ONE)
    assert a.session is not b.session
    row_id = uuid.uuid4()
    connection.execute(f"INSERT INTO {table} (id, body) VALUES (?, ?)", [row_id, "via a"], connection="conn_a")
    got = connection.execute(f"SELECT body FROM {table} WHERE id = ?", [row_id], connection="conn_b")
    assert got.one()["body"] == "via a"
    assert got.response_future.message.consistency_level == ConsistencyLevel.ONE  # b's default
    assert (a.stats.executed, b.stats.executed) == (1, 1)


def test_set_default_connection(named, cqlengine_connection):
    other = named("other")
    try:
        connection.set_default_connection("other")
        assert connection.get_connection() is other
        connection.execute("SELECT release_version FROM system.local")
        assert other.stats.executed == 1
    finally:
        connection.set_default_connection(connection.DEFAULT_CONNECTION)
    assert connection.get_connection() is cqlengine_connection


def test_register_from_an_existing_session(cqlengine_connection):
    session = cqlengine_connection.cluster.connect()
    conn = connection.register_connection("from_session", session=session)
    try:
        assert connection.execute("SELECT release_version FROM system.local", connection="from_session").one()
    finally:
        connection.unregister_connection("from_session")
    assert not cqlengine_connection.cluster.is_shutdown  # a borrowed session's cluster is left alone
    session.shutdown()
    assert conn.session is None


def test_server_error_is_the_drivers(table):
    with pytest.raises(InvalidRequest):
        connection.execute(f"SELECT nope FROM {table} WHERE id = ?", [uuid.uuid4()])


def test_setup_where_nothing_listens_names_hosts_and_error():
    with pytest.raises(ConnectionException) as info:
        connection.register_connection("nowhere", hosts=["127.0.0.1"],
                                       cluster_options={"port": 1, "connect_timeout": 2})
    message = str(info.value)
    assert "['127.0.0.1']" in message and "port 1" in message and "Unable to connect" in message
    assert "nowhere" not in connection.connections()


def test_retry_connect_defers_the_failure():
    conn = connection.register_connection("later", hosts=["127.0.0.1"], retry_connect=True,
                                          cluster_options={"port": 1, "connect_timeout": 1})
    try:
        assert conn.session is None
        with pytest.raises(ConnectionException, match="not connected"):
            connection.execute("SELECT * FROM system.local", connection="later")
    finally:
        connection.unregister_connection("later")


def test_threads_racing_on_a_new_shape_prepare_it_once(named, table):
    import threading

    conn = named("racing")
    shapes = [f"SELECT body FROM {table} WHERE id = ? LIMIT {n}" for n in range(1, 5)]
    barrier = threading.Barrier(16)

    def work(i):
        barrier.wait()
        connection.execute(shapes[i % 4], [uuid.uuid4()], connection="racing")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (conn.stats.prepared_misses, conn.stats.prepared_hits) == (4, 12)


def test_a_slow_prepare_does_not_hold_up_cached_statements(named, table):
    import threading

    conn = named("slow_prepare")
    cached = f"SELECT body FROM {table} WHERE id = ?"
    connection.execute(cached, [uuid.uuid4()], connection="slow_prepare")
    real_prepare = conn.session.prepare
    started, release = threading.Event(), threading.Event()

    def slow_prepare(cql, *args, **kwargs):
        started.set()
        release.wait(10)  # a coordinator that answers only when the test says so
        return real_prepare(cql, *args, **kwargs)

    conn.session.prepare = slow_prepare
    slow = threading.Thread(target=connection.execute,
                            args=(f"SELECT id FROM {table} WHERE id = ?", [uuid.uuid4()]),
                            kwargs={"connection": "slow_prepare"})
    slow.start()
    assert started.wait(5)
    connection.execute(cached, [uuid.uuid4()], connection="slow_prepare")
    assert slow.is_alive()  # the cached statement ran while the new shape was still being prepared
    release.set()
    slow.join()


def test_parameters_with_a_statement_that_carries_its_own_are_refused_not_dropped(cqlengine_connection):
    from cassandra.query import BatchStatement, SimpleStatement

    from cqlengine.exceptions import ConnectionException

    query = "SELECT release_version FROM system.local WHERE key = ?"
    prepared = connection.get_session().prepare(query)
    for statement in (SimpleStatement(query), prepared.bind(["local"]), BatchStatement()):
        with pytest.raises(ConnectionException, match="carries its own"):
            connection.execute(statement, ["local"])
    assert connection.execute(prepared, ["local"]).one()["release_version"]  # a PreparedStatement binds them


def test_a_connection_default_timeout_bounds_requests_that_set_none(named, table):
    named("short", default_timeout=0.75)
    sent = connection.execute(f"SELECT * FROM {table} LIMIT 1", connection="short")
    assert sent.response_future.timeout == 0.75
    own = connection.execute(f"SELECT * FROM {table} LIMIT 1", connection="short", timeout=3)
    assert own.response_future.timeout == 3

    Row = row_model(table, "short")
    with request_timeouts("short") as seen:
        Row.create(id=uuid.uuid4(), body="x")
        list(Row.objects.limit(1))
        list(Row.objects.limit(1).timeout(2))
        Row.objects.bulk_create([Row(id=uuid.uuid4())])
    assert seen == [0.75, 0.75, 2, 0.75]  # the bulk write too
    with pytest.raises(ConnectionException, match="default_timeout must be a positive number"):
        named("bad", default_timeout=-1)


def test_a_queryset_runs_with_a_named_execution_profile(named, table):
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy
    from cassandra.query import named_tuple_factory


    slow = ExecutionProfile(request_timeout=7.5, row_factory=named_tuple_factory,
                            load_balancing_policy=RoundRobinPolicy())
    named("profiled", cluster_options={"execution_profiles": {
        EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=RoundRobinPolicy()), "slow": slow}})
    Row = row_model(table, "profiled")
    with request_timeouts("profiled") as timeouts:
        key = uuid.uuid4()
        Row.objects.execution_profile("slow").create(id=key, body="x")
        assert Row.objects.execution_profile("slow").get(id=key).body == "x"  # rows read as cqlengine needs
        assert [r.body for r in Row.objects.execution_profile("slow").filter(id=key)] == ["x"]
        Row.objects.execution_profile("slow").bulk_create([Row(id=uuid.uuid4(), body="y")])
        Row.objects.get(id=key)  # the default profile
    assert timeouts == [7.5, 7.5, 7.5, 7.5, 10.0]
    assert slow.row_factory is named_tuple_factory  # the caller's profile is left as it was
    with pytest.raises(ConnectionException, match="no execution profile 'fast'"):
        Row.objects.execution_profile("fast").get(id=key)


def test_stats_count_and_time_each_kind_of_statement(named, table):
    import asyncio
    import importlib.util

    if importlib.util.find_spec("greplin") is None:
        # The driver's metrics need the scales package, which this project does not require.
        with pytest.raises(ConnectionException, match="scales library is required"):
            named("watched", cluster_options={"metrics_enabled": True})
        conn = named("watched")
    else:
        conn = named("watched", cluster_options={"metrics_enabled": True})
    for _ in range(5):
        connection.execute(f"INSERT INTO {table} (id, body) VALUES (?, ?)", [uuid.uuid4(), "x"], connection="watched")
    connection.execute(f"SELECT * FROM {table} LIMIT 1", connection="watched")
    asyncio.run(connection.aexecute(f"SELECT * FROM {table} LIMIT ?", [1], connection="watched"))
    with pytest.raises(InvalidRequest):
        connection.execute(f"SELECT * FROM {table} WHERE id = ? LIMIT ?", [uuid.uuid4(), 0], connection="watched")
    connection.execute_batch([(f"DELETE FROM {table} WHERE id = ?", [uuid.uuid4()])], connection="watched")
    latency = conn.stats.latency
    assert (latency["INSERT"].count, latency["INSERT"].failed) == (5, 0)
    assert (latency["SELECT"].count, latency["SELECT"].failed) == (3, 1)
    assert latency["BATCH"].count == 1 and latency["UPDATE"].count == 0 and latency["UPDATE"].p50 is None
    insert = latency["INSERT"]
    assert 0 < insert.p50 <= insert.p99 < 5 and "count=5" in repr(insert)
    if conn.cluster.metrics_enabled:
        assert conn.stats.driver.stats.request_timer["count"] >= 9
    else:
        assert conn.stats.driver is None  # the driver's metrics only when asked for


def test_a_chosen_profile_keeps_its_own_timeout_and_consistency(named, table):
    from cassandra import ConsistencyLevel
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy

    own = ExecutionProfile(request_timeout=60, consistency_level=ConsistencyLevel.QUORUM,
                           load_balancing_policy=RoundRobinPolicy())
    conn = named("defaults", consistency=ConsistencyLevel.ONE, default_timeout=7, cluster_options={
        "execution_profiles": {EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=RoundRobinPolicy()),
                               "own": own}})
    Row = row_model(table, "defaults")
    session = conn.session
    real = session.execute_async
    sent = []

    def spy(statement, *args, **kwargs):
        future = real(statement, *args, **kwargs)
        sent.append((statement.consistency_level, future.timeout))
        return future

    session.execute_async = spy
    try:
        list(Row.objects.execution_profile("own").limit(1))
        Row.objects.execution_profile("own").bulk_create([Row(id=uuid.uuid4())])
        list(Row.objects.limit(1))
        list(Row.objects.execution_profile("own").consistency(ConsistencyLevel.ONE).timeout(3).limit(1))
    finally:
        del session.execute_async
    # The profile's own (None: its consistency_level applies), then the connection's defaults, then the query's.
    assert sent == [(None, 60), (None, 60), (ConsistencyLevel.ONE, 7), (ConsistencyLevel.ONE, 3)]
    registered = session.cluster.profile_manager.profiles["own"]
    assert len(list(Row.objects.execution_profile(registered).limit(1))) <= 1  # a profile of the cluster: fine
    with pytest.raises(ConnectionException, match="not added to the cluster"):
        list(Row.objects.execution_profile(ExecutionProfile(request_timeout=30)).limit(1))
