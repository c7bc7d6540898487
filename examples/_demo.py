"""Shared set-up of the examples: connect to the local Cassandra and use a demo keyspace."""
import os

from cqlengine import connection
from cqlengine.management import create_keyspace_simple

KEYSPACE = "cqlengine_demo"


def connect() -> None:
    hosts = [h for h in os.environ.get("CQLENGINE_TEST_HOSTS", "127.0.0.1").split(",") if h]
    connection.setup(hosts, default_keyspace=KEYSPACE)
    create_keyspace_simple(KEYSPACE, replication_factor=1)
