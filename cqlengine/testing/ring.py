"""What each node of a local cluster sees of the ring, asked over CQL (no JMX, no nodetool).

``system_views.gossip_info`` (Cassandra 4.1+) holds, on every node, the gossip
state it has of every endpoint: its status (``NORMAL``, ``LEAVING`` ...) and
its heartbeat, which a live endpoint advances about once a second. A node
learns a peer's new heartbeat only when gossip reaches it, which can take
two or three rounds, so one look a second after another may find a live
peer's heartbeat unmoved. A peer whose heartbeat moved within the last
``STALE_AFTER`` seconds of looking is up, as far as that node knows; one
whose heartbeat stood still that long is down. With the status that gives
the two letters ``nodetool status`` prints: ``UN`` up and normal, ``DN`` down
and normal, ``UJ`` up and joining, and so on.

"Down" here comes sooner than Cassandra's own verdict: its failure detector
convicts a silent node only after missing heartbeats for a while (10 to 20 s
with the default ``phi_convict_threshold``), and until then coordinators go
on sending it requests, which time out instead of failing at once as
unavailable. A test that needs every coordinator to know a node is down
waits for that itself (``tests/cluster/test_faults.py`` does, with a
request at consistency ALL).
"""
from __future__ import annotations

import time
from typing import Any, Optional, Sequence

# A node shut down cleanly announces ``shutdown`` but still owns its tokens: nodetool shows it DN.
_STATUS_LETTER = {"NORMAL": "N", "shutdown": "N", "BOOT": "J", "BOOT_REPLACE": "J", "LEAVING": "L",
                  "LEFT": "L", "MOVING": "M"}

#: Seconds a peer's heartbeat may stand still, as one node sees it, before that node counts it down.
STALE_AFTER = 4.0

GOSSIP_QUERY = "SELECT address, heartbeat, generation, status_with_port FROM system_views.gossip_info"


class RingWatcher:
    """Reads every node's view of the ring through one driver connection.

    A node that cannot be reached has no view (it is down to whoever asks).
    """

    def __init__(self, contact_points: Sequence[str], port: int, timeout: float = 5.0,
                 stale_after: float = STALE_AFTER) -> None:
        self.contact_points = list(contact_points)
        self.port = port
        self.timeout = timeout
        self.stale_after = stale_after
        self._cluster: Any = None
        self._session: Any = None
        #: (node, peer) -> (generation, heartbeat) at the previous look
        self._beats: dict[tuple[str, str], tuple[int, int]] = {}
        #: (node, peer) -> monotonic time that node was last seen to learn a newer heartbeat
        self._advanced: dict[tuple[str, str], float] = {}

    def __enter__(self) -> RingWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
            self._cluster = self._session = None

    def _connect(self) -> Any:
        if self._session is None:
            from cassandra.cluster import Cluster  # the CLI's help needs no driver
            from cassandra.policies import ConstantReconnectionPolicy

            # A restarted node is reconnected within half a second, not after the default backoff.
            self._cluster = Cluster(self.contact_points, port=self.port, connect_timeout=self.timeout,
                                    control_connection_timeout=self.timeout,
                                    reconnection_policy=ConstantReconnectionPolicy(0.5, max_attempts=None))
            self._session = self._cluster.connect()
        return self._session

    def views(self) -> dict[str, dict[str, str]]:
        """``{node: {peer: "UN" | "DN" | ...}}`` for each node that answered.

        A peer counts as up when its heartbeat advanced (or it restarted with a new
        generation) between two of this watcher's looks within the last ``stale_after``
        seconds: call twice, a second or more apart, before trusting a ``U``.
        """
        try:
            session = self._connect()
        except Exception:
            self.close()
            return {}
        hosts = {host.address: host for host in self._cluster.metadata.all_hosts()}
        seen: dict[str, dict[str, str]] = {}
        for node in self.contact_points:
            host = hosts.get(node)
            if host is None:
                continue
            try:
                rows = session.execute(GOSSIP_QUERY, timeout=self.timeout, host=host)
            except Exception:
                continue  # not answering: it sees nothing, and others will see it down
            seen[node] = {row[0]: self._letters(node, row) for row in rows}
        return seen

    def _letters(self, node: str, row: Sequence[Any]) -> str:
        peer, heartbeat, generation, status = row
        previous = self._beats.get((node, peer))
        current = (generation or 0, heartbeat or 0)
        self._beats[(node, peer)] = current
        now = time.monotonic()
        if previous is not None and current > previous:
            self._advanced[(node, peer)] = now
        advanced = self._advanced.get((node, peer))
        up = advanced is not None and now - advanced <= self.stale_after
        state = (status or "").split(",")[0]
        return ("U" if up else "D") + _STATUS_LETTER.get(state, "?")


def wait_for_ring(contact_points: Sequence[str], port: int, deadline: float,
                  expected: Optional[dict[str, str]] = None, interval: float = 1.0) -> dict[str, dict[str, str]]:
    """Poll until every reachable node sees every peer in its ``expected`` state (default: all
    ``UN``, every node answering); return the views, or the last ones when ``deadline`` passes
    (the caller decides what a miss means)."""
    want = expected or {node: "UN" for node in contact_points}
    answering = [node for node, state in want.items() if state.startswith("U")]
    views: dict[str, dict[str, str]] = {}
    with RingWatcher(contact_points, port) as watcher:
        while True:
            views = watcher.views()
            if set(answering) <= set(views) and all(
                    all(view.get(peer) == state for peer, state in want.items())
                    for node, view in views.items() if node in answering):
                return views
            if time.monotonic() >= deadline:
                return views
            time.sleep(interval)

