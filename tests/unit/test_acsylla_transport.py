"""The acsylla transport's choices made without a server: which requests go, errors, options, log noise."""
from __future__ import annotations

import logging

import pytest
from cassandra import InvalidRequest, OperationTimedOut, ReadTimeout, Unavailable
from cassandra.cluster import EXEC_PROFILE_DEFAULT, NoHostAvailable
from cassandra.protocol import ServerError, SyntaxException

from cqlengine import connection
from cqlengine.connection import acsylla_transport
from cqlengine.connection.driver import NOT_SET, Connection
from cqlengine.exceptions import ConnectionException

acsylla = pytest.importorskip("acsylla", reason="acsylla is not installed (no wheel for this Python/platform?): "
                                                "pip install 'cqlengine-mapper[acsylla]'", exc_type=ImportError)
errors = acsylla.errors


@pytest.fixture
def transport() -> acsylla_transport.AcsyllaTransport:
    return acsylla_transport.AcsyllaTransport(Connection("unit", lazy_connect=True))


@pytest.mark.parametrize(("query", "params", "profile", "route_to", "why"), [
    ("SELECT * FROM ks.t WHERE k = ?", [1], EXEC_PROFILE_DEFAULT, (), None),
    ("INSERT INTO ks.t (k) VALUES (?)", [1], None, (), None),
    ("UPDATE ks.t SET v = ? WHERE k = ?", [1, 2], EXEC_PROFILE_DEFAULT, (), None),
    ("DELETE FROM ks.t WHERE k = ?", [1], EXEC_PROFILE_DEFAULT, (), None),
    ("CREATE TABLE ks.t (k int PRIMARY KEY)", None, EXEC_PROFILE_DEFAULT, (), "not a SELECT"),
    ("SELECT * FROM ks.t WHERE k = %(k)s", {"k": 1}, EXEC_PROFILE_DEFAULT, (), "named parameters"),
    ("SELECT * FROM ks.t WHERE k = ?", [1], "analytics", (), "an execution profile"),
    ("SELECT * FROM ks.t WHERE k = ?", [1], EXEC_PROFILE_DEFAULT, ("10.0.0.1",), "routed"),
    (object(), None, EXEC_PROFILE_DEFAULT, (), "a statement object"),
])
def test_which_requests_go_through_acsylla(transport, query, params, profile, route_to, why):
    said = transport.why_not(query, params, profile, route_to)
    assert (said is None) if why is None else (said is not None and said.startswith(why))


@pytest.mark.parametrize(("cql", "conditional"), [
    ("INSERT INTO ks.t (k) VALUES (?) IF NOT EXISTS", True),
    ("UPDATE ks.t SET v = ? WHERE k = ? IF v = ?", True),
    ("DELETE FROM ks.t WHERE k = ? if exists", True),
    ("UPDATE ks.t SET if_set = ? WHERE k = ?", False),
    ("INSERT INTO ks.t (k, gift) VALUES (?, ?)", False),
])
def test_conditional_writes_are_told_apart(cql, conditional):
    assert bool(acsylla_transport._CONDITION.search(cql)) is conditional


@pytest.mark.parametrize(("error", "expected"), [
    (errors.CassErrorServerInvalidQuery, InvalidRequest),
    (errors.CassErrorServerSyntaxError, SyntaxException),
    (errors.CassErrorServerReadTimeout, ReadTimeout),
    (errors.CassErrorServerUnavailable, Unavailable),
    (errors.CassErrorServerServerError, ServerError),
    (errors.CassErrorLibRequestTimedOut, OperationTimedOut),
    (errors.CassErrorLibNoHostsAvailable, NoHostAvailable),
])
def test_errors_become_cassandra_drivers(error, expected):
    translated = acsylla_transport.translated(error("the server said so"))
    assert isinstance(translated, expected) and "the server said so" in str(translated)


def test_an_error_without_a_counterpart_is_kept():
    error = errors.CassErrorLibBadParams("bad")
    assert acsylla_transport.translated(error) is error


def test_options_are_cassandra_drivers_defaults_and_are_kept(transport):
    make = acsylla_transport._send_options
    options = make(acsylla, None, NOT_SET, None, None, NOT_SET, 1, 10.0, 5000)
    assert options == {"consistency": acsylla.Consistency.ONE, "page_size": 5000, "timeout": 10.0}
    # the request's own over the connection's over the profile's; None is no limit (0 for acsylla)
    assert make(acsylla, 4, None, 100, 6, 2.0, 1, 10.0, 5000) == {
        "consistency": acsylla.Consistency.QUORUM, "page_size": 100, "timeout": 0}
    assert make(acsylla, None, NOT_SET, None, 6, 2.0, 1, 10.0, 5000)["consistency"] == acsylla.Consistency.LOCAL_QUORUM
    assert make(acsylla, None, NOT_SET, None, None, 2.0, 1, 10.0, 5000)["timeout"] == 2.0
    assert make(acsylla, None, 0.0001, None, None, NOT_SET, 1, 10.0, 5000)["timeout"] == 0.001  # not "no limit"


def test_an_unknown_transport_is_refused():
    with pytest.raises(ConnectionException, match="transport must be one of"):
        connection.register_connection("unit-bad", lazy_connect=True, transport="thrift")
    assert "unit-bad" not in connection.connections()


def test_the_scylla_shard_message_is_dropped_and_nothing_else():
    acsylla_transport._quiet_shard_info()
    acsylla_transport._quiet_shard_info()  # once only
    logger = logging.getLogger("acsylla")
    assert sum(isinstance(f, acsylla_transport._NoShardInfo) for f in logger.filters) == 1
    record = logging.LogRecord("acsylla", logging.ERROR, __file__, 1, "Could not retrieve sharding info from x",
                               None, None)
    other = logging.LogRecord("acsylla", logging.ERROR, __file__, 1, "Connection refused", None, None)
    assert not logger.filter(record) and logger.filter(other)


def test_without_acsylla_its_transport_is_refused_saying_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "acsylla", None)  # as where no wheel installed it
    with pytest.raises(ConnectionException, match=r"pip install 'cqlengine-mapper\[acsylla\]'"):
        connection.register_connection("unit-acsylla", lazy_connect=True, transport="acsylla")
    assert "unit-acsylla" not in connection.connections()
