"""Errors that say what to do: a table never synced, a keyspace missing or not set, a node gone, two rows
where one was expected, a schema Cassandra cannot change in place. Each against the real node."""
from __future__ import annotations

import asyncio
import select
import socket
import threading
import time
import uuid

import pytest
from cassandra import InvalidRequest
from cassandra.cluster import NoHostAvailable

from cqlengine import columns, connection, management
from cqlengine.exceptions import (
    ConnectionUnreachable,
    KeyspaceNotSet,
    MultipleObjectsReturned,
    SchemaMismatch,
    TableNotFound,
)
from cqlengine.models import Model


class NeverSynced(Model):
    __table_name__ = "never_synced_anywhere"

    id = columns.UUID(primary_key=True)
    body = columns.Text()


class NoSuchKeyspace(Model):
    __keyspace__ = "cqlengine_no_such_keyspace"

    id = columns.UUID(primary_key=True)


def test_a_table_never_synced_names_the_model_and_sync_table(cqlengine_connection):
    for attempt in (lambda: NeverSynced.objects.get(id=uuid.uuid4()),
                    lambda: NeverSynced.create(id=uuid.uuid4(), body="x"),
                    lambda: list(NeverSynced.objects.filter(id=uuid.uuid4())),
                    lambda: NeverSynced.objects.filter(id=uuid.uuid4()).update(body="y"),
                    lambda: asyncio.run(NeverSynced.objects.aget(id=uuid.uuid4())),
                    lambda: asyncio.run(NeverSynced(id=uuid.uuid4(), body="x").asave())):
        with pytest.raises(TableNotFound) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith("NeverSynced: Cassandra has no table never_synced_anywhere")
        assert "management.sync_table(NeverSynced)" in message
        assert isinstance(caught.value, InvalidRequest)  # what the peer raises, for code catching that


def test_a_raw_statement_on_a_missing_table_says_to_create_it(cqlengine_connection):
    keyspace = cqlengine_connection.default_keyspace
    with pytest.raises(TableNotFound, match=rf"no table nowhere_table \(in SELECT \* FROM {keyspace}.nowhere_table "
                                            r"WHERE id = \?\): create it first: management\.sync_table\(Model\)"):
        connection.execute(f"SELECT * FROM {keyspace}.nowhere_table WHERE id = ?", [uuid.uuid4()])


def test_concurrent_statements_tell_each_failure_in_its_place(cqlengine_connection):
    """A statement refused while the others are written keeps its place among the outcomes."""
    keyspace = cqlengine_connection.default_keyspace
    connection.execute(f"CREATE TABLE {keyspace}.told_in_place (id uuid PRIMARY KEY, body text)")
    insert = f"INSERT INTO {keyspace}.told_in_place (id, body) VALUES (?, ?)"
    try:
        outcomes = connection.execute_concurrently([(insert, [uuid.uuid4(), "a"], None), (insert, [None, "b"], None),
                                                    (insert, [uuid.uuid4(), "c"], None)], concurrency=2)
        assert [ok for ok, _ in outcomes] == [True, False, True]
        assert isinstance(outcomes[1][1], InvalidRequest)  # a null key: the server refuses that one alone
        assert "Invalid null value" in str(outcomes[1][1])
        assert sorted(row["body"] for row in connection.execute(f"SELECT body FROM {keyspace}.told_in_place")) == [
            "a", "c"]
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {keyspace}.told_in_place")


def test_a_raw_statement_without_a_keyspace_names_the_settings(cqlengine_connection):
    with pytest.raises(TableNotFound, match=r"names a table without its keyspace and the session has none"):
        connection.execute("SELECT * FROM nowhere_table WHERE id = ?", [uuid.uuid4()])


def test_a_missing_keyspace_says_to_create_it(cqlengine_connection):
    with pytest.raises(TableNotFound) as caught:
        NoSuchKeyspace.objects.get(id=uuid.uuid4())
    message = str(caught.value)
    assert "NoSuchKeyspace: Cassandra has no keyspace cqlengine_no_such_keyspace" in message
    assert "create_keyspace" in message and "sync_table(NoSuchKeyspace)" in message


