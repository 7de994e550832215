"""Day figures (联网联控, standards.md §5.1): positions, time online, GNSS gaps; the day's end."""

from __future__ import annotations

from hazardwatch.clock import LocalClock
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import Fix, Out, Setup, VehicleRule, Wake
from hazardwatch.streams.vehicles.state import DayFigures as Figures
from hazardwatch.streams.vehicles.state import VehicleState

HOUR_MS = 3_600_000
_COUNTERS = ("positions", "online_ms", "fatigue_ms", "gaps", "drift", "complete_m",
             "incomplete_m", "overspeed")


def close_hour(st: VehicleState, ts: int) -> None:
    """At or after the open hour's end: its figures (the day's counters since the hour began:
    counted once, by the day) go to st.closed_hours when any moved; the next hour opens."""
    if ts < st.hour_ends_at:
        return
    if st.hour_ends_at:
        base = st.hour_base or Figures()
        diff = Figures(**{k: getattr(st.day, k) - getattr(base, k) for k in _COUNTERS})
        if any(getattr(diff, k) for k in _COUNTERS):
            st.closed_hours.append((st.hour_ends_at - HOUR_MS, diff))
    st.hour_base = Figures(**{k: getattr(st.day, k) for k in _COUNTERS})
    st.hour_ends_at = ts - ts % HOUR_MS + HOUR_MS


def rollover(clock: LocalClock, st: VehicleState, ts: int) -> None:
    """At or after the open hour's or the day's end: close the hour (st.closed_hours), the
    day's figures (st.closed) and open the next ones (a day ends at an hour's end)."""
    close_hour(st, ts)
    if ts < st.day_ends_at:
        return
    day = clock.day(ts)
    if st.day.day and day > st.day.day:
        st.closed.append(st.day)
        st.day = Figures()
        st.hour_base = Figures()
    st.day.day = day
    st.day_ends_at = clock.day_end(ts)


class DayFigures(VehicleRule):
    """Counts every new fix, the time online and the GNSS gaps; closes the day at midnight."""

    name = "day_figures"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self.gap_ms = int(setup.rules.driving.gap_s * 1000)

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """A new fix: the day, the time since the last fix (a gap, or online), the count."""
        ts = fix.ts
        if ts >= st.day_ends_at or ts >= st.hour_ends_at:
            rollover(self.clock, st, ts)
        if st.last_ts:
            gap = ts - st.last_ts
            if gap > self.gap_ms:
                st.day.gaps += 1
            if gap <= c.offline_ms:
                st.day.online_ms += gap
        st.day.positions += 1

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """The open hour's end (the day ends at one)."""
        return min(st.hour_ends_at, st.day_ends_at) if st.hour_ends_at else st.day_ends_at

    def on_wake(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Close the hour and the day if they have ended."""
        if w.now >= st.day_ends_at or (st.hour_ends_at and w.now >= st.hour_ends_at):
            rollover(self.clock, st, w.now)
