"""The shape of a local cluster, without starting it."""
from __future__ import annotations

from pathlib import Path

import pytest

from cqlengine.testing import server
from cqlengine.testing.cluster import ClusterSettings, ring_token
from cqlengine.testing.ring import RingWatcher
from cqlengine.testing.server import LauncherError, ServerSettings


def test_each_node_has_its_own_address_and_an_even_share_of_the_ring(tmp_path):
    cluster = ClusterSettings(nodes=3, base=ServerSettings(cache=tmp_path))
    nodes = [cluster.node(i) for i in (1, 2, 3)]
    assert [n.host for n in nodes] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert {(n.port, n.storage_port) for n in nodes} == {(19042, 17000)}
    assert {n.seeds for n in nodes} == {"127.0.0.1:17000"}
    tokens = [n.initial_token for n in nodes]
    assert tokens == sorted(tokens) and tokens[0] == -(2 ** 63)
    gaps = {b - a for a, b in zip(tokens, tokens[1:] + [tokens[0] + 2 ** 64])}
    assert max(gaps) - min(gaps) <= 2  # equal thirds, up to rounding
    assert all(-(2 ** 63) <= t < 2 ** 63 for t in tokens)


def test_nodes_are_named_by_address_and_port_so_their_state_and_data_never_mix(tmp_path):
    cluster = ClusterSettings(nodes=3, base=ServerSettings(cache=tmp_path))
    names = [cluster.node(i).name for i in (1, 2, 3)]
    assert names == ["cluster-19042-node1", "cluster-19042-node2", "cluster-19042-node3"]
    assert ServerSettings(cache=tmp_path, port=19042).name == "node-19042"  # a single node there: not node 1
    assert len({cluster.node(i).state_file for i in (1, 2, 3)} | {ServerSettings(cache=tmp_path).state_file}) == 4
    assert cluster.lock_settings.lock_file not in {cluster.node(i).lock_file for i in (1, 2, 3)}
    run = tmp_path / "runs" / "cluster-19042-node2-abc"
    run.mkdir(parents=True)
    assert server.is_run_dir(cluster.node(2), run) and not server.is_run_dir(cluster.node(1), run)
    assert not server.is_run_dir(ServerSettings(cache=tmp_path, port=19042), run)


def test_a_cluster_on_the_single_nodes_ports_is_refused(tmp_path):
    with pytest.raises(LauncherError, match="must differ from the single node"):
        ClusterSettings(port=9042, base=ServerSettings(cache=tmp_path))
    with pytest.raises(LauncherError, match="CQLENGINE_CLUSTER_STORAGE_PORT"):
        ClusterSettings(storage_port=7000, base=ServerSettings(cache=tmp_path))


def test_the_yaml_of_a_node_names_the_seed_its_token_and_its_own_address(tmp_path):
    node = ClusterSettings(nodes=3, base=ServerSettings(cache=tmp_path)).node(2)
    text = server.render_yaml(node, Path("/run"))
    assert 'seeds: "127.0.0.1:17000"' in text
    assert f"initial_token: {ring_token(2, 3)}" in text
    assert "listen_address: 127.0.0.2" in text and "rpc_address: 127.0.0.2" in text
    assert "auto_bootstrap: false" in text and "cluster_name: cqlengine-cluster-19042" in text
    # A lone node is its own seed, as before.
    assert 'seeds: "127.0.0.1:7000"' in server.render_yaml(ServerSettings(cache=tmp_path), Path("/run"))


def test_cluster_settings_from_the_environment_and_their_limits(tmp_path):
    env = {"CQLENGINE_CLUSTER_NODES": "2", "CQLENGINE_CLUSTER_PORT": "29042", "CQLENGINE_CLUSTER_HEAP": "384M",
           "CQLENGINE_CASSANDRA_CACHE": str(tmp_path)}
    settings = ClusterSettings.from_env(env=env)
    assert (settings.nodes, settings.port, settings.heap, settings.base.cache) == (2, 29042, "384M", tmp_path)
    assert settings.node(2).heap == "384M"
    assert ClusterSettings.from_env(nodes=5, env=env).nodes == 5
    with pytest.raises(LauncherError, match="1 to 9 nodes"):
        ClusterSettings(nodes=0)
    with pytest.raises(LauncherError, match="nodes 1 to 2"):
        settings.node(3)


