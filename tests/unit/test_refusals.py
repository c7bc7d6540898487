"""How the server's refusals are told: which ones say what is missing, and what the message then says."""
from __future__ import annotations

import pytest
from cassandra import InvalidRequest
from cassandra.cluster import NoHostAvailable

from cqlengine.connection import refusals, telemetry
from cqlengine.exceptions import ConnectionUnreachable, TableNotFound


def server_says(message: str) -> InvalidRequest:
    return InvalidRequest(f'Error from server: code=2200 [Invalid query] message="{message}"')


@pytest.mark.parametrize("message, what, name", [
    ("table notes does not exist", "table", "notes"),  # Cassandra 5
    ("unconfigured table notes", "table", "notes"),  # Cassandra 3 and 4
    ("keyspace app does not exist", "keyspace", "app"),
    ("Keyspace app does not exist", "keyspace", "app"),
])
def test_a_missing_table_or_keyspace_is_told_with_what_creates_it(message: str, what: str, name: str):
    told = refusals.explained(server_says(message), 'SELECT * FROM "app"."notes" WHERE id = ?', None, "default")
    assert isinstance(told, TableNotFound) and isinstance(told, InvalidRequest)
    assert told.missing == (what, name, 'SELECT * FROM "app"."notes" WHERE id = ?')
    assert f"Cassandra has no {what} {name}" in str(told)
    named = refusals.for_model(told, "Note")
    assert str(named).startswith(f"Note: Cassandra has no {what} {name}")
    assert "management.sync_table(Note)" in str(named)


def test_raw_text_without_a_keyspace_says_to_qualify_it_or_use_one():
    told = refusals.explained(server_says("No keyspace has been specified. USE a keyspace, or explicitly specify "
                                          "keyspace.tablename"), "INSERT INTO notes (id) VALUES (?)", None, "default")
    assert isinstance(told, TableNotFound)
    assert "qualify the table (keyspace.table), or give the session a keyspace (USE" in str(told)
    assert str(told).endswith('message="No keyspace has been specified. USE a keyspace, or explicitly specify '
                              'keyspace.tablename")')  # what the server said, kept


def test_the_servers_words_are_kept_at_the_end():
    told = refusals.explained(server_says("table notes does not exist"), "SELECT * FROM ks.notes", None, "default")
    assert str(told).endswith('message="table notes does not exist")')
    assert str(refusals.for_model(told, "Note")).endswith('message="table notes does not exist")')


def test_a_host_that_answered_with_a_refusal_is_no_connection_problem():
    from cassandra import ConsistencyLevel, Unavailable

    refused = NoHostAvailable("Unable to complete the operation against any hosts", {
        "10.0.0.1:9042": Unavailable("Cannot achieve consistency level THREE", ConsistencyLevel.THREE, 3, 1)})
    assert refusals.explained(refused, "SELECT 1", None, "app") is refused


def test_a_later_message_remembers_each_hosts_last_error():
    remembered: dict = {}
    refusals.explained(NoHostAvailable("x", {"10.0.0.1:9042": OSError("reset")}), "SELECT 1", None, "app", remembered)
    assert str(remembered["10.0.0.1:9042"]) == "reset"


@pytest.mark.parametrize("message", [
    "Undefined column name nope in table app.notes",
    "Cannot execute this query as it might involve data filtering",
    "Type app.address does not exist",
])
def test_other_refusals_are_left_as_they_are(message: str):
    refused = server_says(message)
    assert refusals.explained(refused, "SELECT * FROM notes", None, "default") is refused


def test_no_host_tried_says_each_hosts_error():
    error = refusals.explained(NoHostAvailable("Unable to complete the operation against any hosts",
                                               {"10.0.0.1:9042": OSError("Connection refused")}),
                               "SELECT 1", None, "app")
    assert isinstance(error, ConnectionUnreachable) and isinstance(error, NoHostAvailable)
    assert str(error) == ("Connection 'app': no host could run the statement; tried 10.0.0.1:9042: OSError: "
                          "Connection refused")


def test_our_own_errors_pass_through():
    ours = ConnectionUnreachable("already told")
    assert refusals.explained(ours, "SELECT 1", None, "app") is ours


@pytest.mark.parametrize("cql, expected", [
    ('SELECT "a", "b" FROM "ks"."notes" WHERE "id" = ?', ("SELECT", "ks", "notes")),
    ('INSERT INTO "ks"."my ""odd"" table" ("id") VALUES (?)', ("INSERT", "ks", 'my "odd" table')),
    ('UPDATE notes SET body = ? WHERE id = ?', ("UPDATE", None, "notes")),
    ('DELETE FROM ks.notes WHERE id = ?', ("DELETE", "ks", "notes")),
    ("BEGIN BATCH INSERT INTO ks.notes (id) VALUES (?) APPLY BATCH", ("BATCH", "ks", "notes")),
    ("CREATE TABLE IF NOT EXISTS ks.notes (id int PRIMARY KEY)", ("CREATE", "ks", "notes")),
    ('CREATE CUSTOM INDEX IF NOT EXISTS ON "ks"."notes" ("v") USING \'sai\'', ("CREATE", "ks", "notes")),
    ("SELECT release_version FROM system.local", ("SELECT", "system", "local")),
])
def test_telemetry_reads_the_operation_keyspace_and_table_of_a_statement(cql: str, expected: tuple):
    operation, keyspace, table, shape = telemetry.describe(cql)
    assert (operation, keyspace, table) == expected
    assert "'" not in shape


def test_the_telemetry_shape_never_holds_a_literal():
    *_, shape = telemetry.describe("SELECT * FROM ks.notes WHERE body = 'secret' AND n = 42 LIMIT 5")
    assert "secret" not in shape and "42" not in shape
