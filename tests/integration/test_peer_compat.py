"""Spellings of the peer's API that code moving over relies on."""
from __future__ import annotations

from datetime import datetime

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster

from cqlengine import columns, connection, management
from cqlengine.models import Model


class Stamp(Model):
    __table_name__ = "compat_stamps"
    id = columns.Integer(primary_key=True)
    at = columns.DateTime(truncate_microseconds=True)


def test_truncate_microseconds_makes_assigned_equal_read_back(cqlengine_connection):
    management.sync_table(Stamp)
    value = datetime(2024, 5, 6, 7, 8, 9, 123456)
    saved = Stamp.create(id=1, at=value)
    assert saved.at == datetime(2024, 5, 6, 7, 8, 9, 123000) == Stamp.get(id=1).at


def test_execute_takes_consistency_level(cqlengine_connection):
    result = connection.execute("SELECT release_version FROM system.local WHERE key = ?", ["local"],
                                consistency_level=ConsistencyLevel.ONE)
    assert result.response_future.message.consistency_level == ConsistencyLevel.ONE


def test_set_session_makes_a_session_the_default(cassandra, monkeypatch):
    # An empty registry of its own: the suite's default connection stays untouched.
    monkeypatch.setattr(connection, "_connections", {})
    monkeypatch.setattr(connection, "_default_name", None)
    cluster = Cluster(cassandra.contact_points, port=cassandra.port)
    session = cluster.connect()
    try:
        connection.set_session(session)
        assert connection.get_session() is session
        assert connection.execute("SELECT release_version FROM system.local").one()["release_version"]
        connection.unregister_connection(connection.DEFAULT_CONNECTION)
        assert not cluster.is_shutdown  # a borrowed session's cluster is its owner's to close
    finally:
        cluster.shutdown()


def test_instance_lwt_flags_can_be_turned_off(cqlengine_connection):
    stamp = Stamp(id=2).if_not_exists().if_not_exists(False)
    assert stamp._options.if_not_exists is False
    stamp.save()
    assert Stamp.objects(id=2).distinct(distinct_fields=["id"]).count() == 1
    assert stamp._is_persisted and stamp._as_dict() == {"id": 2, "at": None}