def test_no_keyspace_at_all_names_the_settings_and_sends_nothing(cassandra, cqlengine_connection):
    name = f"no_keyspace_{uuid.uuid4().hex[:8]}"
    conn = connection.register_connection(name, hosts=cassandra.contact_points,
                                          cluster_options={"port": cassandra.port})

    class Homeless(Model):
        __connection__ = name

        id = columns.UUID(primary_key=True)
        body = columns.Text()

    try:
        sent = conn.stats.executed
        for attempt in (lambda: Homeless.create(id=uuid.uuid4(), body="x"),
                        lambda: Homeless.objects.get(id=uuid.uuid4())):
            with pytest.raises(KeyspaceNotSet) as caught:
                attempt()
            message = str(caught.value)
            assert message.startswith("Homeless: no keyspace to find table homeless in")
            assert "Homeless.__keyspace__" in message and f"connection {name!r}" in message
            assert "default_keyspace=" in message and "using(keyspace=" in message
        assert conn.stats.executed == sent
        with pytest.raises(TableNotFound, match="no table homeless"):  # using() names a keyspace: sent
            Homeless.objects.using(keyspace=cqlengine_connection.default_keyspace).get(id=uuid.uuid4())
        connection.execute(f"USE {cqlengine_connection.default_keyspace}", connection=name)
        with pytest.raises(TableNotFound, match="no table homeless"):  # the session's keyspace: sent there
            Homeless.objects.get(id=uuid.uuid4())
    finally:
        connection.unregister_connection(name)


def test_get_with_two_matches_says_how_many_and_the_filter(cqlengine_connection):
    class Pair(Model):
        __table_name__ = f"pairs_{uuid.uuid4().hex[:8]}"

        owner = columns.Integer(primary_key=True)
        seq = columns.Integer(primary_key=True)

    management.sync_table(Pair)
    try:
        Pair.create(owner=7, seq=1)
        Pair.create(owner=7, seq=2)
        Pair.create(owner=7, seq=3)
        with pytest.raises(MultipleObjectsReturned) as caught:
            Pair.objects.get(owner=7)
        message = str(caught.value)
        assert "Pair.get(): at least 2 rows match (owner = 7)" in message
        assert "whole primary key" in message
    finally:
        management.drop_table(Pair)


def test_a_schema_mismatch_gives_the_ways_forward(cqlengine_connection):
    table = f"mismatch_{uuid.uuid4().hex[:8]}"

    class Before(Model):
        __table_name__ = table

        id = columns.UUID(primary_key=True)
        name = columns.Text()

    class After(Model):
        __table_name__ = table

        id = columns.UUID(primary_key=True)
        name = columns.Integer()

    management.sync_table(Before)
    try:
        with pytest.raises(SchemaMismatch) as caught:
            management.sync_table(After)
        message = str(caught.value)
        assert "type differs" in message and "Ways forward" in message
        assert "cqlengine.migrate" in message and "new table" in message and "sync_table again" in message
    finally:
        management.drop_table(Before)


