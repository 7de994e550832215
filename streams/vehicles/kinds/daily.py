"""24-hour driving time: the driving of the last 24 h, kept in 5-minute buckets.

The closed buckets are packed into one bytes value in the state (`VehicleState.window`: 12
bytes a bucket, its index and its driving ms, oldest first), so the worker's state encodes
and decodes them as one copy instead of a map of up to 288 entries.
"""

from __future__ import annotations

import struct

from hazardwatch.clock import DAY_MS
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import (
    INSTANT,
    Fix,
    Out,
    Setup,
    VehicleRule,
    Wake,
    episode,
    warn,
)
from hazardwatch.streams.vehicles.messages import duration
from hazardwatch.streams.vehicles.state import VehicleState

BUCKET_MS = 300_000  # driving time is kept in 5-minute buckets for the 24-hour window
WINDOW_MS = DAY_MS  # the driving-time window: 24 h
_BUCKET = struct.Struct("<iq")  # a closed bucket: its index and its driving ms
_SIZE = _BUCKET.size


def close_bucket(st: VehicleState, b: int, ms: int) -> None:
    """Close the open bucket (into st.window) and open bucket b with ms of driving."""
    if st.bucket_ms:
        w = st.window
        if w and _BUCKET.unpack_from(w, len(w) - _SIZE)[0] == st.bucket_at:  # (reopened)
            ms_then = _BUCKET.unpack_from(w, len(w) - _SIZE)[1]
            st.window = w[:-_SIZE] + _BUCKET.pack(st.bucket_at, ms_then + st.bucket_ms)
        else:
            st.window = w + _BUCKET.pack(st.bucket_at, st.bucket_ms)
    st.bucket_at, st.bucket_ms = b, ms


def prune(st: VehicleState, now: int) -> None:
    """Drop the buckets that have left the 24-hour window."""
    cutoff = (now - WINDOW_MS) // BUCKET_MS
    w, i = st.window, 0
    while i < len(w) and (bucket := _BUCKET.unpack_from(w, i))[0] < cutoff:
        st.window_ms -= bucket[1]
        i += _SIZE
    if i:
        st.window = w[i:]
    if st.bucket_at < cutoff:  # (after a gap of a day; the next interval opens it again)
        st.window_ms -= st.bucket_ms
        st.bucket_at, st.bucket_ms = -1, 0


def upgrade(st: VehicleState) -> None:
    """A state written before the packed window: pack its buckets (once)."""
    st.window = b"".join(_BUCKET.pack(b, ms) for b, ms in st.buckets.items()) + st.window
    st.buckets = {}


def buckets(st: VehicleState) -> list[tuple[int, int]]:
    """The closed buckets, oldest first (for tests and tools)."""
    return [(b, ms) for b, ms in _BUCKET.iter_unpack(st.window)]


class Daily(VehicleRule):
    """Driving in any 24 hours: a prewarning before the limit, a warning beyond it."""

    name = "daily_driving"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        dr = setup.rules.driving
        self.limit_ms, pre_ms = int(dr.daily_s * 1000), int(dr.prewarn_s * 1000)
        self.warn_ms = self.limit_ms - pre_ms  # (beyond it: every tick, every_tick)
        self.over, self.prewarn = Level(dr.daily_level), Level(dr.prewarn_level)

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """The interval driven goes into its bucket; then the rule."""
        if fix.drove and fix.interval:
            if st.buckets:
                upgrade(st)
            st.window_ms += fix.dt
            b = fix.prev // BUCKET_MS
            if b == st.bucket_at:
                st.bucket_ms += fix.dt
            else:  # a new 5-minute bucket: the oldest may have left the 24-hour window
                close_bucket(st, b, fix.dt)
                prune(st, fix.ts)
        if st.window_ms > self.warn_ms or st.daily.active:
            self._rule(st, c, fix.ts, out)  # (a prune only lowers the window)

    def _rule(self, st: VehicleState, c: CompiledVehicle, now: int, out: Out) -> None:
        if st.buckets:
            upgrade(st)
        prune(st, now)
        total = st.window_ms
        want = (self.over if total > self.limit_ms
                else self.prewarn if total > self.warn_ms else None)
        if want is not None or st.daily.active:
            episode(st.daily, INSTANT, want, now, lambda ch, t: warn(
                ch, t, RuleId.VEHICLE_DRIVING_DAILY, "driving", c,
                f"{c.who} 24小时内累计驾驶 {duration(total)}"
                + (f"，{'超过' if want == self.over else '接近'}限值 "
                   f"{duration(self.limit_ms)}" if want is not None else ""), st.drill, out,
                total / 3_600_000, self.limit_ms / 3_600_000, "h"))

    def every_tick(self, st: VehicleState) -> bool:
        """Near or beyond the limit: the window changes with the clock."""
        return st.daily.active or st.window_ms > self.warn_ms

    def on_wake(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """The window moves on while the driving-time rules are due."""
        if w.driving and (st.window_ms > self.warn_ms or st.daily.active):
            self._rule(st, c, w.now, out)
