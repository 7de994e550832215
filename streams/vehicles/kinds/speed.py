"""Overspeed: the limit where and when the fix is (class, speed zones, night), in bands."""

from __future__ import annotations

from hazardwatch.contracts.rules import RuleId
from hazardwatch.streams.rules.episode import Change, Policy, next_due, settled, step
from hazardwatch.streams.vehicles.bands import speed_level
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import Fix, Out, Setup, VehicleRule, Wake, timers, warn
from hazardwatch.streams.vehicles.state import VehicleState


class Overspeed(VehicleRule):
    """A band's level once it has held persist_s (seen by a fix); another level once it has
    held (a lower one downgrade_delay_s); cleared after the clear delay under the limit."""

    name = "overspeed"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        sp = setup.rules.speed
        self.sp, self.night, self.night_factor = sp, setup.night, sp.night_factor
        self.policy = Policy(sp.persist_s, sp.clear_delay_s, None)

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """The fix's limit; the rule when over it or while an episode is open or pending."""
        p = fix.p
        lat, lon, speed = p.lat, p.lon, p.speed_kmh
        limit_kmh, zone = c.rules.limit_kmh, None
        for a, z_limit in c.rules.speed_zones:
            if (a.south <= lat <= a.north and a.west <= lon <= a.east
                    and a.signed_m(lat, lon) > 0):
                limit_kmh, zone = z_limit, a.zone.name
        night = self.night[fix.minute]
        if night:
            limit_kmh *= self.night_factor
        if speed > limit_kmh or st.speed.active or st.speed.pending_since is not None:
            self._speed(st, c, speed, limit_kmh, (zone or "普通道路") + ("夜间" if night else ""),
                        p.ts, out)

    def _speed(self, st: VehicleState, c: CompiledVehicle, speed: float, limit: float, where: str,
               ts: int, out: Out) -> None:
        ep, sp = st.speed, self.sp
        want = speed_level((speed - limit) * 100 / limit, sp.bands,
                           ep.base_level if ep.active else None, sp.hysteresis_pct)
        if ep.active and want is not None and want != ep.base_level:  # another level …
            severer = want < ep.base_level  # (it must hold like a raise: persist_s)
            since = (st.higher_since if severer else st.lower_since) or ts
            st.higher_since, st.lower_since = (since, None) if severer else (None, since)
            if ts - since < (sp.persist_s if severer else sp.downgrade_delay_s) * 1000:
                want = ep.base_level  # … is taken only once it has held, seen by a later fix
        else:
            st.lower_since = st.higher_since = None
        st.speed_kmh, st.limit_kmh, st.limit_where = speed, limit, where  # for the texts
        if not settled(ep, want):  # (an open overspeed at its level: most calls)
            change = step(self.policy, ep, want, ts)
            if change:
                self._warn(st, c, change, ts, out)

    def _warn(self, st: VehicleState, c: CompiledVehicle, change: Change, ts: int,
              out: Out) -> None:
        if change.transition == "raised":
            st.day.overspeed += 1  # (also when raised by a timer after the persistence)
        speed, limit = st.speed_kmh, st.limit_kmh
        over = (speed - limit) * 100 / limit
        text = (f"{c.who} 车速 {speed:.0f}km/h，{st.limit_where}限速 {limit:.0f}km/h"
                + (f"，超速 {over:.0f}%" if over > 0 else ""))
        warn(change, ts, RuleId.VEHICLE_OVERSPEED, "overspeed", c, text, st.drill, out,
             speed, limit, "km/h")

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """The clear delay of an open episode."""
        return next_due(self.policy, st.speed) if st.speed.active else None

    def on_clear(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """The clear delay; a raise needs a fix that confirms it."""
        if st.speed.active:
            timers(st.speed, self.policy, w.now,
                   lambda ch, t: self._warn(st, c, ch, t, out))
