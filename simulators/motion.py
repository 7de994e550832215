"""Vehicles driving along polylines at plausible speeds, with rests and night parking."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hazardwatch.streams.vehicles.geo import distance_m

LatLon = tuple[float, float]
# default roads for vehicles without an approved route: G6 Hohhot → Baotou, and a road west
# of Baotou (away from the expressway zone, so the ordinary-road limit applies all along)
ROADS: list[list[LatLon]] = [
    [(40.84, 111.75), (40.80, 111.40), (40.70, 110.90), (40.62, 110.30), (40.60, 109.85)],
    [(40.65, 109.80), (40.58, 110.30), (40.45, 110.80), (40.30, 111.10)],
]


@dataclass
class Route:
    """A polyline with cumulative distances; driven back and forth."""

    points: list[LatLon]
    cum: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cum = [0.0]
        for a, b in zip(self.points, self.points[1:], strict=False):
            self.cum.append(self.cum[-1] + distance_m(*a, *b))

    def at(self, s: float) -> tuple[float, float, float]:
        """(lat, lon, heading) at distance s along the route, turning back at the ends."""
        total = self.cum[-1]
        s = s % (2 * total)
        back = s > total
        s = 2 * total - s if back else s
        i = max(0, min(len(self.points) - 2, next(
            (k for k in range(1, len(self.cum)) if self.cum[k] >= s), len(self.cum) - 1) - 1))
        seg = self.cum[i + 1] - self.cum[i] or 1.0
        f = (s - self.cum[i]) / seg
        (a1, o1), (a2, o2) = self.points[i], self.points[i + 1]
        heading = math.degrees(math.atan2((o2 - o1) * math.cos(math.radians(a1)), a2 - a1)) % 360
        return a1 + f * (a2 - a1), o1 + f * (o2 - o1), (heading + 180) % 360 if back else heading


@dataclass
class VehicleMotion:
    """One vehicle: drives `drive_min`, rests `rest_min`, parks at night if told to."""

    route: Route
    cruise_kmh: float
    rng: np.random.Generator
    drive_min: float = 90
    rest_min: float = 25
    offset_min: float = 0
    s: float = 0.0
    jitter_m: float = 5.0  # GNSS noise (JT/T 794: ≤ 15 m)

    def resting(self, t_s: float) -> bool:
        """In a scheduled rest at t_s."""
        cycle = self.drive_min + self.rest_min
        return (t_s / 60 + self.offset_min) % cycle >= self.drive_min

    def advance(self, dt_s: float, speed_kmh: float) -> tuple[float, float, float]:
        """Move dt_s at speed; return (lat, lon, heading) with GNSS jitter."""
        self.s += speed_kmh / 3.6 * dt_s
        lat, lon, heading = self.route.at(self.s)
        j = self.rng.normal(0, self.jitter_m / 111_000, 2)
        return lat + float(j[0]), lon + float(j[1]), heading
