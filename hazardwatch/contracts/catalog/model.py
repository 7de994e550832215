"""Catalog entries as validated models; field docs are in deploy/catalog/README.md."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from hazardwatch.contracts.topics import ID_PATTERN

Id = Annotated[str, msgspec.Meta(pattern=f"^{ID_PATTERN}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
SiteKind = Literal["tank_farm", "coal_mine", "tailings_dam"]
VehicleClass = Literal["hazmat", "coach", "tour_bus"]
DeviceKind = Literal["gateway", "sensor", "camera"]
Metric = Literal[
    # tank farms (40号令 第十三条: temperature, pressure, level, flow, composition, gas leaks)
    "level", "temperature", "pressure", "flow", "gas_combustible", "gas_toxic", "oxygen",
    # coal mines (煤矿安全规程, AQ 6201-2019)
    "ch4", "co", "co2", "wind_speed", "dust", "feed",  # feed: 馈电 switch, 1 powered / 0 cut
    # tailings dams (尾矿库安全规程 §5.5)
    "pond_level", "phreatic_line", "dry_beach", "freeboard", "displacement", "rainfall",
    "seepage",
]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Base(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Catalog models reject unknown fields so that typos are caught at start-up."""


class Location(Base, frozen=True):
    """WGS-84 position."""

    lat: Lat
    lon: Lon


class Person(Base, frozen=True):
    """A person who can be notified."""

    name: Name
    phone: str | None = None
    email: str | None = None


class People(Base, frozen=True):
    """包保责任人 of a major hazard source: 主要负责人, 技术负责人, 操作负责人."""

    principal: Person
    technical: Person | None = None
    operator: Person | None = None


class Thresholds(Base, frozen=True):
    """Set-points overriding the rule pack: H/HH/L/LL with restores, or tailings colours."""

    h: float | None = None
    hh: float | None = None
    l: float | None = None  # noqa: E741 - the industry's name for the low set-point
    ll: float | None = None
    restore_h: float | None = None
    restore_hh: float | None = None
    restore_l: float | None = None
    restore_ll: float | None = None
    # tailings 4 colours (尾矿库安全规程 §5.5.4); `direction: low` for quantities that are
    # dangerous when small (dry-beach length, phreatic-line burial depth, freeboard)
    blue: float | None = None
    yellow: float | None = None
    orange: float | None = None
    red: float | None = None
    direction: Literal["high", "low"] = "high"
    rate_per_min: float | None = None  # rate of change (units per minute) that raises a warning


class Sensor(Base, frozen=True):
    """A tag: one measured quantity with its unit, unit of plant and set-points."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    metric: Metric
    unit: Name
    plant_unit: Id | None = None
    location: str | None = None  # e.g. coal-mine sensor position T0/T1/T2 (AQ 1029)
    gas: str | None = None  # e.g. H2S for a toxic-gas detector
    range: tuple[float, float] | None = None
    thresholds: Thresholds | None = None


class Device(Base, frozen=True):
    """A field device: a DCS/PLC gateway, a single sensor or a video-AI camera."""

    id: Id
    kind: DeviceKind = "gateway"
    offline_timeout_s: Annotated[int, msgspec.Meta(ge=10, le=86400)] = 300
    sensors: list[Sensor] = msgspec.field(default_factory=list)


class PlantUnit(Base, frozen=True):
    """A unit of plant: a tank, a working face, a dam section."""

    id: Id
    name: Name
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class Site(Base, frozen=True):
    """A major hazard source site."""

    id: Id
    name: Name
    kind: SiteKind
    grade: Annotated[int, msgspec.Meta(ge=1, le=4)]  # GB 18218-2018 一级..四级
    region: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]  # GB/T 2260 region code
    location: Location
    people: People
    units: list[PlantUnit] = msgspec.field(default_factory=list)
    devices: list[Device] = msgspec.field(default_factory=list)
    gas_class: Literal["low", "high", "outburst"] | None = None  # coal mines only


class Company(Base, frozen=True):
    """A road transport company (两客一危 operator)."""

    id: Id
    name: Name
    region: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
    monitors: list[Person] = msgspec.field(default_factory=list)


class Terminal(Base, frozen=True):
    """A vehicle's JT/T 808 terminal: SIM / phone number (its key), terminal id, plate colour."""

    phone: Annotated[str, msgspec.Meta(pattern=r"^\d{1,20}$")]
    terminal_id: Annotated[str, msgspec.Meta(min_length=1, max_length=30)] | None = None
    plate_color: Annotated[int, msgspec.Meta(ge=0, le=255)] = 2  # JT/T 697.7: 1 蓝 2 黄 …
    utc_offset_h: Annotated[float, msgspec.Meta(ge=-12, le=14)] = 8.0  # the terminal's clock
    # 主动安全 variant (ingest/jt808/variants.py): alarm tag and 0x1210 layouts by province
    active_safety: Literal["jsatl", "heilongjiang", "guangdong", "hunan", "sichuan"] = "jsatl"


class Vehicle(Base, frozen=True):
    """A 两客一危 vehicle."""

    id: Id
    plate: Name
    vehicle_class: VehicleClass = msgspec.field(name="class")
    company: Id
    cargo: str | None = None
    offline_timeout_s: Annotated[int, msgspec.Meta(ge=30, le=86400)] = 900
    terminal: Terminal | None = None
