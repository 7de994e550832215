"""Offline time of a point, device or vehicle in a period, by the offline warning's rule.

The worker raises device.offline at last_seen + offline_timeout_s and clears it at the next
value; an episode here is exactly that interval, clipped to the period. Before the period's
first value the last value before the period counts (None: the period's start does, as the
worker's start-up grace); after the last value an open episode runs to the period's end.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def offline_ms(ts: npt.NDArray[np.int64], start: int, end: int, timeout_ms: int,
               before: int | None = None) -> int:
    """Milliseconds offline in [start, end) given the sorted times (ms) of valid values in it."""
    last = start if before is None else before
    if ts.size == 0:
        return max(0, end - max(last + timeout_ms, start))
    first = int(ts[0])
    off = max(0, first - max(last + timeout_ms, start))
    if ts.size > 1:
        gaps = np.diff(ts) - timeout_ms
        off += int(gaps[gaps > 0].sum())
    return off + max(0, end - (int(ts[-1]) + timeout_ms))


def online_rate(ts: npt.NDArray[np.int64], start: int, end: int, timeout_ms: int,
                before: int | None = None) -> float:
    """(period − offline time) ÷ period."""
    return 1 - offline_ms(ts, start, end, timeout_ms, before) / (end - start)