class Forwarder:
    """A TCP forwarder to the real node, which can be cut: the node, as the client sees it, goes away."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.cut_off = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut_off.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while not self.cut_off.is_set():
                ready, _, _ = select.select([a, b], [], [], 0.2)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    (b if src is a else a).sendall(data)
        except OSError:
            return

    def cut(self) -> None:
        self.cut_off.set()
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def test_a_node_gone_names_the_host_its_state_and_last_error(cassandra, cqlengine_connection):
    forwarder = Forwarder(cassandra.contact_points[0], cassandra.port)
    name = f"goes_away_{uuid.uuid4().hex[:8]}"
    connection.register_connection(name, hosts=["127.0.0.1"], cluster_options={
        "port": forwarder.port, "connect_timeout": 2, "control_connection_timeout": 2})
    endpoint = f"127.0.0.1:{forwarder.port}"
    try:
        assert connection.execute("SELECT release_version FROM system.local", connection=name).one()
        forwarder.cut()
        messages: list[str] = []
        for _ in range(100):  # the driver notices the lost connection, then marks the host down
            try:
                connection.execute("SELECT release_version FROM system.local", connection=name, timeout=2)
            except NoHostAvailable as exc:
                assert isinstance(exc, ConnectionUnreachable), exc
                messages.append(str(exc))
                if "no host was up" in messages[-1]:
                    break
            time.sleep(0.05)
        # While the request was in flight: the host tried and its error.
        tried = [m for m in messages if "no host could run the statement; tried" in m]
        assert all(f"Connection {name!r}" in m and endpoint in m for m in tried)
        # Then, the host marked down: it, its state, and the last connection error seen of it. One is seen
        # for sure when a request tried the host; when the driver marked it down before any request did,
        # the error is the one its conviction policy was given, if the driver went through it.
        down = messages[-1]
        prefix = f"Connection {name!r}: no host was up to run the statement: {endpoint} (down"
        assert down.startswith(prefix + (", last error: " if tried else "")), messages
        assert "check that the node runs and is reachable" in down
    finally:
        connection.unregister_connection(name)


def test_a_timestamp_on_a_counter_write_is_refused_before_sending(cqlengine_connection):
    from cqlengine.exceptions import CounterTimestamp, ValidationError

    class Hits(Model):
        __table_name__ = f"hits_{uuid.uuid4().hex[:8]}"

        page = columns.Integer(primary_key=True)
        views = columns.Counter()

    management.sync_table(Hits)
    try:
        sent = cqlengine_connection.stats.executed
        for attempt in (lambda: Hits.objects(page=1).timestamp(1000).update(views=1),
                        lambda: Hits(page=2, views=1).timestamp(1000).save()):
            with pytest.raises(CounterTimestamp) as caught:
                attempt()
            assert isinstance(caught.value, ValidationError) and isinstance(caught.value, InvalidRequest)
            assert "Hits: timestamp(1000) cannot date a write of a counter table" in str(caught.value)
        assert cqlengine_connection.stats.executed == sent
        Hits.objects(page=1).update(views=1)  # without a timestamp: counted
        assert Hits.objects.get(page=1).views == 1
    finally:
        management.drop_table(Hits)


def test_a_static_only_queryset_update_with_a_row_condition_is_refused_before_sending(cqlengine_connection):
    from cqlengine.exceptions import NullKeyValue, QueryException

    class Board(Model):
        __table_name__ = f"boards_{uuid.uuid4().hex[:8]}"

        p = columns.Integer(partition_key=True)
        ck = columns.Integer(primary_key=True)
        s = columns.Integer(static=True)
        v = columns.Text()

    management.sync_table(Board)
    try:
        sent = cqlengine_connection.stats.executed
        with pytest.raises(QueryException, match="the condition on v needs a row"):
            Board.objects(p=0).iff(v="x").update(s=5)
        with pytest.raises(NullKeyValue, match="the condition on v needs a row"):
            Board(p=0, ck=None).iff(v="x").update(s=5)
        assert cqlengine_connection.stats.executed == sent
        # By the full primary key the update names its row, which the condition reads: Cassandra takes it.
        from cqlengine.exceptions import LWTException

        with pytest.raises(LWTException):
            Board.objects(p=0, ck=1).iff(v="x").update(s=5)  # no such row: not applied
        Board.create(p=0, ck=1, v="x")
        Board.objects(p=0, ck=1).iff(v="x").update(s=5)
        Board.objects(p=0, ck=1).iff(v="x").update(s=None)
        Board.objects(p=0, ck=1).iff(v="x").update(s=6)
        assert [(b.ck, b.s) for b in Board.objects(p=0)] == [(1, 6)]
        # So does an instance's (it was refused by the server: "Some clustering keys are missing").
        with pytest.raises(LWTException):
            Board(p=0, ck=2).iff(v="x").update(s=7)
        Board(p=0, ck=1).iff(v="x").update(s=7)
        Board(p=0, ck=1).iff(v="x").update(s=None)
        assert [(b.ck, b.s) for b in Board.objects(p=0)] == [(1, None)]
    finally:
        management.drop_table(Board)
