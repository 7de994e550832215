"""Payloads of MQTT contract version 1 (DESIGN.md §2) as msgspec models."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import msgspec

Timestamp = int | str  # epoch milliseconds or RFC 3339 with an offset
Quality = Literal["good", "uncertain", "bad"]
VehicleFamily = Literal["adas", "dsm", "bsd", "tpms"]
CameraFamily = Literal["fire", "smoke", "intrusion", "leak", "ppe"]
SensorId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
MAX_POINTS = 1000

UINT32 = msgspec.Meta(ge=0, le=0xFFFFFFFF)


class Point(msgspec.Struct, frozen=True):
    """One sample of one sensor; `value` may be null only with `q: "bad"` (no reading)."""

    sensor: SensorId
    value: float | None
    ts: Timestamp | None = None
    q: Quality = "good"


class TelemetryPayload(msgspec.Struct, frozen=True):
    """Samples from fixed sensors; gateways batch many points in one message."""

    ts: Timestamp
    points: list[Point]
    seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    drill: bool = False


class RawTelemetryPayload(msgspec.Struct, frozen=True):
    """A telemetry message whose points are kept raw, to be validated one by one: a bad
    point is refused on its own while the good points of the message go on (partial
    acceptance). Decoded only when TelemetryPayload fails inside `points`."""

    ts: Timestamp
    points: list[msgspec.Raw]
    seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    drill: bool = False


class PositionPayload(msgspec.Struct, frozen=True, gc=False):
    """A GNSS position report with JT/T 808 0x0200 alarm and status bits."""

    ts: Timestamp
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    speed_kmh: Annotated[float, msgspec.Meta(ge=0, le=400)] = 0.0
    heading: Annotated[float, msgspec.Meta(ge=0, lt=360)] = 0.0
    alt_m: Annotated[float, msgspec.Meta(ge=-500, le=9000)] | None = None
    alarm_flags: Annotated[int, UINT32] = 0
    status_flags: Annotated[int, UINT32] = 0
    mileage_km: Annotated[float, msgspec.Meta(ge=0)] | None = None
    seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    drill: bool = False


class Media(msgspec.Struct, frozen=True):
    """A link to evidence (image or video clip) of a video event."""

    kind: Literal["image", "video"]
    uri: Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]


class Tyre(msgspec.Struct, frozen=True):
    """The tyre of a TPMS event (苏标 0x66 table 22): position, alarm bits, readings."""

    position: Annotated[int, msgspec.Meta(ge=0, le=255)]
    alarm_bits: Annotated[int, msgspec.Meta(ge=0, le=0xFFFF)] = 0
    pressure_kpa: Annotated[float, msgspec.Meta(ge=0, le=10000)] | None = None
    temperature_c: Annotated[float, msgspec.Meta(ge=-100, le=500)] | None = None
    battery_pct: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None


class VideoEventPayload(msgspec.Struct, frozen=True):
    """A video-AI event: active safety in vehicles (TPMS tyre alarms too) or a fixed camera's
    detection."""

    ts: Timestamp
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    family: str
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    terminal_level: Literal[1, 2] | None = None
    speed_kmh: Annotated[float, msgspec.Meta(ge=0, le=400)] | None = None
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    media: list[Media] = msgspec.field(default_factory=list)
    drill: bool = False
    tyre: Tyre | None = None  # family "tpms"


class StatusPayload(msgspec.Struct, frozen=True):
    """online / offline; devices may also send the bare string (their last will does)."""

    status: Literal["online", "offline"]
    ts: Timestamp | None = None
    drill: bool = False


VEHICLE_FAMILIES: frozenset[str] = frozenset(get_args(VehicleFamily))
CAMERA_FAMILIES: frozenset[str] = frozenset(get_args(CameraFamily))