def test_the_ring_watcher_reads_up_only_from_a_heartbeat_that_moved_lately(monkeypatch):
    from cqlengine.testing import ring

    now = [100.0]
    monkeypatch.setattr(ring.time, "monotonic", lambda: now[0])
    watcher = RingWatcher(["127.0.0.1"], 19042, stale_after=4.0)
    row = ("127.0.0.2", 10, 1000, "NORMAL,123")
    assert watcher._letters("127.0.0.1", row) == "DN"  # first look: nothing to compare with
    now[0] += 1
    assert watcher._letters("127.0.0.1", ("127.0.0.2", 11, 1000, "NORMAL,123")) == "UN"
    now[0] += 1.1  # gossip has not brought the next beat yet: still up
    assert watcher._letters("127.0.0.1", ("127.0.0.2", 11, 1000, "NORMAL,123")) == "UN"
    now[0] += 3.0  # stood still for longer than stale_after
    assert watcher._letters("127.0.0.1", ("127.0.0.2", 11, 1000, "NORMAL,123")) == "DN"
    now[0] += 1
    assert watcher._letters("127.0.0.1", ("127.0.0.2", 1, 1001, "BOOT,1")) == "UJ"  # restarted: new generation
    assert watcher._letters("127.0.0.1", ("127.0.0.2", 1, 1001, None)) == "U?"
    now[0] += 5
    assert watcher._letters("127.0.0.1", ("127.0.0.2", 1, 1001, None)) == "D?"


def test_a_node_shut_down_cleanly_still_owns_its_tokens_so_it_reads_down_and_normal():
    watcher = RingWatcher(["127.0.0.1"], 19042)
    watcher._letters("127.0.0.1", ("127.0.0.2", 10, 1000, "NORMAL,1"))
    assert watcher._letters("127.0.0.1", ("127.0.0.2", 10, 1000, "shutdown,true")) == "DN"


def test_the_last_session_out_stops_the_cluster_a_session_started(tmp_path, monkeypatch):
    from cqlengine.testing import cluster as cluster_module
    from cqlengine.testing.cluster import LocalCluster

    cluster = LocalCluster(ClusterSettings(base=ServerSettings(cache=tmp_path)))
    lock = cluster.settings.lock_settings
    stops: list[str] = []
    monkeypatch.setattr(cluster, "_stop_all", lambda: stops.append("stopped") or [])
    others = [4242]  # another session holds a lease
    monkeypatch.setattr(cluster_module, "_live_leases", lambda settings: list(others))

    cluster_module.take_lease(lock)
    cluster.release(started=True)  # the starter ends first: the cluster stays, marked for the last one
    assert stops == [] and lock.state_file.exists()
    others.clear()
    cluster.release(started=False)  # the last session, which only reused it, stops it
    assert stops == ["stopped"] and not lock.state_file.exists()
    cluster.release(started=False)  # a session that neither started it nor inherited it: left alone
    assert stops == ["stopped"]


def test_cluster_nodes_wait_for_their_peers_gossip_and_come_back_on_their_newest_data(tmp_path):
    import os
    import time

    from cqlengine.testing.cluster import newest_run_dir

    cluster = ClusterSettings(base=ServerSettings(cache=tmp_path))
    node = cluster.node(3)
    command = server.java_command(node, Path("/run"), Path("/lib"), "java")
    assert "-Dcassandra.ring_delay_ms=15000" in command
    assert "-Dcassandra.ring_delay_ms=100" in server.java_command(ServerSettings(cache=tmp_path), Path("/r"),
                                                                  Path("/l"), "java")
    assert newest_run_dir(node) is None
    old, new = (tmp_path / "runs" / f"cluster-19042-node3-{n}" for n in ("old", "new"))
    for i, path in enumerate((old, new)):
        path.mkdir(parents=True)
        os.utime(path, (time.time() - 100 + i * 50, time.time() - 100 + i * 50))
    (tmp_path / "runs" / "cluster-19042-node2-newest").mkdir()  # another node's: never node 3's
    assert newest_run_dir(node) == new
