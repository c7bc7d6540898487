"""The connection layer on its own: connect, create a keyspace and a table, write and read a row.

Runs against the local Cassandra that `make demo` starts (or CQLENGINE_TEST_HOSTS).
"""
import uuid

from _demo import contact

from cqlengine import connection

hosts, port = contact()
conn = connection.setup(hosts, port=port)
print(f"connected to {hosts} port {port}")

connection.execute(
    "CREATE KEYSPACE IF NOT EXISTS cqlengine_demo "
    "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
)
connection.execute(
    "CREATE TABLE IF NOT EXISTS cqlengine_demo.greetings (id uuid PRIMARY KEY, text text)"
)
print("keyspace cqlengine_demo and table greetings are there")

row_id = uuid.uuid4()
# Values are bound: the text below is prepared once, then reused.
connection.execute("INSERT INTO cqlengine_demo.greetings (id, text) VALUES (?, ?)", [row_id, "hello, Cassandra"])
row = connection.execute("SELECT id, text FROM cqlengine_demo.greetings WHERE id = ?", [row_id]).one()
print(f"wrote and read back: {row}")
print(f"prepared statements: {conn.stats.prepared_misses} prepared, {conn.stats.prepared_hits} reused")
connection.unregister_connection(connection.DEFAULT_CONNECTION)
