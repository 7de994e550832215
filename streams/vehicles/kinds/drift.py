"""Drift (GNSS jumps) and track completeness (轨迹完整率) of the interval since the last fix."""

from __future__ import annotations

from hazardwatch.kpis.vehicles import stretch_complete
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import Fix, Out, Setup, VehicleRule
from hazardwatch.streams.vehicles.state import VehicleState


class Drift(VehicleRule):
    """An impossible jump is not used for speed, distance or zones (the kinds after this one
    skip it, fix.jump); after 3 jumps that agree, the old fix was the wrong one."""

    name = "drift"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        dr = setup.rules.driving
        self.max_kmh = setup.rules.drift.max_kmh
        self.gap_ms, self.gap_m = int(dr.gap_s * 1000), dr.gap_km * 1000

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """A jump (counted, fix.jump) or a stretch of the track (complete or not)."""
        if not fix.interval:
            return
        day = st.day
        if fix.kmh > self.max_kmh and st.drift_run < 2:
            day.drift += 1
            st.drift_run += 1
            st.last_ts = fix.ts
            fix.jump = True
            return
        st.drift_run = 0
        if stretch_complete(fix.dt, fix.dist, self.gap_ms, self.gap_m):
            day.complete_m += fix.dist
        else:
            day.incomplete_m += fix.dist
