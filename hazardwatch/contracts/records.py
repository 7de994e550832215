"""Normalised records the bridge writes to Kafka (JSON, schema version 1)."""

from __future__ import annotations

from typing import Literal

import msgspec

SCHEMA_VERSION = 1
# telemetry records are version 2 (issue 21): a point's value may be null (q "bad", no
# reading) and a record may carry clock_fast_ms; a v1 reader that assumed a number would break
TELEMETRY_VERSION = 2
# video-event records are version 2 (issue 15): family "tpms" (苏标 0x66 tyre alarms) with its
# `tyre`; a v1 reader that took every vehicle family for a video-AI one would misfile it
VIDEO_EVENT_VERSION = 2


class PointRecord(msgspec.Struct, frozen=True, omit_defaults=False):
    """One sample with its own event time in epoch ms (value None: q "bad", no reading)."""

    sensor: str
    value: float | None
    ts: int
    q: str = "good"


class TelemetryRecord(msgspec.Struct, frozen=True, tag="telemetry", tag_field="kind"):
    """One telemetry message of one device (key: site_id)."""

    site_id: str
    device_id: str
    ts: int
    points: list[PointRecord]
    received_at: int
    seq: int | None = None
    drill: bool = False
    v: int = TELEMETRY_VERSION
    # the device clock was this far ahead of the receive time (beyond its tolerance): the
    # event times are the receive time instead (a quality flag; see docs/device-contract.md)
    clock_fast_ms: int | None = None


class PositionRecord(msgspec.Struct, frozen=True, gc=False, tag="position", tag_field="kind"):
    """One GNSS position of one vehicle (key: vehicle_id)."""

    # gc=False: only scalars, so never part of a cycle; the cyclic GC need not track millions

    vehicle_id: str
    ts: int
    lat: float
    lon: float
    speed_kmh: float
    heading: float
    received_at: int
    alt_m: float | None = None
    alarm_flags: int = 0
    status_flags: int = 0
    mileage_km: float | None = None
    seq: int | None = None
    drill: bool = False
    v: int = SCHEMA_VERSION
    clock_fast_ms: int | None = None  # as TelemetryRecord.clock_fast_ms


class MediaRecord(msgspec.Struct, frozen=True):
    """Evidence link."""

    kind: str
    uri: str


class TyreRecord(msgspec.Struct, frozen=True):
    """The tyre of a TPMS event (苏标 0x66): its position number (Z order from the left front,
    from 0), the alarm bits as sent, pressure kPa, temperature °C, sensor battery %."""

    position: int
    alarm_bits: int
    pressure_kpa: float | None = None
    temperature_c: float | None = None
    battery_pct: float | None = None


class VideoEventRecord(msgspec.Struct, frozen=True, tag="video-event", tag_field="kind"):
    """An active-safety event of a vehicle (ADAS / DSM / BSD video AI, TPMS tyre alarms) or a
    fixed camera's video-AI event (key: vehicle_id or site_id)."""

    ts: int
    event_id: str
    family: str
    type: str
    received_at: int
    site_id: str | None = None
    device_id: str | None = None
    vehicle_id: str | None = None
    terminal_level: int | None = None
    speed_kmh: float | None = None
    lat: float | None = None
    lon: float | None = None
    media: list[MediaRecord] = msgspec.field(default_factory=list)
    drill: bool = False
    v: int = VIDEO_EVENT_VERSION
    clock_fast_ms: int | None = None  # as TelemetryRecord.clock_fast_ms
    tyre: TyreRecord | None = None  # family "tpms" only


class StatusRecord(msgspec.Struct, frozen=True, tag="status", tag_field="kind"):
    """A device or vehicle going online or offline (key: site_id or vehicle_id)."""

    status: Literal["online", "offline"]
    ts: int
    received_at: int
    retained: bool = False
    site_id: str | None = None
    device_id: str | None = None
    vehicle_id: str | None = None
    drill: bool = False
    v: int = SCHEMA_VERSION
    clock_fast_ms: int | None = None  # as TelemetryRecord.clock_fast_ms


class RejectedRecord(msgspec.Struct, frozen=True):
    """A dead-letter record: the original bytes, where and when they came, and why rejected."""

    reason: str
    detail: str
    topic: str
    payload_b64: str
    received_at: int
    size: int
    qos: int = 0
    bridge: str = ""
    v: int = SCHEMA_VERSION
    # a refused point of a telemetry message whose other points went on (partial acceptance)
    index: int | None = None
    sensor: str | None = None
    device: str | None = None  # site/device of the sender, when known
    seq: int | None = None


InputRecord = TelemetryRecord | PositionRecord | VideoEventRecord | StatusRecord

_encoder = msgspec.json.Encoder()
_input_decoder = msgspec.json.Decoder(InputRecord)


def encode(record: msgspec.Struct) -> bytes:
    """JSON bytes of a record."""
    return _encoder.encode(record)


def decode_input(data: bytes) -> InputRecord:
    """Decode a record from hw.telemetry / hw.vehicle.positions / hw.video-events / status."""
    record: InputRecord = _input_decoder.decode(data)
    return record
