"""Pure decoding of one MQTT message: validated, normalised record or a precise rejection."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.payloads import (
    CAMERA_FAMILIES,
    MAX_POINTS,
    VEHICLE_FAMILIES,
    Point,
    PositionPayload,
    RawTelemetryPayload,
    StatusPayload,
    TelemetryPayload,
    Tyre,
    VideoEventPayload,
)
from hazardwatch.contracts.reasons import Reason, RejectedInput
from hazardwatch.contracts.records import (
    InputRecord,
    MediaRecord,
    PointRecord,
    PositionRecord,
    StatusRecord,
    TelemetryRecord,
    TyreRecord,
    VideoEventRecord,
    encode,
)
from hazardwatch.contracts.timestamps import MIN_TS_MS, to_epoch_ms, unit_hint
from hazardwatch.contracts.topics import KAFKA_TOPIC_BY_KIND, Kind, Subject, parse_topic

_DECODERS: dict[Kind, msgspec.json.Decoder[Any]] = {
    Kind.TELEMETRY: msgspec.json.Decoder(TelemetryPayload),
    Kind.POSITION: msgspec.json.Decoder(PositionPayload),
    Kind.VIDEO_EVENT: msgspec.json.Decoder(VideoEventPayload),
    Kind.STATUS: msgspec.json.Decoder(StatusPayload),
}
_point_decoder = msgspec.json.Decoder(Point)
_raw_telemetry_decoder = msgspec.json.Decoder(RawTelemetryPayload)
_NON_FINITE = re.compile(rb"(?<![\w\"])-?(NaN|Infinity|inf|nan)(?![\w\"])")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on input; all configurable."""

    max_payload_bytes: int = 256 * 1024
    max_future_ms: int = 5 * 60 * 1000  # clock tolerance: a device clock ahead by more is fast
    max_age_ms: int = 30 * 24 * 3600 * 1000
    # tolerance per device kind (gateway, sensor, camera, vehicle), overriding max_future_ms
    clock_tolerance_ms: Mapping[str, int] = field(default_factory=dict)
    # ahead by more than this is not a fast clock but a wrong time: ts_in_future (or ts_unit)
    max_clock_fast_ms: int = 24 * 3600 * 1000

    def tolerance(self, kind: str) -> int:
        """How far (ms) a device of this kind may be ahead of the receive time."""
        return self.clock_tolerance_ms.get(kind, self.max_future_ms)


class PointRejection(msgspec.Struct, frozen=True):
    """One refused point of a telemetry message whose other points were accepted."""

    index: int
    sensor: str | None
    reason: Reason
    detail: str


class Accepted(msgspec.Struct, frozen=True, gc=False):
    """A valid message: the normalised record, its Kafka topic and key."""

    topic: str
    key: bytes
    record: InputRecord
    refused: tuple[PointRejection, ...] = ()  # points refused on their own (telemetry only)

    @property
    def value(self) -> bytes:
        """The record as JSON bytes for Kafka (encoded on demand: replay does not need it)."""
        return encode(self.record)


class Rejected(msgspec.Struct, frozen=True):
    """An invalid message: reason code, detail, and where to tell the sender (if known)."""

    reason: Reason
    detail: str
    reply_topic: str | None
    key: bytes


