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


def test_register_needs_hosts_or_session(empty_registry):
    with pytest.raises(ConnectionException, match="needs hosts .* or a driver session"):
        connection.register_connection("c1")


def test_register_a_taken_name(empty_registry):
    connection.register_connection("c1", hosts=["127.0.0.1"], lazy_connect=True)
    with pytest.raises(ConnectionException, match="'c1' is already registered.*unregister_connection"):
        connection.register_connection("c1", hosts=["127.0.0.1"], lazy_connect=True)


def test_lazy_connection_becomes_default_without_connecting(empty_registry):
    conn = connection.register_connection("lazy", hosts=["127.0.0.1"], lazy_connect=True)
    assert conn.session is None
    assert connection.get_connection() is conn
    connection.unregister_connection("lazy")
    with pytest.raises(ConnectionException):
        connection.get_connection()
