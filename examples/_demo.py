"""Shared set-up of the examples: connect to the local Cassandra and use a demo keyspace."""
import os

from cqlengine import connection
from cqlengine.management import create_keyspace_simple

#: The demo's keyspace (the test suite runs the examples in one of its own).
KEYSPACE = os.environ.get("CQLENGINE_DEMO_KEYSPACE", "cqlengine_demo")


def contact() -> tuple[list[str], int]:
    """Where the demo's Cassandra is: CQLENGINE_TEST_HOSTS, else the local node `make demo` started."""
    port = int(os.environ.get("CQLENGINE_CASSANDRA_PORT", "9042"))
    hosts = []
    for entry in filter(None, os.environ.get("CQLENGINE_TEST_HOSTS", "").split(",")):
        host, _, host_port = entry.strip().partition(":")
        hosts.append(host)
        port = int(host_port or port)
    return hosts or ["127.0.0.1"], port


def connect() -> None:
    hosts, port = contact()
    connection.setup(hosts, default_keyspace=KEYSPACE, port=port)
    create_keyspace_simple(KEYSPACE, replication_factor=1)
