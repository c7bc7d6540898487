"""Driver objects handed to cqlengine are used as they are: profiles, row factories, defaults."""
from __future__ import annotations

import threading

import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import RoundRobinPolicy
from cassandra.query import dict_factory, named_tuple_factory, tuple_factory

from cqlengine import columns, connection, management
from cqlengine.exceptions import ConnectionException
from cqlengine.models import Model


class Visit(Model):
    __table_name__ = "driver_objects_visits"
    page = columns.Text(partition_key=True)
    seq = columns.Integer(primary_key=True)
    who = columns.Text()


@pytest.fixture(scope="module")
def visits(cqlengine_connection):
    management.sync_table(Visit)
    for seq in range(5):
        Visit.create(page="home", seq=seq, who=f"u{seq}")
    return cqlengine_connection.default_keyspace


@pytest.fixture
def registry(monkeypatch):
    """An empty registry of its own: the suite's default connection stays untouched."""
    monkeypatch.setattr(connection, "_connections", {})
    monkeypatch.setattr(connection, "_default_name", None)
    yield
    for name in list(connection.connections()):
        connection.unregister_connection(name)


def _profiles(factory=tuple_factory, **extra):
    return {EXEC_PROFILE_DEFAULT: ExecutionProfile(row_factory=factory, load_balancing_policy=RoundRobinPolicy(),
                                                   **extra)}


def _reads_and_writes(keyspace):
    Visit.objects.using(keyspace=keyspace).create(page="home", seq=99, who="via profiles")
    rows = list(Visit.objects.using(keyspace=keyspace).filter(page="home"))
    assert [v.seq for v in rows] == [0, 1, 2, 3, 4, 99]
    assert Visit.objects.using(keyspace=keyspace).filter(page="home", seq=99).get().who == "via profiles"
    Visit.objects.using(keyspace=keyspace).filter(page="home", seq=99).delete()


def test_setup_with_execution_profiles(registry, cassandra, visits):
    profiles = _profiles()
    conn = connection.setup(cassandra.contact_points, default_keyspace=visits, port=cassandra.port,
                            execution_profiles=profiles)
    _reads_and_writes(visits)
    # The caller's profile is theirs: still tuples, and plain driver calls still get them.
    assert profiles[EXEC_PROFILE_DEFAULT].row_factory is tuple_factory
    assert type(conn.session.execute("SELECT release_version FROM system.local").one()) is tuple


def test_register_connection_with_profiles_in_cluster_options(registry, cassandra, visits):
    connection.register_connection("profiled", hosts=cassandra.contact_points, default=True,
                                   cluster_options={"port": cassandra.port, "execution_profiles": _profiles()})
    _reads_and_writes(visits)


def test_set_session_of_a_profile_cluster(registry, cassandra, visits):
    cluster = Cluster(cassandra.contact_points, port=cassandra.port,
                      execution_profiles=_profiles(named_tuple_factory, consistency_level=ConsistencyLevel.ONE))
    session = cluster.connect()
    try:
        connection.set_session(session)
        _reads_and_writes(visits)
        profile = session.get_execution_profile(EXEC_PROFILE_DEFAULT)
        assert profile.row_factory is named_tuple_factory  # not changed
        # A change the caller makes to their profile later still applies to our statements.
        profile.consistency_level = ConsistencyLevel.THREE  # one node: unavailable at the server
        with pytest.raises(Exception, match="(?i)unavailable|replica"):
            Visit.objects.using(keyspace=visits).filter(page="home").count()
    finally:
        connection.unregister_connection(connection.DEFAULT_CONNECTION)
        assert not cluster.is_shutdown  # a borrowed session's cluster is its owner's to close
        cluster.shutdown()


def test_set_session_of_a_fresh_cluster_keeps_its_row_factory(registry, cassandra, visits):
    cluster = Cluster(cassandra.contact_points, port=cassandra.port)
    session = cluster.connect(visits)
    try:
        connection.set_session(session)
        assert connection.get_connection().default_keyspace == visits  # the session's keyspace, as the peer
        assert [v.seq for v in Visit.objects(page="home")] == [0, 1, 2, 3, 4]
        assert session.row_factory is named_tuple_factory
        assert type(session.execute("SELECT release_version FROM system.local").one()).__name__ == "Row"
    finally:
        cluster.shutdown()