def classify_validation_error(exc: msgspec.MsgspecError, payload: bytes) -> RejectedInput:
    """Map a msgspec decode/validation error to a reason code, keeping its field path."""
    msg = str(exc)
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as ude:
        return RejectedInput(Reason.NOT_UTF8, f"payload is not UTF-8: {ude}")
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        if _NON_FINITE.search(payload):
            return RejectedInput(Reason.NON_FINITE, f"NaN or Infinity is not a number ({msg})")
        return RejectedInput(Reason.NOT_JSON, msg)
    if msg.startswith("Number out of range"):
        return RejectedInput(Reason.NON_FINITE, msg)
    if msg.startswith("Expected `object`, got") and " - at " not in msg:
        return RejectedInput(Reason.NOT_OBJECT, msg)
    if msg.startswith("Object missing required field"):
        return RejectedInput(Reason.MISSING_FIELD, msg)
    if msg.startswith("Invalid enum value"):
        return RejectedInput(Reason.BAD_ENUM, msg)
    if msg.startswith("Expected `array` of length") and msg.endswith("`$.points`"):
        reason = Reason.EMPTY_POINTS if ">= 1" in msg else Reason.TOO_MANY_POINTS
        return RejectedInput(reason, msg)
    if re.match(r"Expected `[^`]+` (<|>|<=|>=) |Expected `\w+` of length", msg):
        return RejectedInput(Reason.OUT_OF_RANGE, msg)
    return RejectedInput(Reason.WRONG_TYPE, msg)


