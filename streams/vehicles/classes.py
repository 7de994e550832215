"""Vehicle rules compiled once per vehicle class and vehicle, so a position looks nothing up
twice and touches as few objects as it can (with thousands of vehicles, each object a position
reads is a likely cache miss)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from hazardwatch.clock import in_window, minutes
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.warnings import subject_key
from hazardwatch.streams.vehicles import geo
from hazardwatch.streams.vehicles.config import Route, VehicleRules, Zone
from hazardwatch.streams.vehicles.messages import CLASS_ZH


@dataclass(frozen=True, slots=True)
class Area:
    """A zone with its bounding box (degrees, widened by the margin) for a cheap first test."""

    zone: Zone
    south: float
    north: float
    west: float
    east: float

    def near(self, lat: float, lon: float) -> bool:
        """Inside the widened bounding box."""
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def signed_m(self, lat: float, lon: float) -> float:
        """Distance to the border: positive inside."""
        c = self.zone.circle
        if c is not None:
            return c.radius_m - geo.distance_m(lat, lon, c.lat, c.lon)
        assert self.zone.polygon is not None
        return geo.polygon_signed_m(lat, lon, self.zone.polygon)


def area_of(z: Zone, margin_m: float) -> Area:
    """The zone with a bounding box generous enough for any latitude up to 60°."""
    pad = (margin_m + 10) / 111_000 * 2  # a cos(lat) factor at 60° is 2
    if z.circle is not None:
        r = z.circle.radius_m / 111_000 * 2 + pad
        return Area(z, z.circle.lat - r, z.circle.lat + r, z.circle.lon - r, z.circle.lon + r)
    assert z.polygon is not None
    lats, lons = [p[0] for p in z.polygon], [p[1] for p in z.polygon]
    return Area(z, min(lats) - pad, max(lats) + pad, min(lons) - pad, max(lons) + pad)


@dataclass(frozen=True, slots=True)
class ClassRules:
    """What the rules say for one vehicle class."""

    limit_kmh: float  # outside any speed zone, by day
    speed_zones: tuple[tuple[Area, float], ...]  # zones with their own limit for this class
    restricted: tuple[Area, ...]  # restricted zones that apply to this class
    restricted_box: tuple[float, float, float, float] | None  # (S, N, W, E) around them all
    night_driving: bool  # the shorter night continuous-driving limit applies
    night_ban: bool  # must not move in the night-ban window


def class_rules(rules: VehicleRules) -> dict[str, ClassRules]:
    """ClassRules for every class the speed limits name."""
    m = rules.geofence_margin_m
    speed = [(area_of(z, m), z) for z in rules.zones if z.kind == "speed"]
    restricted = [(area_of(z, m), z) for z in rules.zones if z.kind == "restricted"]
    dr = rules.driving
    out: dict[str, ClassRules] = {}
    for c, limit in rules.speed.limits_kmh.items():
        mine = tuple(a for a, z in restricted if c in z.classes)
        out[c] = ClassRules(
            limit_kmh=limit,
            speed_zones=tuple((a, z.limits_kmh[c]) for a, z in speed if c in z.limits_kmh),
            restricted=mine, restricted_box=_around(mine),
            night_driving=c in dr.night_classes, night_ban=c in dr.night_ban.classes)
    return out


def _around(areas: tuple[Area, ...]) -> tuple[float, float, float, float] | None:
    if not areas:
        return None
    return (min(a.south for a in areas), max(a.north for a in areas),
            min(a.west for a in areas), max(a.east for a in areas))


@dataclass(frozen=True, slots=True)
class CompiledVehicle:
    """One catalog vehicle with everything the rules need of it."""

    id: str
    who: str  # '危货车 蒙A12345' for the texts
    subject: str  # the warning subject key
    hazmat: bool
    offline_ms: int
    rules: ClassRules
    routes: tuple[Route, ...]  # approved routes (corridors) it must keep to


def compile_vehicles(catalog: Catalog, rules: VehicleRules) -> dict[str, CompiledVehicle]:
    """CompiledVehicle for every catalog vehicle, by (interned) id."""
    classes = class_rules(rules)
    return {sys.intern(vid): CompiledVehicle(
        id=v.id, who=f"{CLASS_ZH[v.vehicle_class]} {v.plate}",
        subject=subject_key(None, None, None, v.id), hazmat=v.vehicle_class == "hazmat",
        offline_ms=v.offline_timeout_s * 1000, rules=classes[v.vehicle_class],
        routes=tuple(r for r in rules.routes if vid in r.vehicles),
    ) for vid, v in catalog.vehicles.items()}


def minute_table(window: tuple[str, str]) -> bytes:
    """1 for each local minute of the day inside the window ('22:00'–'06:00' wraps)."""
    span = (minutes(window[0]), minutes(window[1]))
    return bytes(in_window(m, span) for m in range(1440))
