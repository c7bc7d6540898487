"""What a running backfill shows: a tqdm bar (rows, rows/s, ETA) when tqdm is installed, else a line every
few seconds on stderr; or a function of the running summary."""
from __future__ import annotations

import sys
import time
from typing import Any, Callable, Optional

#: Seconds between two plain progress lines.
LINE_EVERY = 5.0


class Progress:
    """Progress of one backfill. ``advance()`` is called under the run's lock, after each recorded page.

    For a scan the total is estimated from the share of the token ring read so
    far (rows are spread evenly over the ring by the partitioner), so the ETA
    firms up as the backfill goes.
    """

    def __init__(self, summary: Any, total: Optional[int] = None,
                 callback: Optional[Callable[[Any], None]] = None) -> None:
        self.callback = callback
        self.started = time.monotonic()
        self.last_line = 0.0
        self.bar: Any = None
        self.total = total
        if callback is None:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, initial=summary.rows_read, unit="rows", desc=summary.name,
                                file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

    def advance(self, rows: int, summary: Any, share: Optional[float] = None) -> None:
        if self.callback is not None:
            self.callback(summary)
            return
        estimate: Optional[int] = self.total
        if share and share > 0 and estimate is None:
            estimate = int(summary.rows_read / share)
        if self.bar is not None:
            if estimate is not None and estimate != self.bar.total:
                self.bar.total = max(estimate, self.bar.n + rows)
            self.bar.update(rows)
            self.bar.set_postfix(written=summary.written, skipped=summary.skipped, refresh=False)
            return
        now = time.monotonic()
        if now - self.last_line >= LINE_EVERY:
            self.last_line = now
            elapsed = now - self.started
            rate = summary.read_now / elapsed if elapsed else 0.0
            eta = ""
            if estimate and rate:
                eta = f", about {max(0.0, (estimate - summary.rows_read) / rate):.0f} s left"
            print(f"{summary.name}: {summary.rows_read} rows read, {summary.written} written, {summary.skipped} "
                  f"skipped ({rate:.0f} rows/s{eta})", file=sys.stderr, flush=True)

    def close(self, summary: Any) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.callback is not None:
            self.callback(summary)
