"""At DEBUG, statements are logged by their shape: no bound value and no literal of a caller's CQL."""
from __future__ import annotations

import uuid

import pytest
from cassandra.query import BatchStatement, SimpleStatement

from cqlengine import columns, connection, management
from cqlengine.models import Model
from cqlengine.query import BatchQuery

SECRET = "s3cr3t-" + uuid.uuid4().hex


class Account(Model):
    __table_name__ = "quiet_accounts"
    id = columns.Integer(primary_key=True)
    token = columns.Text()


@pytest.fixture(scope="module")
def ks(cqlengine_connection):
    management.sync_table(Account)
    return cqlengine_connection.default_keyspace


def test_no_value_reaches_the_log(ks, cql_log):
    table = Account.column_family_name()
    Account.create(id=1, token=SECRET)
    Account.objects(id=1).update(token=SECRET + "2")
    Account.objects.filter(id=1).allow_filtering().filter(token=SECRET).count()
    with BatchQuery() as batch:
        Account.batch(batch).create(id=2, token=SECRET)
    prepared = connection.get_session().prepare(f"SELECT * FROM {table} WHERE id = ?")
    connection.execute(prepared.bind([1]))
    connection.execute(prepared, [1])
    connection.execute(f"SELECT * FROM {table} WHERE id = 1 AND \"token\" = '{SECRET}' ALLOW FILTERING")
    literal = f"SELECT * FROM {table} WHERE id = 1 AND \"token\" = '{SECRET}' ALLOW FILTERING"
    connection.execute(SimpleStatement(literal))
    insert = connection.get_session().prepare(f"INSERT INTO {table} (id, \"token\") VALUES (?, ?)")
    driver_batch = BatchStatement()
    driver_batch.add(f"INSERT INTO {table} (id, \"token\") VALUES (3, '{SECRET}')")
    driver_batch.add(insert.bind([4, SECRET]))
    connection.execute(driver_batch)
    assert len(cql_log) >= 9
    assert [line for line in cql_log if SECRET in line] == []
    assert any('"token" = ?' in line for line in cql_log)  # the shape is there


def test_literals_of_every_kind_are_hidden():
    from cqlengine.statements import without_literals

    assert without_literals("CREATE ROLE r WITH PASSWORD = 'it''s' AND LOGIN = true") == \
        "CREATE ROLE r WITH PASSWORD = ? AND LOGIN = true"
    assert without_literals('SELECT * FROM ks.t1 WHERE "Col 9" = -1.5e3 AND u = 123e4567-e89b-12d3-a456-'
                            "426614174000 AND b = 0xCAFE LIMIT 10") == \
        'SELECT * FROM ks.t1 WHERE "Col 9" = ? AND u = ? AND b = ? LIMIT ?'
    assert without_literals("INSERT INTO t (a) VALUES ($$x'y$$)") == "INSERT INTO t (a) VALUES (?)"
    # A comment is dropped: an apostrophe in it must not pair with a string's quote.
    assert without_literals("/* it's mine */ CREATE ROLE r WITH PASSWORD = 'hunter2' -- or 'x'") == \
        " CREATE ROLE r WITH PASSWORD = ? "
    assert without_literals("INSERT INTO t (k, d, e, f, g) VALUES (1, 12h30m, P3Y6M4DT12H30M5S, 31415., 3.e5)") == \
        "INSERT INTO t (k, d, e, f, g) VALUES (?, ?, ?, ?, ?)"
    assert without_literals("SELECT p1, col2 FROM ks_2024.tbl9 WHERE a = NaN AND b = -Infinity") == \
        "SELECT p1, col2 FROM ks_2024.tbl9 WHERE a = ? AND b = ?"
