"""Fixtures of the fault tests: a mapper connection to the local three-node cluster.

The cluster is the plugin's ``cassandra_cluster`` (started once per session);
every model here lives in one keyspace replicated three times, and every
statement goes out at QUORUM, so any one node may be lost without losing an
acknowledged write.

The connection is set up as for a production cluster: after a node dies,
coordinators go on choosing it as a replica until gossip convicts it (about
18 heartbeats with the default ``phi_convict_threshold``), so a QUORUM read
may time out on the server for that long. The driver's retry policy is
where an application says to ask again; the client timeout covers the retries.
"""
from __future__ import annotations

import uuid
from typing import Iterator

import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
from cassandra.policies import ConstantReconnectionPolicy, RetryPolicy

from cqlengine import connection, management
from cqlengine.testing.cluster import LocalCluster

CONNECTION = "cluster"
KEYSPACE = f"cluster_{uuid.uuid4().hex[:10]}"
#: Server-side timeouts (10 s for a range read) times the retries, and some.
CLIENT_TIMEOUT = 60.0


class RetryReadTimeouts(RetryPolicy):
    """A read timed out on the server (a replica is dead but not yet convicted): ask the same
    coordinator again, up to four times; everything else as the driver's default policy."""

    def on_read_timeout(self, query, consistency, required_responses, received_responses,  # type: ignore[override]
                        data_retrieved, retry_num):
        return (self.RETRY, consistency) if retry_num < 4 else (self.RETHROW, None)


@pytest.fixture(scope="session")
def cluster_connection(cassandra_cluster: LocalCluster) -> Iterator[LocalCluster]:
    profile = ExecutionProfile(consistency_level=ConsistencyLevel.QUORUM, request_timeout=CLIENT_TIMEOUT,
                               retry_policy=RetryReadTimeouts())
    connection.register_connection(
        CONNECTION, hosts=cassandra_cluster.contact_points,
        cluster_options={"port": cassandra_cluster.port, "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
                         # A restarted node is used again within a second, not after the default back-off.
                         "reconnection_policy": ConstantReconnectionPolicy(1.0, max_attempts=None)},
    )
    management.create_keyspace_simple(KEYSPACE, 3, connections=[CONNECTION])
    try:
        yield cassandra_cluster
    finally:
        try:
            management.drop_keyspace(KEYSPACE, connections=[CONNECTION])
        finally:
            connection.unregister_connection(CONNECTION)
