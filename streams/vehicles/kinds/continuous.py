"""Continuous driving (4 h by day, 2 h by night for the classes that have it) and its rests."""

from __future__ import annotations

from hazardwatch.clock import DAY_MS
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.episode import settled
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


class Continuous(VehicleRule):
    """Driving time since the last effective rest (≥ 20 min stopped); a prewarning before
    the limit, a warning beyond it, cleared by a rest; fatigue time for the day figures."""

    name = "continuous_driving"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        dr = setup.rules.driving
        self.night = setup.night
        self.rest_ms, self.pre_ms = int(dr.rest_min_s * 1000), int(dr.prewarn_s * 1000)
        self.day_ms, self.night_ms = int(dr.continuous_s * 1000), int(dr.continuous_night_s * 1000)
        self.over, self.prewarn = Level(dr.over_level), Level(dr.prewarn_level)

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """The interval (driven or stopped), whether it moves now, then the rule."""
        if fix.interval:
            if fix.drove:
                self._drove(st, c, fix)
            elif st.stop_since is None:
                st.stop_since = fix.prev
        ts = fix.ts
        if fix.moving:
            if st.stop_since is not None:  # moving again: an effective rest resets it
                if ts - st.stop_since >= self.rest_ms:
                    st.cont_ms = 0
                st.stop_since = None
        elif st.stop_since is None:
            st.stop_since = ts
        self._rule(st, c, ts, fix.minute, out)

    def _drove(self, st: VehicleState, c: CompiledVehicle, fix: Fix) -> None:
        """It drove from fix.prev for fix.dt: continuous driving and fatigue time."""
        prev, dt = fix.prev, fix.dt
        if st.stop_since is not None:  # it drove on from a stop
            if prev - st.stop_since >= self.rest_ms:
                st.cont_ms = 0
            st.stop_since = None
        night_then = c.rules.night_driving and self.night[
            (fix.local - dt) % DAY_MS // 60_000 if self.clock.fixed_offset_ms is not None
            else self.clock.minute_of_day(prev)]
        limit = self.night_ms if night_then else self.day_ms
        cont = st.cont_ms + dt
        if cont > limit:  # 疲劳驾驶时长: the time driven beyond the limit
            st.day.fatigue_ms += cont - (limit if limit > st.cont_ms else st.cont_ms)
        st.cont_ms = cont

    def _rule(self, st: VehicleState, c: CompiledVehicle, now: int, minute: int,
              out: Out) -> None:
        if st.stop_since is not None and now - st.stop_since >= self.rest_ms:
            st.cont_ms = 0
        limit = self.night_ms if c.rules.night_driving and self.night[minute] else self.day_ms
        cont = st.cont_ms
        want = (self.over if cont > limit
                else self.prewarn if cont > limit - self.pre_ms else None)
        if settled(st.cont, want):
            return
        night = "夜间" if limit < self.day_ms else ""
        episode(st.cont, INSTANT, want, now, lambda ch, t: warn(
            ch, t, RuleId.VEHICLE_DRIVING_CONTINUOUS, "driving", c,
            f"{c.who} 连续驾驶 {duration(st.cont_ms)}，"
            + (f"{'超过' if want == self.over else '接近'}{night}连续驾驶限值 "
               f"{duration(limit)}" if want is not None else "已休息满20分钟"),
            st.drill, out, st.cont_ms / 3_600_000, limit / 3_600_000, "h"))

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """While stopped after driving: a rest completed, the next minute (the night limit)."""
        if st.stop_since is not None and st.cont_ms:
            return min(st.stop_since + self.rest_ms, (now // 60_000 + 1) * 60_000)
        return None

    def on_wake(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """A rest completed, the night limit (while it moves, fixes change it: no timer)."""
        if w.driving:
            self._rule(st, c, w.now, self.clock.minute_of_day(w.now), out)
