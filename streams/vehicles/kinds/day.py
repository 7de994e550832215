"""Day figures (联网联控, standards.md §5.1): positions, time online, GNSS gaps; the day's end."""

from __future__ import annotations

from hazardwatch.clock import LocalClock
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import Fix, Out, Setup, VehicleRule, Wake
from hazardwatch.streams.vehicles.state import DayFigures as Figures
from hazardwatch.streams.vehicles.state import VehicleState


def rollover(clock: LocalClock, st: VehicleState, ts: int) -> None:
    """At or after the day's end: close the day's figures (st.closed) and open the next."""
    if ts < st.day_ends_at:
        return
    day = clock.day(ts)
    if st.day.day and day > st.day.day:
        st.closed.append(st.day)
        st.day = Figures()
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
        if ts >= st.day_ends_at:
            rollover(self.clock, st, ts)
        if st.last_ts:
            gap = ts - st.last_ts
            if gap > self.gap_ms:
                st.day.gaps += 1
            if gap <= c.offline_ms:
                st.day.online_ms += gap
        st.day.positions += 1

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """The day's end."""
        return st.day_ends_at

    def on_wake(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Close the day if it has ended."""
        if w.now >= st.day_ends_at:
            rollover(self.clock, st, w.now)
