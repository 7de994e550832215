"""Offline time of a point, device or vehicle in a period, by the offline warning's rule.

The worker raises device.offline at last_seen + offline_timeout_s and clears it at the next
value; an episode here is exactly that interval, clipped to the period. Before the period's
first value the last value before the period counts (None: the period's start does, as the
worker's start-up grace); after the last value an open episode runs to the period's end.

Only the first and last value and the long silences matter, so a store can hand over `Seen`
(InfluxDB computes the silences itself: `elapsed()` filtered by a subquery).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Seen:
    """The values of a subject in a period: first and last time, count, the silences
    (differences between consecutive values, ms) at least as long as some floor ≤ timeout,
    and the last value before the period when the store knows it."""

    first: int
    last: int
    count: int
    gaps: npt.NDArray[np.int64]
    before: int | None = None


def seen(ts: npt.NDArray[np.int64]) -> Seen | None:
    """Seen of sorted value times (None: no value)."""
    if ts.size == 0:
        return None
    return Seen(int(ts[0]), int(ts[-1]), int(ts.size), np.diff(ts))


def offline_of(s: Seen | None, start: int, end: int, timeout_ms: int,
               before: int | None = None) -> int:
    """Milliseconds offline in [start, end) (before: the last value before start, if known
    other than by s)."""
    if before is None and s is not None:
        before = s.before
    last = start if before is None else before
    if s is None:
        return max(0, end - max(last + timeout_ms, start))
    off = max(0, s.first - max(last + timeout_ms, start))
    over = s.gaps - timeout_ms
    off += int(over[over > 0].sum())
    return off + max(0, end - (s.last + timeout_ms))


def offline_ms(ts: npt.NDArray[np.int64], start: int, end: int, timeout_ms: int,
               before: int | None = None) -> int:
    """Milliseconds offline in [start, end) given the sorted times (ms) of valid values in it."""
    return offline_of(seen(ts), start, end, timeout_ms, before)


def online_rate(ts: npt.NDArray[np.int64], start: int, end: int, timeout_ms: int,
                before: int | None = None) -> float:
    """(period − offline time) ÷ period."""
    return 1 - offline_ms(ts, start, end, timeout_ms, before) / (end - start)
