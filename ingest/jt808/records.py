"""Fixes and 苏标 alarms (ADAS, DSM, BSD, TPMS) as the pipeline's contract records (as MQTT
vehicles send them)."""

from __future__ import annotations

import base64

import msgspec

from hazardwatch.contracts.reasons import Reason
from hazardwatch.contracts.records import (
    MediaRecord,
    PositionRecord,
    RejectedRecord,
    TyreRecord,
    VideoEventRecord,
)
from hazardwatch.ingest.jt808.active_safety import SafetyAlarm
from hazardwatch.ingest.jt808.location import Fix

VIDEO_FAMILIES = frozenset({"adas", "dsm", "bsd", "tpms"})  # contracts.payloads.VehicleFamily


class Origin(msgspec.Struct, frozen=True, gc=False):
    """Who sent a message and when: the vehicle, the terminal phone, the gateway, drill or not."""

    vehicle_id: str
    phone: str
    received_at: int
    gateway: str = "hw-jt808"
    drill: bool = False


def position(fix: Fix, o: Origin) -> PositionRecord:
    """A valid fix as a PositionRecord (the caller checked `fix.invalid is None`)."""
    assert fix.ts is not None
    ts = o.received_at if fix.clock_fast_ms else fix.ts
    return PositionRecord(o.vehicle_id, ts, fix.lat, fix.lon, fix.speed_kmh,
                          float(fix.heading), o.received_at, alt_m=float(fix.alt_m),
                          alarm_flags=fix.alarm_flags, status_flags=fix.status_flags,
                          mileage_km=fix.mileage_km, drill=o.drill,
                          clock_fast_ms=fix.clock_fast_ms)


def invalid_fix(fix: Fix, o: Origin, msg_id: int, frame: bytes) -> RejectedRecord:
    """A fix that must not feed speed or distance: kept on hw.rejected with its reason."""
    reason = Reason.BAD_TIMESTAMP if fix.ts is None else Reason.OUT_OF_RANGE
    if fix.invalid and "future" in fix.invalid:
        reason = Reason.TS_IN_FUTURE
    elif fix.invalid and "too old" in fix.invalid:
        reason = Reason.TS_TOO_OLD
    return RejectedRecord(
        reason=reason.value, detail=f"JT/T 808 0x{msg_id:04x} fix: {fix.invalid}",
        topic=f"jt808/{o.phone}/0x{msg_id:04x}", payload_b64=base64.b64encode(frame).decode(),
        received_at=o.received_at, size=len(frame), bridge=o.gateway)


def event_id(o: Origin, alarm: SafetyAlarm) -> str:
    """Stable per alarm: the phone and the 16-byte alarm tag (retransmissions give the same)."""
    return f"jt808-{o.phone}-{alarm.tag.raw.hex()}-{alarm.item:02x}"


def video_events(alarm: SafetyAlarm, fix: Fix, o: Origin,
                 media: list[MediaRecord] | None = None) -> list[VideoEventRecord]:
    """A 苏标 alarm start as video events: one for ADAS / DSM / BSD, one per tyre and alarm bit
    for TPMS (none for ends, snapshots, and tyres that only report their pressure)."""
    if alarm.family not in VIDEO_FAMILIES or alarm.is_event or alarm.flag == 2:
        return []
    ts = alarm.ts if alarm.ts is not None else fix.ts
    if ts is None:
        return []
    located = 0 < abs(alarm.lat) <= 90 and 0 < abs(alarm.lon) <= 180
    base = VideoEventRecord(
        ts=ts, event_id=event_id(o, alarm), family=alarm.family, type=alarm.type_name,
        received_at=o.received_at, vehicle_id=o.vehicle_id,
        terminal_level=alarm.level if alarm.level in (1, 2) else None,
        speed_kmh=float(alarm.speed_kmh),
        lat=alarm.lat if located else (fix.lat if fix.invalid is None else None),
        lon=alarm.lon if located else (fix.lon if fix.invalid is None else None),
        media=media or [], drill=o.drill)
    if alarm.family != "tpms":
        return [base]
    return [msgspec.structs.replace(
        base, event_id=f"{base.event_id}-{t['position']:02x}-{bit}", type=name,
        tyre=TyreRecord(t["position"], t["type_bits"], _reading(t["pressure_kpa"], 10_000),
                        _reading(t["temperature_c"], 500), _reading(t["battery_pct"], 100)))
        for t, bit, name in alarm.tyre_alarms()]


def _reading(raw: int, most: int) -> float | None:
    """A tyre reading within the MQTT contract's range (`Tyre`), else None (0xFFFF and other
    out-of-range WORDs mean "no reading": not a 65,535 % battery)."""
    return float(raw) if 0 <= raw <= most else None
