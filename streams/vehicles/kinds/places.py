"""Places: restricted zones (entered, dwelling) and approved route corridors (left)."""

from __future__ import annotations

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules.episode import Policy
from hazardwatch.streams.vehicles import geo
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.config import Route, Zone
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
from hazardwatch.streams.vehicles.state import VehicleState, ZoneState


class Places(VehicleRule):
    """Inside a restricted zone: its level, one more severe after its dwell time; off a
    route corridor for persist_s: its level. Borders have a margin (hysteresis)."""

    name = "places"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        rules = setup.rules
        self.margin = rules.geofence_margin_m
        self.zone_by_id = {z.id: z for z in rules.zones}
        self.route_policies = {r.id: Policy(r.persist_s, 30, None) for r in rules.routes}

    def applies(self, c: CompiledVehicle) -> bool:
        """Vehicles with restricted zones of their class or approved routes."""
        return bool(c.rules.restricted or c.routes)

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """Restricted zones (far from every one: nothing to do) and route corridors."""
        p = fix.p
        box, lat, lon = c.rules.restricted_box, p.lat, p.lon
        if box and (st.zones or (box[0] <= lat <= box[1] and box[2] <= lon <= box[3])):
            self._zones(st, c, fix, out)
        for r in c.routes:
            self._route(st, c, r, fix, out)

    def _zones(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        p = fix.p
        for a in c.rules.restricted:
            z = a.zone
            if z.id not in st.zones and not a.near(p.lat, p.lon):
                continue
            zs = self._crossing(st, z.id, a.signed_m(p.lat, p.lon), fix.ts)
            if zs is not None:
                self._zone_step(st, c, z, zs, fix.ts, out)
                _forget_idle(st, z.id)

    def _crossing(self, st: VehicleState, key: str, beyond_m: float,
                  ts: int) -> ZoneState | None:
        """Hysteresis at a border: 'inside' switches only once beyond it by the margin, so
        GNSS jitter cannot make enter/leave spam. None: far from it and nothing to remember."""
        margin = self.margin
        zs = st.zones.get(key)
        if zs is None:
            if beyond_m < margin:
                return None
            zs = st.zones[key] = ZoneState()
        if not zs.inside and beyond_m >= margin:
            zs.inside, zs.since = True, ts
        elif zs.inside and beyond_m <= -margin:
            zs.inside = False
        return zs

    def _zone_step(self, st: VehicleState, c: CompiledVehicle, z: Zone, zs: ZoneState, now: int,
                   out: Out) -> None:
        want = None
        if zs.inside:
            dwelling = z.dwell_s is not None and now - zs.since >= z.dwell_s * 1000
            want = Level(max(1, z.level - 1)) if dwelling else Level(z.level)
        episode(zs.ep, INSTANT, want, now, lambda ch, t: warn(
            ch, t, rule_ids.vehicle_zone(z.id), "geofence", c,
            f"{c.who} " + (f"已驶离{z.name}" if want is None else
                           f"在{z.name}内停留超过{duration((z.dwell_s or 0) * 1000)}"
                           if want < z.level else f"驶入{z.name}"), st.drill, out))

    def _route(self, st: VehicleState, c: CompiledVehicle, r: Route, fix: Fix,
               out: Out) -> None:
        p = fix.p
        off_m = geo.polyline_distance_m(p.lat, p.lon, r.line) - r.width_m
        key = f"route:{r.id}"
        zs = self._crossing(st, key, off_m, fix.ts)  # 'inside' here: off the corridor
        if zs is None:
            return
        episode(zs.ep, self.route_policies[r.id], Level(r.level) if zs.inside else None, fix.ts,
                lambda ch, t: warn(
                    ch, t, rule_ids.vehicle_route(r.id), "geofence", c,
                    f"{c.who} " + (f"偏离核定线路「{r.name}」{off_m + r.width_m:.0f}米"
                                   if zs.inside else f"已回到核定线路「{r.name}」"),
                    st.drill, out, off_m + r.width_m, r.width_m, "m"))
        _forget_idle(st, key)

    def every_tick(self, st: VehicleState) -> bool:
        """Inside a zone: its dwell time follows the clock."""
        return bool(st.zones) and any(zs.inside for zs in st.zones.values())

    def on_wake(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Dwell times inside zones."""
        if st.zones:
            for key, zs in list(st.zones.items()):
                z = self.zone_by_id.get(key)
                if z is not None and zs.inside:
                    self._zone_step(st, c, z, zs, w.now, out)


def _forget_idle(st: VehicleState, key: str) -> None:
    zs = st.zones[key]
    if not zs.inside and not zs.ep.active and zs.ep.pending_since is None:
        del st.zones[key]
