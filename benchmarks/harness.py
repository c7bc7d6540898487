"""What every benchmark table is made of: variants of a workload, timed in rotated rounds."""
from __future__ import annotations

import gc
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


@dataclass
class Variant:
    """One contender's way of doing a workload: ``run(data)`` performs ``n`` operations.

    ``prepare(round)`` builds the data of one sample (fresh keys, ...) before the clock starts.
    """

    contender: str
    label: str
    run: Callable[[Any], None]
    prepare: Callable[[int], Any] = lambda _round: None
    warm: Optional[Callable[[], None]] = None
    samples: list[dict[str, Any]] = field(default_factory=list)

    def cpu_us(self, n: int) -> float:
        return statistics.median(s["cpu_s"] for s in self.samples) / n * 1e6

    def wall_ops(self, n: int) -> float:
        return n / statistics.median(s["wall_s"] for s in self.samples)


@dataclass
class Workload:
    name: str
    unit: str
    n: int  # operations per sample
    variants: list[Variant]
    note: str = ""
    not_applicable: dict[str, str] = field(default_factory=dict)  # contender -> why


def run_workload(w: Workload, rounds: int) -> None:
    for v in w.variants:
        if v.warm is not None:
            v.warm()
    labels = [v.label for v in w.variants]
    by_label = {v.label: v for v in w.variants}
    for r in range(rounds):
        k = r % len(labels)
        order = labels[k:] + labels[:k]  # rotated: each contender goes first in turn
        for position, label in enumerate(order):
            v = by_label[label]
            data = v.prepare(r)
            gc.collect()
            cpu0 = time.process_time()
            wall0 = time.perf_counter()
            v.run(data)
            wall = time.perf_counter() - wall0
            cpu = time.process_time() - cpu0
            v.samples.append({"round": r, "position": position, "n": w.n, "cpu_s": cpu, "wall_s": wall,
                              "cpu_us_per_op": cpu / w.n * 1e6, "wall_ops_per_s": w.n / wall if wall else None})


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """A distribution-free interval for the median of ``values``: order statistics of the sign test.

    Below 6 values no pair of order statistics reaches 95 %: the interval is then the whole range.
    """
    xs, n = sorted(values), len(values)
    k, below = 0, 0.0  # below: P(Binomial(n, 1/2) <= k - 1)
    while True:
        nxt = below + math.comb(n, k) / 2**n
        if nxt > (1 - confidence) / 2:
            break
        below, k = nxt, k + 1
    return (xs[k - 1], xs[n - k]) if k else (xs[0], xs[-1])
