"""The connection layer on its own: connect, create a keyspace and a table, write and read a row.

Runs against the local Cassandra that `make demo` starts (or CQLENGINE_TEST_HOSTS).
"""
import uuid

from _demo import KEYSPACE, contact

from cqlengine import connection

hosts, port = contact()
conn = connection.setup(hosts, port=port)
print(f"connected to {hosts} port {port}")

# DDL names are part of the text (only values are bound); KEYSPACE is the demo's own constant.
connection.execute(
    f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} "
    "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
)
connection.execute(
    f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.greetings (id uuid PRIMARY KEY, text text)"
)
print(f"keyspace {KEYSPACE} and table greetings are there")

row_id = uuid.uuid4()
# Values are bound: the text below is prepared once, then reused.
connection.execute(f"INSERT INTO {KEYSPACE}.greetings (id, text) VALUES (?, ?)", [row_id, "hello, Cassandra"])
row = connection.execute(f"SELECT id, text FROM {KEYSPACE}.greetings WHERE id = ?", [row_id]).one()
print(f"wrote and read back: {row}")
print(f"prepared statements: {conn.stats.prepared_misses} prepared, {conn.stats.prepared_hits} reused")
connection.unregister_connection(connection.DEFAULT_CONNECTION)
