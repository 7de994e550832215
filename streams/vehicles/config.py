"""Vehicle rules as validated data (deploy/rules/vehicles.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from hazardwatch.contracts.yamlfile import load_yaml
from hazardwatch.resources import packaged

DEFAULT_VEHICLE_RULES = packaged("rules", "vehicles.yaml")
Level = Annotated[int, msgspec.Meta(ge=1, le=4)]
Class = Literal["hazmat", "coach", "tour_bus"]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
LatLon = tuple[Annotated[float, msgspec.Meta(ge=-90, le=90)],
               Annotated[float, msgspec.Meta(ge=-180, le=180)]]


class _C(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class Band(_C, frozen=True):
    """From this many percent over the limit, this level."""

    over_pct: float
    level: Level


class SpeedConfig(_C, frozen=True):
    """Overspeed."""

    limits_kmh: dict[Class, float]
    night: tuple[HHMM, HHMM]
    night_factor: float
    persist_s: float
    clear_delay_s: float
    bands: list[Band]
    hysteresis_pct: Annotated[float, msgspec.Meta(ge=0)] = 5.0  # see streams/vehicles/bands.py
    downgrade_delay_s: Annotated[float, msgspec.Meta(ge=0)] = 60.0  # a lower level must hold


class NightBan(_C, frozen=True):
    """Vehicles of these classes must not move in this local-time window."""

    classes: list[Class]
    window: tuple[HHMM, HHMM]
    persist_s: float
    level: Level


class DrivingConfig(_C, frozen=True):
    """Driving-time limits."""

    continuous_s: float
    continuous_night_s: float
    night_classes: list[Class]
    rest_min_s: float
    daily_s: float
    prewarn_s: float
    gap_s: float
    prewarn_level: Level
    over_level: Level
    daily_level: Level
    night_ban: NightBan
    gap_km: Annotated[float, msgspec.Meta(gt=0)] = 5.0  # a longer stretch is incomplete (ours)


class Circle(_C, frozen=True):
    """A circle by centre and radius."""

    lat: float
    lon: float
    radius_m: Annotated[float, msgspec.Meta(gt=0)]


class Zone(_C, frozen=True):
    """A speed zone (its own limits) or a restricted zone (enter / dwell / leave)."""

    id: str
    name: str
    kind: Literal["speed", "restricted"]
    polygon: list[LatLon] | None = None
    circle: Circle | None = None
    limits_kmh: dict[Class, float] = msgspec.field(default_factory=dict)
    classes: list[Class] = msgspec.field(default_factory=lambda: ["hazmat"])
    level: Level = 3
    dwell_s: float | None = None


class Route(_C, frozen=True):
    """An approved corridor along a polyline for some vehicles."""

    id: str
    name: str
    vehicles: list[str]
    width_m: Annotated[float, msgspec.Meta(gt=0)]
    line: list[LatLon]
    level: Level = 3
    persist_s: float = 60


class Bit(_C, frozen=True):
    """One JT/T 808 alarm bit → warning."""

    name: str
    level: Level
    hazmat_level: Level | None = None


class VideoType(_C, frozen=True):
    """One active-safety alarm type."""

    name: str
    level: Level


class VideoConfig(_C, frozen=True):
    """Video-AI (ADAS / DSM / BSD) grading."""

    types: dict[str, dict[str, VideoType]]
    default_level: Level
    fast_kmh: float
    repeat_count: int
    repeat_window_s: float
    clear_delay_s: float


class DriftConfig(_C, frozen=True):
    """GNSS drift."""

    max_kmh: float


class VehicleOffline(_C, frozen=True):
    """Vehicle offline and offline displacement."""

    level: Level
    hazmat_level: Level
    status_offline_persist_s: float
    displacement_m: float
    displacement_level: Level
    never_connected_s: float = 600  # 未接入: silent this long after start (not offline)
    never_connected_level: Level = 4
    clock_fast_level: Level = 4  # a terminal clock ahead beyond its tolerance (data kept)


class VehicleRules(_C, frozen=True):
    """Everything the vehicle engine is configured with."""

    version: Literal[1]
    timezone: str
    moving_kmh: float
    speed: SpeedConfig
    driving: DrivingConfig
    geofence_margin_m: float
    zones: list[Zone]
    routes: list[Route]
    jt808_bits: dict[int, Bit]
    video: VideoConfig
    drift: DriftConfig
    offline: VehicleOffline


def load_vehicle_rules(path: str | Path = DEFAULT_VEHICLE_RULES) -> VehicleRules:
    """Load and validate; raise ValueError naming the file and the problem."""
    path = Path(path)
    cfg = load_yaml(path, VehicleRules, strict=False)
    problems = []
    for z in cfg.zones:
        if (z.polygon is None) == (z.circle is None):
            problems.append(f"zones.{z.id}: give exactly one of polygon and circle")
        if z.polygon is not None and len(z.polygon) < 3:
            problems.append(f"zones.{z.id}: a polygon needs at least 3 vertices")
    for r in cfg.routes:
        if len(r.line) < 2:
            problems.append(f"routes.{r.id}: a route needs at least 2 points")
    if [b.over_pct for b in cfg.speed.bands] != sorted(b.over_pct for b in cfg.speed.bands):
        problems.append("speed.bands: over_pct must increase")
    problems += [f"jt808_bits.{b}: bit outside 0..31" for b in cfg.jt808_bits if not 0 <= b <= 31]
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(cfg.timezone)
    except Exception:
        problems.append(f"timezone: unknown {cfg.timezone!r}")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return cfg
