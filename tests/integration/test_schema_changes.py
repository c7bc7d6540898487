"""Statements follow the schema: a table changed by us, by another client or by another process
keeps taking writes and reads, and sync_table returns only once its new indexes answer."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from cassandra.cluster import Cluster

from cqlengine import columns, connection, management
from cqlengine.exceptions import ValidationError
from cqlengine.models import Model
from cqlengine.usertype import UserType

TABLE = "schema_changes_rows"


def _model(name, key, value):
    """A model of the one table these tests reshape, with the given key and value columns."""
    return type(name, (Model,), {"__table_name__": TABLE, "__module__": __name__,
                                 "k": key(primary_key=True), "v": value()})


IntRow = _model("IntRow", columns.Integer, columns.Integer)
TextRow = _model("TextRow", columns.Text, columns.Text)
BigRow = _model("BigRow", columns.Integer, columns.BigInt)


@pytest.fixture(scope="module")
def other_client(cassandra, cqlengine_connection):
    """Another client of the same cluster: its DDL reaches us only through the server."""
    cluster = Cluster(cassandra.contact_points, port=cassandra.port)
    session = cluster.connect(cqlengine_connection.default_keyspace)
    yield session
    cluster.shutdown()


def _recreate(session, key_type, value_type):
    session.execute(f"DROP TABLE IF EXISTS {TABLE}")
    session.execute(f"CREATE TABLE {TABLE} (k {key_type} PRIMARY KEY, v {value_type})")


def _write_and_read_ints():
    IntRow.create(k=1, v=10)
    assert IntRow.get(k=1).v == 10


def test_our_ddl_drop_and_sync_with_other_types(cqlengine_connection):
    management.sync_table(IntRow)
    _write_and_read_ints()
    management.drop_table(IntRow)
    management.sync_table(TextRow)
    TextRow.create(k="a", v="text now")
    assert TextRow.get(k="a").v == "text now"
    management.drop_table(TextRow)


def test_another_clients_ddl_changing_a_key_type(cqlengine_connection, other_client):
    _recreate(other_client, "int", "int")
    _write_and_read_ints()
    stats = cqlengine_connection.stats
    before = stats.reprepared_on_bind_error + stats.prepared_invalidations
    _recreate(other_client, "text", "text")  # our driver may not have heard of it yet
    TextRow.create(k="b", v="after the other client")
    assert TextRow.get(k="b").v == "after the other client"
    assert stats.reprepared_on_bind_error + stats.prepared_invalidations > before


def test_another_clients_ddl_widening_a_value_type(cqlengine_connection, other_client):
    # int -> bigint: the old statement still binds (4 bytes) and the server refuses it; retried once.
    _recreate(other_client, "int", "int")
    _write_and_read_ints()
    _recreate(other_client, "int", "bigint")
    BigRow.create(k=2, v=2**40)
    assert BigRow.get(k=2).v == 2**40


def test_another_process_reshapes_the_table_while_we_write(cqlengine_connection, cassandra):
    _recreate_in_process = textwrap.dedent(f"""
        from cassandra.cluster import Cluster
        cluster = Cluster({list(cassandra.contact_points)!r}, port={cassandra.port})
        session = cluster.connect({cqlengine_connection.default_keyspace!r})
        session.execute("DROP TABLE IF EXISTS {TABLE}")
        session.execute("CREATE TABLE {TABLE} (k text PRIMARY KEY, v text)")
        cluster.shutdown()
    """)
    management.drop_table(TextRow)
    management.sync_table(IntRow)
    _write_and_read_ints()
    subprocess.run([sys.executable, "-c", _recreate_in_process], check=True, timeout=120)
    for n in range(3):
        TextRow.create(k=f"p{n}", v="from the other process's schema")
    assert sorted(r.k for r in TextRow.objects.all()) == ["p0", "p1", "p2"]


def test_async_writes_follow_another_clients_ddl(cqlengine_connection, other_client):
    _recreate(other_client, "int", "int")

    async def scenario():
        await IntRow.acreate(k=3, v=30)
        _recreate(other_client, "text", "text")
        await TextRow.acreate(k="c", v="async after")
        _recreate(other_client, "int", "bigint")
        await BigRow.acreate(k=4, v=2**41)
        return (await BigRow.objects.aget(k=4)).v

    assert asyncio.run(scenario()) == 2**41


def test_a_failed_bind_that_is_not_a_schema_change_still_raises(cqlengine_connection, other_client):
    _recreate(other_client, "int", "int")
    with pytest.raises(TypeError):
        connection.execute(f"INSERT INTO {cqlengine_connection.default_keyspace}.{TABLE} (k, v) VALUES (?, ?)",
                           [1, "not an int"])


class Tagged(Model):
    __table_name__ = "schema_changes_tagged"
    k = columns.Integer(partition_key=True)
    c = columns.Integer(primary_key=True)


def _with_indexed_column(n):
    attrs = {"__table_name__": Tagged.__table_name__, "__module__": __name__,
             "k": columns.Integer(partition_key=True), "c": columns.Integer(primary_key=True)}
    for i in range(n + 1):
        attrs[f"tag{i}"] = columns.Text(index=True)
    return type(f"TaggedV{n}", (Model,), attrs)


def test_an_index_added_by_sync_table_answers_at_once(cqlengine_connection):
    management.sync_table(Tagged)
    for c in range(2000):
        Tagged.create(k=c % 10, c=c)
    for n in range(3):
        model = _with_indexed_column(n)
        management.sync_table(model)  # adds column tag{n} with its index on a table with rows
        assert model.objects.filter(**{f"tag{n}": "none yet"}).count() == 0
    model.create(k=1, c=1, **{f"tag{n}": "x"})
    assert [r.c for r in model.objects.filter(**{f"tag{n}": "x"})] == [1]


# -- user types: values go to fields by name; a field the server's type lacks is refused ------


class _Addr(UserType):
    __type_name__ = "schema_changes_addr"
    city = columns.Text()  # the live type has street first: fields bind by name, not position
    street = columns.Text()


class _AddrWithZip(UserType):
    __type_name__ = "schema_changes_addr"
    street = columns.Text()
    city = columns.Text()
    zip = columns.Text()


def _people(addr):
    return type(f"People{addr.__name__}", (Model,), {
        "__table_name__": "schema_changes_people", "__module__": __name__,
        "id": columns.Integer(primary_key=True), "home": columns.UserDefinedType(addr),
        "past": columns.List(columns.UserDefinedType(addr))})


@pytest.fixture(scope="module")
def people(cqlengine_connection):
    ks = cqlengine_connection.default_keyspace
    connection.execute(f"CREATE TYPE {ks}.schema_changes_addr (street text, city text)")
    connection.execute(f"CREATE TABLE {ks}.schema_changes_people "
                       "(id int PRIMARY KEY, home frozen<schema_changes_addr>, past list<frozen<schema_changes_addr>>)")
    return ks


def test_user_type_fields_bind_by_name_whatever_the_model_order(people):
    model = _people(_Addr)
    model.create(id=1, home=_Addr(city="Paris", street="Rue X"), past=[_Addr(city="Lyon", street="Y")])
    raw = connection.execute(f"SELECT home, past FROM {people}.schema_changes_people WHERE id = 1").one()
    assert (raw["home"].street, raw["home"].city) == ("Rue X", "Paris")
    assert (raw["past"][0].street, raw["past"][0].city) == ("Y", "Lyon")
    assert model.get(id=1).home == _Addr(city="Paris", street="Rue X")


def test_a_field_the_servers_type_lacks_is_refused_then_written_after_sync_type(people):
    model = _people(_AddrWithZip)
    with pytest.raises(ValidationError, match="has no field zip .* nothing was sent"):
        model.create(id=2, home=_AddrWithZip(street="s", city="c", zip="123"))
    with pytest.raises(ValidationError, match="has no field zip"):
        model.create(id=2, past=[_AddrWithZip(street="s", zip="9")])  # nested in a list too
    assert model.objects(id=2).count() == 0
    model.create(id=3, home=_AddrWithZip(street="s", city="c"))  # no zip given: nothing is lost
    management.sync_type(people, _AddrWithZip)
    model.create(id=2, home=_AddrWithZip(street="s", city="c", zip="123"))
    assert model.get(id=2).home.zip == "123"
