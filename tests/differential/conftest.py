"""Fixtures of the differential oracle: both mappers' models on the suite's node, a raw reader."""
from __future__ import annotations

import os
from typing import Iterator

import pytest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import RoundRobinPolicy
from cassandra.query import dict_factory

import cqlengine
from tests.differential import machine
from tests.differential.models import declare
from tests.integration.conftest import Mapper, _modules, peer_connection  # noqa: F401 - a fixture, used by name


def pytest_report_header(config: pytest.Config) -> str:
    # The pytest plugin is loaded (and with it ``cqlengine``) before the rootdir joins sys.path: with an
    # editable install of another checkout, that checkout is the one under test (PYTHONPATH chooses).
    return f"differential oracle: cqlengine from {os.path.dirname(cqlengine.__file__)}"


@pytest.fixture(scope="module")
def oracle_world(cassandra, cqlengine_connection, peer_connection) -> Iterator[machine.World]:  # noqa: F811
    """The oracle's models in both mappers, and a driver session of its own that reads their tables."""
    keyspace = cqlengine_connection.default_keyspace
    ours = Mapper("ours", keyspace=keyspace, **_modules("cqlengine"))
    peer = Mapper("peer", keyspace=keyspace, **_modules("cassandra.cqlengine"))
    cluster = Cluster(cassandra.contact_points, port=cassandra.port,
                      execution_profiles={EXEC_PROFILE_DEFAULT: ExecutionProfile(
                          row_factory=dict_factory, load_balancing_policy=RoundRobinPolicy())})
    session = cluster.connect()
    world = machine.World(machine.Side("ours", declare(ours), ours.query),
                          machine.Side("peer", declare(peer), peer.query), session, keyspace)
    machine.WORLD = world
    try:
        yield world
    finally:
        machine.WORLD = None
        cluster.shutdown()


def pytest_terminal_summary(terminalreporter) -> None:
    if machine.COUNTS["examples"]:
        terminalreporter.write_line(f"differential oracle: {machine.COUNTS['examples']} examples run, "
                                    f"{machine.COUNTS['steps']} steps")