class MessageDecoder:
    """Validates MQTT messages against contract v1 and the catalog; pure apart from its inputs."""

    def __init__(self, catalog: Catalog, limits: Limits | None = None) -> None:
        self.catalog = catalog
        self.limits = limits or Limits()
        # topics seen valid (the catalog is fixed) → (publisher, Kafka topic, Kafka key,
        # clock tolerance in ms)
        self._subjects: dict[str, tuple[Subject, str, bytes, int]] = {}

    def subject(self, topic: str) -> Subject:
        """The publisher of a topic, checked against the catalog (cached per topic)."""
        return (self._subjects.get(topic) or self._learn(topic))[0]

    def _learn(self, topic: str) -> tuple[Subject, str, bytes, int]:
        s = parse_topic(topic)
        self._check_subject(s)
        if len(self._subjects) >= 500_000:
            self._subjects.clear()
        kind = ("vehicle" if s.vehicle_id is not None
                else self.catalog.devices[(str(s.site_id), str(s.device_id))].kind)
        found = self._subjects[topic] = (s, KAFKA_TOPIC_BY_KIND[s.kind].value, s.key.encode(),
                                         self.limits.tolerance(kind))
        return found

    def decode(self, topic: str, payload: bytes, received_at: int,
               retained: bool = False) -> Accepted | Rejected:
        """Decode one message received at `received_at` (epoch ms)."""
        subject: Subject | None = None
        try:
            subject, kafka_topic, key, tol = self._subjects.get(topic) or self._learn(topic)
            if len(payload) > self.limits.max_payload_bytes:
                raise RejectedInput(Reason.PAYLOAD_TOO_LARGE,
                                    f"{len(payload)} bytes > {self.limits.max_payload_bytes}")
            record, refused = self._record(subject, payload, received_at, retained, tol)
        except RejectedInput as rej:
            where = subject.key if subject is not None else topic
            return Rejected(rej.reason, rej.detail,
                            subject.reply_topic if subject is not None else None, where.encode())
        return Accepted(kafka_topic, key, record, refused)

    def _check_subject(self, s: Subject) -> None:
        cat = self.catalog
        if s.vehicle_id is not None:
            if s.vehicle_id not in cat.vehicles:
                raise RejectedInput(Reason.UNKNOWN_VEHICLE,
                                    f"vehicle {s.vehicle_id!r} is not in the catalog")
            return
        assert s.site_id is not None and s.device_id is not None
        if s.site_id not in cat.sites:
            raise RejectedInput(Reason.UNKNOWN_SITE, f"site {s.site_id!r} is not in the catalog")
        if (s.site_id, s.device_id) not in cat.devices:
            raise RejectedInput(Reason.UNKNOWN_DEVICE,
                                f"device {s.device_id!r} is not in site {s.site_id!r}")

    def _time(self, value: int | str, received_at: int, path: str, tol: int) -> int:
        """The event time in ms; raise when out of bounds, and ClockFast when the device clock
        is ahead by more than `tol` but less than max_clock_fast_ms."""
        ts = value if type(value) is int else to_epoch_ms(value, path)
        if ts > received_at + tol:
            ahead = ts - received_at
            if ahead <= self.limits.max_clock_fast_ms:
                raise ClockFast(ahead)
            hint = unit_hint(ts) if type(value) is int else None
            if hint is not None:
                raise RejectedInput(Reason.TS_UNIT, f"{ts} looks like {hint}: ts must be "
                                    f"integer epoch milliseconds - at `{path}`")
            raise RejectedInput(Reason.TS_IN_FUTURE,
                                f"{ts} is {ahead / 1000:.0f} s ahead of the receive time (a fast "
                                f"clock is kept up to {self.limits.max_clock_fast_ms / 1000:.0f}"
                                f" s ahead) - at `{path}`")
        if ts < MIN_TS_MS or ts < received_at - self.limits.max_age_ms:
            hint = unit_hint(ts) if type(value) is int else None
            if hint is not None:
                raise RejectedInput(Reason.TS_UNIT, f"{ts} looks like {hint}: ts must be "
                                    f"integer epoch milliseconds - at `{path}`")
            raise RejectedInput(Reason.TS_TOO_OLD,
                                f"{ts} is older than the limit "
                                f"({self.limits.max_age_ms / 86_400_000:.0f} days) - at `{path}`")
        return ts

    def _when(self, value: int | str, received_at: int, path: str,
              tol: int) -> tuple[int, int | None]:
        """(event time, how far the clock is fast or None): a fast clock's data is kept at the
        receive time, flagged."""
        try:
            return self._time(value, received_at, path, tol), None
        except ClockFast as fast:
            return received_at, fast.ahead_ms

    @staticmethod
    def _status(payload: bytes) -> StatusPayload | None:
        bare = payload.strip()
        if bare in (b"online", b"offline"):
            return StatusPayload(status=bare.decode())  # type: ignore[arg-type]
        if bare in (b'"online"', b'"offline"'):
            return StatusPayload(status=bare.strip(b'"').decode())  # type: ignore[arg-type]
        return None

    def _record(self, s: Subject, payload: bytes, received_at: int, retained: bool,
                tol: int) -> tuple[InputRecord, tuple[PointRejection, ...]]:
        kind = s.kind
        p: Any = self._status(payload) if kind is Kind.STATUS else None
        if p is None:
            try:
                p = _DECODERS[kind].decode(payload)
            except msgspec.ValidationError as exc:
                if kind is not Kind.TELEMETRY or "`$.points[" not in str(exc):
                    raise classify_validation_error(exc, payload) from None
                try:  # a bad point: the points one by one (partial acceptance)
                    p = _raw_telemetry_decoder.decode(payload)
                except msgspec.MsgspecError as exc2:
                    raise classify_validation_error(exc2, payload) from None
            except msgspec.MsgspecError as exc:
                raise classify_validation_error(exc, payload) from None
            except UnicodeDecodeError as exc:  # msgspec raises it bare for bad bytes in a str
                raise RejectedInput(Reason.NOT_UTF8, f"payload is not UTF-8: {exc}") from None
        if kind is Kind.TELEMETRY:
            return self._telemetry(s, p, received_at, tol)
        if kind is Kind.POSITION:
            ts, fast = self._when(p.ts, received_at, "$.ts", tol)
            return _position_record(s, ts, p, received_at, fast), ()
        if kind is Kind.VIDEO_EVENT:
            return self._video(s, p, received_at, tol), ()
        ts, fast = (received_at, None) if p.ts is None else self._when(p.ts, received_at, "$.ts",
                                                                        tol)
        return StatusRecord(status=p.status, ts=ts, received_at=received_at, retained=retained,
                            site_id=s.site_id, device_id=s.device_id, vehicle_id=s.vehicle_id,
                            drill=p.drill, clock_fast_ms=fast), ()

    def position(self, topic: str, p: PositionPayload, received_at: int) -> PositionRecord | None:
        """The record `decode` would make of a position payload the caller has already decoded
        (replay reads a line in one pass); None when `decode` must decide: a topic not seen
        valid yet, not a position topic, or a time out of bounds (rejected or a fast clock)."""
        found = self._subjects.get(topic)
        if found is None or found[0].kind is not Kind.POSITION:
            return None
        try:
            return _position_record(found[0], self._time(p.ts, received_at, "$.ts", found[3]),
                                    p, received_at, None)
        except (RejectedInput, ClockFast):
            return None

    def _telemetry(self, s: Subject, p: TelemetryPayload | RawTelemetryPayload, received_at: int,
                   tol: int) -> tuple[TelemetryRecord, tuple[PointRejection, ...]]:
        """Whole-message checks first (time, count); then each point on its own: the good ones
        go on, each bad one is refused with its index (partial acceptance)."""
        if not p.points:
            raise RejectedInput(Reason.EMPTY_POINTS, "points is empty - at `$.points`")
        if len(p.points) > MAX_POINTS:
            raise RejectedInput(Reason.TOO_MANY_POINTS,
                                f"{len(p.points)} points > {MAX_POINTS} - at `$.points`")
        assert s.site_id is not None
        ts, fast = self._when(p.ts, received_at, "$.ts", tol)
        points: list[PointRecord] = []
        refused: list[PointRejection] = []
        seen: set[tuple[str, int]] = set()
        sensors, site_id, device_id = self.catalog.sensors, s.site_id, s.device_id
        items: Sequence[Point | msgspec.Raw] = p.points
        for i, raw in enumerate(items):
            name: str | None = None
            try:
                pt = raw if isinstance(raw, Point) else _decode_point(raw, i)
                name = pt.sensor
                found = sensors.get((site_id, name))
                if found is None:
                    raise RejectedInput(Reason.UNKNOWN_SENSOR, f"sensor {name!r} is not in site "
                                        f"{site_id!r} - at `$.points[{i}].sensor`")
                if found[0].id != device_id:
                    raise RejectedInput(Reason.SENSOR_NOT_ON_DEVICE,
                                        f"sensor {name!r} belongs to device {found[0].id!r}, "
                                        f"not {device_id!r} - at `$.points[{i}].sensor`")
                if pt.ts is None:
                    pts = ts
                else:
                    pts, pfast = self._when(pt.ts, received_at, f"$.points[{i}].ts", tol)
                    if pfast is not None:
                        fast = max(fast or 0, pfast)
                if (name, pts) in seen:
                    raise RejectedInput(Reason.DUPLICATE_POINT, f"sensor {name!r} appears twice "
                                        f"at ts {pts} - at `$.points[{i}]`")
                if pt.value is None and pt.q != "bad":
                    raise RejectedInput(Reason.MISSING_VALUE, f"value is null with q {pt.q!r} "
                                        f"(only q \"bad\" may have no value) - at "
                                        f"`$.points[{i}].value`")
                value = None if pt.value is None else _finite(pt.value, f"$.points[{i}].value")
            except RejectedInput as rej:
                refused.append(PointRejection(
                    i, name or (None if isinstance(raw, Point) else _peek_sensor(raw)), rej.reason,
                    rej.detail))
                continue
            seen.add((name, pts))
            points.append(PointRecord(name, value, pts, pt.q))
        return TelemetryRecord(site_id=site_id, device_id=str(device_id), ts=ts, points=points,
                               received_at=received_at, seq=p.seq, drill=p.drill,
                               clock_fast_ms=fast), tuple(refused)

    def _video(self, s: Subject, p: VideoEventPayload, received_at: int,
               tol: int) -> VideoEventRecord:
        if s.vehicle_id is not None:
            if p.family not in VEHICLE_FAMILIES:
                raise RejectedInput(Reason.FAMILY_MISMATCH, f"family {p.family!r} is not a "
                                    f"vehicle family {sorted(VEHICLE_FAMILIES)} - at `$.family`")
        else:
            device = self.catalog.devices[(str(s.site_id), str(s.device_id))]
            if device.kind != "camera":
                raise RejectedInput(Reason.NOT_A_CAMERA,
                                    f"device {device.id!r} is a {device.kind}, not a camera")
            if p.family not in CAMERA_FAMILIES:
                raise RejectedInput(Reason.FAMILY_MISMATCH, f"family {p.family!r} is not a "
                                    f"camera family {sorted(CAMERA_FAMILIES)} - at `$.family`")
        for i, m in enumerate(p.media):
            if not m.uri.startswith(("https://", "http://")):
                raise RejectedInput(Reason.BAD_MEDIA,
                                    f"media uri must be http(s) - at `$.media[{i}].uri`")
        ts, fast = self._when(p.ts, received_at, "$.ts", tol)
        return VideoEventRecord(
            ts=ts, clock_fast_ms=fast, event_id=p.event_id, family=p.family,
            type=p.type, received_at=received_at, site_id=s.site_id, device_id=s.device_id,
            vehicle_id=s.vehicle_id, terminal_level=p.terminal_level, speed_kmh=p.speed_kmh,
            lat=p.lat, lon=p.lon, media=[MediaRecord(m.kind, m.uri) for m in p.media],
            drill=p.drill, tyre=_tyre(p.tyre) if p.family == "tpms" else None,
        )


