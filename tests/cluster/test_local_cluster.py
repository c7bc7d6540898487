"""The local cluster itself: every node sees every node, a node stopped cleanly comes back on its data."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import WhiteListRoundRobinPolicy

from cqlengine import columns
from cqlengine.management import sync_table
from cqlengine.models import Model
from cqlengine.testing.cluster import LocalCluster
from tests.cluster.conftest import CONNECTION, KEYSPACE


class Marker(Model):
    __keyspace__ = KEYSPACE
    __connection__ = CONNECTION
    k = columns.Integer(partition_key=True)
    note = columns.Text()


def read_from_node_alone(address: str, port: int, k: int) -> object:
    """``Marker(k).note`` as node ``address`` holds it itself (consistency ONE, no other coordinator)."""
    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([address]),
                               consistency_level=ConsistencyLevel.ONE)
    cluster = Cluster([address], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    try:
        session = cluster.connect()
        row = session.execute(f"SELECT note FROM {KEYSPACE}.marker WHERE k = %s", (k,)).one()
        return row[0] if row else None
    finally:
        cluster.shutdown()


def test_every_node_sees_every_node_up_and_the_cli_says_so(cluster_connection: LocalCluster):
    cluster = cluster_connection
    assert [node.host for node in cluster.nodes() if node] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert cluster.wait_until_all_up(timeout=30) < 30
    result = subprocess.run([sys.executable, "-m", "cqlengine.testing", "status", "--nodes", "3"],
                            capture_output=True, text=True, env=os.environ, timeout=120)
    lines = [line.split() for line in result.stdout.splitlines() if line.strip().startswith("node")]
    assert result.returncode == 0, result.stderr
    assert [(words[1], words[2]) for words in lines] == [("1", "UN"), ("2", "UN"), ("3", "UN")], result.stdout
    assert all(any(w.startswith("startup=") for w in words) for words in lines)


def test_a_node_stopped_cleanly_keeps_its_data_and_comes_back_on_it(cluster_connection: LocalCluster):
    cluster = cluster_connection
    sync_table(Marker)
    Marker.consistency(ConsistencyLevel.ALL).create(k=1, note="before the stop")  # on node 2 too
    stopped = cluster.stop_node(2)
    assert stopped.run_dir and Path(stopped.run_dir).is_dir()  # kept for the restart
    cluster.wait_for({"127.0.0.1": "UN", "127.0.0.2": "DN", "127.0.0.3": "UN"}, timeout=60)
    Marker.create(k=2, note="while it was down")  # QUORUM: two of three are enough
    started = time.monotonic()
    back = cluster.restart_node(2)
    print(f"\nnode 2 stopped and started again on its data in {time.monotonic() - started:.1f} s "
          f"(CQL after {back.startup_seconds:.1f} s)")
    assert back.run_dir == stopped.run_dir and back.pid != stopped.pid
    assert read_from_node_alone("127.0.0.2", cluster.port, 1) == "before the stop"
    assert Marker.objects.consistency(ConsistencyLevel.ALL).get(k=2).note == "while it was down"