def test_legacy_session_with_other_rows_is_refused_not_changed(registry, cassandra):
    cluster = Cluster(cassandra.contact_points, port=cassandra.port)
    session = cluster.connect()
    try:
        session.row_factory = tuple_factory  # the driver's legacy configuration
        with pytest.raises(ConnectionException, match="legacy configuration with row_factory=tuple_factory"):
            connection.set_session(session)
        assert session.row_factory is tuple_factory
        assert connection.connections() == {}
    finally:
        cluster.shutdown()


def test_setup_consistency_is_the_sessions_default(registry, cassandra):
    conn = connection.setup(cassandra.contact_points, port=cassandra.port, consistency=ConsistencyLevel.ONE)
    profile = conn.session.get_execution_profile(EXEC_PROFILE_DEFAULT)
    assert profile.consistency_level == ConsistencyLevel.ONE
    assert profile.row_factory is dict_factory  # our own cluster: plain calls read dicts, as the peer's
    result = conn.session.execute("SELECT release_version FROM system.local")
    assert result.response_future.message.consistency_level == ConsistencyLevel.ONE


def _driver_threads():
    return {t for t in threading.enumerate() if t.is_alive() and not t.name.startswith(("pytest", "MainThread"))}


def test_failed_setups_leave_nothing_registered_nor_running(registry, cassandra):
    before = _driver_threads()
    for _ in range(3):
        with pytest.raises(ConnectionException):
            connection.setup(cassandra.contact_points, port=1, connect_timeout=1)
    assert connection.connections() == {}
    leaked = [t for t in _driver_threads() - before if t.is_alive()]
    for t in leaked:
        t.join(timeout=5)  # the driver's threads end as its cluster shuts down
    assert [t.name for t in leaked if t.is_alive()] == []
    # The name is free: the next setup works.
    connection.setup(cassandra.contact_points, port=cassandra.port)
    assert connection.execute("SELECT release_version FROM system.local").one()["release_version"]


def test_unreachable_lazy_connection_raises_the_peers_class_too(registry):
    connection.register_connection("far", hosts=["127.0.0.1"], lazy_connect=True,
                                   cluster_options={"port": 1, "connect_timeout": 1})
    with pytest.raises(NoHostAvailable) as info:
        connection.execute("SELECT release_version FROM system.local", connection="far")
    assert isinstance(info.value, ConnectionException)
    assert "could not reach Cassandra" in str(info.value) and "port 1" in str(info.value)


def test_session_settings_of_a_cluster_we_made_are_the_ones_set_up(registry, cassandra, visits):
    conn = connection.setup(cassandra.contact_points, default_keyspace=visits, port=cassandra.port,
                            consistency=ConsistencyLevel.ONE)
    session = connection.get_session()
    assert session.default_consistency_level == ConsistencyLevel.ONE  # as with the peer
    result = connection.execute("SELECT release_version FROM system.local")
    assert result.response_future.message.consistency_level == ConsistencyLevel.ONE
    # An ordinary session attribute set afterwards (the driver then takes its legacy settings)
    # keeps every statement working, with the consistency set up, and is honoured.
    session.default_timeout = 30
    _reads_and_writes(visits)
    result = connection.execute("SELECT release_version FROM system.local")
    assert result.response_future.message.consistency_level == ConsistencyLevel.ONE
    assert type(result.one()) is dict
    session.default_timeout = 0.000001
    with pytest.raises(Exception, match="timed out|Timeout|timeout"):
        Visit.objects.using(keyspace=visits).filter(page="home").count()
    session.default_timeout = 30
    assert conn.session is session


def test_set_session_keeps_the_default_keyspace_set_up_before(registry, cassandra, visits):
    connection.setup(cassandra.contact_points, default_keyspace=visits, port=cassandra.port,
                     consistency=ConsistencyLevel.ONE)
    cluster = Cluster(cassandra.contact_points, port=cassandra.port)
    try:
        session = cluster.connect()  # no keyspace
        conn = connection.set_session(session)
        assert conn.default_keyspace == visits
        assert Visit.objects.filter(page="home").count() == 5
        result = connection.execute("SELECT release_version FROM system.local")
        assert result.response_future.message.consistency_level == ConsistencyLevel.ONE
    finally:
        cluster.shutdown()
