"""What a connection did: its counters and the latencies of its requests by kind of statement."""
from __future__ import annotations

import functools
import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from cassandra.query import BatchStatement, BoundStatement

if TYPE_CHECKING:
    from cassandra.metrics import Metrics  # importable only with the driver's optional `scales` package


class LatencyStats:
    """Requests of one kind of statement: how many, how many failed, and their recent latencies.

    ``p50``/``p99`` (seconds) are over the last ``WINDOW`` requests of the
    kind, so they follow what the connection does now; None before any.
    """

    WINDOW = 1024

    def __init__(self) -> None:
        self.count = 0
        self.failed = 0
        self._recent: deque[float] = deque(maxlen=self.WINDOW)
        self._lock = threading.Lock()  # requests of many threads are counted: none may be lost

    def reset_lock(self) -> None:
        """A fresh lock, in a child made by ``fork()`` (a thread of the parent may have held the old one)."""
        self._lock = threading.Lock()

    def add(self, seconds: float, failed: bool = False) -> None:
        with self._lock:
            self.count += 1
            self.failed += failed
            self._recent.append(seconds)

    def percentile(self, fraction: float) -> Optional[float]:
        """The latency below which ``fraction`` of the recent requests took (nearest rank)."""
        recent = sorted(self._recent)
        if not recent:
            return None
        return recent[min(len(recent) - 1, max(0, math.ceil(fraction * len(recent)) - 1))]

    @property
    def p50(self) -> Optional[float]:
        return self.percentile(0.5)

    @property
    def p99(self) -> Optional[float]:
        return self.percentile(0.99)

    def __repr__(self) -> str:
        def ms(value: Optional[float]) -> str:
            return "-" if value is None else f"{value * 1000:.2f} ms"
        return f"<LatencyStats count={self.count} failed={self.failed} p50={ms(self.p50)} p99={ms(self.p99)}>"


#: The kinds of statement latencies are kept by (any other statement counts as OTHER).
STATEMENT_KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BATCH", "OTHER")


@dataclass
class ConnectionStats:
    """What one connection did: counters, latencies by kind of statement, and the driver's metrics.

    ``latency[kind]`` (kinds: ``STATEMENT_KINDS``) is a :class:`LatencyStats`
    of the requests sent one at a time (``execute``, ``aexecute``, batches);
    writes of a bulk call are counted in ``executed`` only.
    ``prepared_invalidations`` counts the statements dropped from the cache
    because a table they use changed (DDL, ours or another client's);
    ``reprepared_on_bind_error`` those prepared again because binding failed
    against their (stale) column types. ``transport_fallbacks`` counts the
    awaited statements of an acsylla connection sent by cassandra-driver
    instead, and ``fallback_shapes`` says why for each CQL text (the first 1,000). ``driver`` is the driver's own
    ``cassandra.metrics.Metrics`` of the cluster when it was built with
    ``metrics_enabled=True`` (``setup(..., metrics_enabled=True)``), else None.
    """

    executed: int = 0
    prepared_hits: int = 0
    prepared_misses: int = 0
    prepared_evictions: int = 0
    prepared_invalidations: int = 0
    reprepared_on_bind_error: int = 0
    transport_fallbacks: int = 0
    fallback_shapes: dict[str, str] = field(default_factory=dict)
    latency: dict[str, LatencyStats] = field(default_factory=lambda: {kind: LatencyStats() for kind in STATEMENT_KINDS})
    driver: Optional[Metrics] = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, query: Any, seconds: float, failed: bool = False) -> None:
        kind = _kind_of_text(query) if type(query) is str else statement_kind(query)  # text: the usual case
        self.latency[kind].add(seconds, failed)

    def reset_locks(self) -> None:
        """Fresh locks, in a child made by ``fork()`` (a thread of the parent may have held the old ones)."""
        self._lock = threading.Lock()
        for kind in self.latency.values():
            kind.reset_lock()

    def count(self, counter: str, n: int = 1) -> None:
        """Add ``n`` to ``counter`` (``executed`` ...): many threads send through one connection."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + n)


def statement_kind(query: Any) -> str:
    """The kind (one of ``STATEMENT_KINDS``) of CQL text or a driver statement."""
    if isinstance(query, str):
        return _kind_of_text(query)
    if isinstance(query, BatchStatement) or getattr(query, "batch_type", None) is not None:
        return "BATCH"  # a driver batch, or what the connection layer tells of one
    if isinstance(query, BoundStatement):
        query = query.prepared_statement.query_string
    text = query if isinstance(query, str) else getattr(query, "query_string", None)
    return _kind_of_text(text) if isinstance(text, str) else "OTHER"


@functools.lru_cache(maxsize=1024)
def _kind_of_text(cql: str) -> str:
    # Once per text: the same statement texts are sent again and again.
    word = cql.lstrip()[:6].upper()
    if word.startswith("BEGIN"):
        return "BATCH"
    return word if word in STATEMENT_KINDS else "OTHER"
