"""create_keyspace: NetworkTopologyStrategy in the local datacenter by default; create_keyspace_simple as it was."""
from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

from cqlengine import connection, management
from cqlengine.exceptions import CQLEngineException, SchemaMismatch

NTS = "org.apache.cassandra.locator.NetworkTopologyStrategy"


@pytest.fixture
def name(cqlengine_connection) -> Iterator[str]:
    keyspace = f"cqlengine_ks_{uuid.uuid4().hex[:10]}"
    yield keyspace
    management.drop_keyspace(keyspace)


@pytest.fixture(scope="module")
def local_dc(cqlengine_connection) -> str:
    return str(connection.execute("SELECT data_center FROM system.local").one()["data_center"])


def replication(name: str) -> dict[str, Any]:
    info = management.get_keyspace(name)
    assert info is not None
    return dict(info.replication)


def test_the_default_is_network_topology_in_the_local_datacenter(name, local_dc):
    nodes = sum(1 for host in connection.get_cluster().metadata.all_hosts() if host.datacenter == local_dc)
    management.create_keyspace(name)
    assert replication(name) == {"class": NTS, local_dc: str(min(3, nodes))}


def test_an_int_is_the_replicas_in_the_local_datacenter(name, local_dc):
    management.create_keyspace(name, 1)
    assert replication(name) == {"class": NTS, local_dc: "1"}
    management.create_keyspace(name, 1)  # the same again: nothing to do
    with pytest.raises(SchemaMismatch, match="replication differs"):
        management.create_keyspace(name, 2)


def test_a_mapping_names_replicas_per_datacenter_or_the_whole_replication(name, local_dc):
    management.create_keyspace(name, {local_dc: 1}, durable_writes=False)
    assert replication(name) == {"class": NTS, local_dc: "1"}
    info = management.get_keyspace(name)
    assert info is not None and info.durable_writes is False
    management.drop_keyspace(name)
    management.create_keyspace(name, {"class": "SimpleStrategy", "replication_factor": 1})
    assert replication(name) == {"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"}


def test_create_keyspace_simple_keeps_its_meaning(name):
    management.create_keyspace_simple(name, 1)
    assert replication(name)["class"].endswith("SimpleStrategy")


@pytest.mark.parametrize("replication", ["three", 0, -1, True])
def test_a_replication_of_another_kind_is_refused_before_anything_is_sent(name, replication):
    with pytest.raises(CQLEngineException, match=r"replication must be None, a number of replicas \(1 or more\)"):
        management.create_keyspace(name, replication)
    assert management.get_keyspace(name) is None


def test_the_default_keeps_a_keyspace_made_with_other_replicas(name, local_dc):
    management.create_keyspace(name, {local_dc: 2})  # as if made when the datacenter had more nodes
    management.create_keyspace(name)  # the application's start-up call: nothing to do
    assert replication(name) == {"class": NTS, local_dc: "2"}
