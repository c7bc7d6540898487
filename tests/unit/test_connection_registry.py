"""Connection registry errors that need no server."""
from __future__ import annotations

import pytest

from cqlengine import connection
from cqlengine.exceptions import ConnectionException


@pytest.fixture
def empty_registry(monkeypatch):
    monkeypatch.setattr(connection, "_connections", {})
    monkeypatch.setattr(connection, "_default_name", None)


def test_execute_before_setup_says_what_to_call(empty_registry):
    with pytest.raises(ConnectionException, match=r"setup\(hosts.*register_connection"):
        connection.execute("SELECT release_version FROM system.local")


def test_unknown_named_connection(empty_registry):
    with pytest.raises(ConnectionException, match="No connection named 'nope'"):
        connection.get_session("nope")


def test_register_without_hosts_means_the_drivers_default_contact_point(empty_registry):
    # As the peer: hosts=None leaves the driver's default (127.0.0.1).
    conn = connection.register_connection("c1", lazy_connect=True)
    assert conn.hosts is None and conn.session is None


def test_session_and_cluster_options_are_exclusive(empty_registry):
    with pytest.raises(ConnectionException, match="mutually exclusive"):
        connection.register_connection("c1", session=object(), lazy_connect=True)


def test_register_a_taken_name_replaces_it_with_a_warning(empty_registry, caplog):
    first = connection.register_connection("c1", hosts=["127.0.0.1"], lazy_connect=True)
    second = connection.register_connection("c1", hosts=["127.0.0.2"], lazy_connect=True)
    assert connection.get_connection("c1") is second is not first
    assert "'c1' was already registered" in caplog.text


def test_unregister_an_unknown_name_is_ignored(empty_registry):
    connection.unregister_connection("never-registered")  # the peer ignores it too
    assert connection.connections() == {}


def test_a_connection_that_fails_is_not_registered(empty_registry):
    # A driver option the Cluster refuses: nothing is registered under the name.
    with pytest.raises(ConnectionException, match="'broken'.*refused the cluster options"):
        connection.register_connection("broken", hosts=["127.0.0.1"], cluster_options={"no_such": 1})
    assert "broken" not in connection.connections()
    connection.register_connection("broken", hosts=["127.0.0.1"], lazy_connect=True)  # the name is free


def test_lazy_connection_becomes_default_without_connecting(empty_registry):
    conn = connection.register_connection("lazy", hosts=["127.0.0.1"], lazy_connect=True)
    assert conn.session is None
    assert connection.get_connection() is conn
    connection.unregister_connection("lazy")
    with pytest.raises(ConnectionException):
        connection.get_connection()


def test_clusters_made_here_send_small_requests_at_once(empty_registry):
    import socket

    conn = connection.register_connection("nodelay", hosts=["127.0.0.1"], lazy_connect=True)
    cluster = conn._new_cluster()
    try:
        assert (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in cluster.sockopts
    finally:
        cluster.shutdown()
    mine = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    conn = connection.register_connection("own", hosts=["127.0.0.1"], lazy_connect=True,
                                          cluster_options={"sockopts": mine})
    cluster = conn._new_cluster()
    try:
        assert cluster.sockopts == mine  # a caller's own socket options are kept as given
    finally:
        cluster.shutdown()


def test_refused_credentials_say_so():
    from cassandra import AuthenticationFailed
    from cassandra.cluster import NoHostAvailable

    from cqlengine.connection import connect_error
    from cqlengine.exceptions import AuthenticationRefused, ConnectionUnreachable

    wrong = AuthenticationFailed("Provided username u and/or password are incorrect")
    refused = NoHostAvailable("Unable to connect to any servers", {"127.0.0.1:9042": wrong})
    error = connect_error("default", "['127.0.0.1']", 9042, refused)
    assert isinstance(error, AuthenticationRefused) and isinstance(error, NoHostAvailable)  # as the peer's
    assert "refused the credentials" in str(error) and "could not reach" not in str(error)
    assert "username u and/or password are incorrect" in str(error)
    down = NoHostAvailable("Unable to connect to any servers",
                           {"127.0.0.1:9042": ConnectionRefusedError(111, "refused")})
    error = connect_error("default", "['127.0.0.1']", 9042, down)
    assert type(error) is ConnectionUnreachable and "could not reach Cassandra" in str(error)