def _tyre(t: Tyre | None) -> TyreRecord | None:
    """A TPMS event's tyre as the record holds it."""
    if t is None:
        return None
    return TyreRecord(t.position, t.alarm_bits, t.pressure_kpa, t.temperature_c, t.battery_pct)


class ClockFast(Exception):
    """A device clock ahead of the receive time by more than its tolerance (data kept)."""

    def __init__(self, ahead_ms: int) -> None:
        super().__init__(ahead_ms)
        self.ahead_ms = ahead_ms


def _decode_point(raw: msgspec.Raw, i: int) -> Point:
    """One point of a telemetry message, its errors located in the whole message."""
    try:
        pt: Point = _point_decoder.decode(raw)
        return pt
    except msgspec.MsgspecError as exc:
        rej = classify_validation_error(exc, bytes(raw))
    except UnicodeDecodeError as exc:
        rej = RejectedInput(Reason.NOT_UTF8, f"point is not UTF-8: {exc}")
    if rej.reason is Reason.NOT_OBJECT:
        raise RejectedInput(rej.reason, f"{rej.detail} - at `$.points[{i}]`")
    raise RejectedInput(rej.reason, rej.detail.replace("`$", f"`$.points[{i}]"))


def _peek_sensor(raw: msgspec.Raw) -> str | None:
    """The sensor name of a point that did not validate, when it has one (for the reply)."""
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    name = obj.get("sensor") if isinstance(obj, dict) else None
    return name if isinstance(name, str) else None


def _position_record(s: Subject, ts: int, p: PositionPayload, received_at: int,
                     fast: int | None) -> PositionRecord:
    if fast is not None:
        return PositionRecord(str(s.vehicle_id), ts, p.lat, p.lon, p.speed_kmh, p.heading,
                              received_at, p.alt_m, p.alarm_flags, p.status_flags,
                              p.mileage_km, p.seq, p.drill, clock_fast_ms=fast)
    return PositionRecord(  # (positional: in PositionRecord's order)
        str(s.vehicle_id), ts, p.lat, p.lon, p.speed_kmh, p.heading,  # finite: schema bounds
        received_at, p.alt_m, p.alarm_flags, p.status_flags, p.mileage_km, p.seq, p.drill)


def _finite(value: float, path: str) -> float:  # (msgspec rejects NaN; 1e999 is inf)
    if not math.isfinite(value):
        raise RejectedInput(Reason.NON_FINITE, f"{value} is not finite - at `{path}`")
    return value
