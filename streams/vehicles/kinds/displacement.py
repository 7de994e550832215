"""离线位移: a hazmat vehicle back online far from where it went offline (a moment)."""

from __future__ import annotations

from hazardwatch.contracts.records import PositionRecord
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.episode import Policy, next_due, step
from hazardwatch.streams.vehicles import geo
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import Out, Setup, VehicleRule, Wake, timers, warn
from hazardwatch.streams.vehicles.state import VehicleState


class Displacement(VehicleRule):
    """Raised by the offline kind when the vehicle is back (`on_back`); cleared after 5 min."""

    name = "offline_displacement"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        off = setup.rules.offline
        self.policy = Policy(0, 300, None)
        self.min_m, self.level = off.displacement_m, Level(off.displacement_level)

    def applies(self, c: CompiledVehicle) -> bool:
        """Hazmat vehicles (the offline kind raises it only for them)."""
        return c.hazmat

    def on_back(self, st: VehicleState, c: CompiledVehicle, p: PositionRecord, ts: int,
                out: Out) -> None:
        """The first fix after an offline episode, with the last fix before it known."""
        assert st.lat is not None and st.lon is not None
        moved = geo.distance_m(st.lat, st.lon, p.lat, p.lon)
        if moved >= self.min_m:
            st.moved_m = moved
            change = step(self.policy, st.moved, self.level, ts)
            st.moved.normal_since = ts
            if change:
                warn(change, ts, RuleId.VEHICLE_OFFLINE_DISPLACEMENT, "offline", c,
                     f"{c.who} 离线位移：离线期间移动 {moved / 1000:.1f}公里",
                     st.drill, out, moved, self.min_m, "m")

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """The clear delay."""
        return next_due(self.policy, st.moved) if st.moved.active else None

    def on_clear(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Cleared once the delay has passed."""
        if st.moved.active:
            timers(st.moved, self.policy, w.now, lambda ch, t: warn(
                ch, t, RuleId.VEHICLE_OFFLINE_DISPLACEMENT, "offline", c,
                f"{c.who} 离线位移 {st.moved_m / 1000:.1f}公里", st.drill, out,
                st.moved_m, self.min_m, "m"))
