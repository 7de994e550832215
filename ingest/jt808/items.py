"""Additional information items of 0x0200 (id, length, value): standard ones decoded, others raw."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import msgspec

from hazardwatch.ingest.jt808.active_safety import FAMILY_BY_ITEM, SafetyAlarm, decode_safety
from hazardwatch.ingest.jt808.bcdtime import GMT8_S
from hazardwatch.ingest.jt808.variants import ActiveSafety

Decoded = dict[str, Any]


def _u(fmt: str, scale: float | None, name: str) -> Callable[[bytes], Decoded]:
    size = struct.calcsize(fmt)

    def dec(data: bytes) -> Decoded:
        if len(data) != size:
            raise ValueError(f"{size} bytes expected, {len(data)} sent")
        (v,) = struct.unpack(fmt, data)
        return {name: round(v * scale, 6) if scale is not None else v}

    return dec


def _area(data: bytes) -> Decoded:
    kind = data[0]
    out: Decoded = {"location_type": kind}
    if kind:
        (out["area_id"],) = struct.unpack_from(">I", data, 1)
    return out


def _in_out(data: bytes) -> Decoded:
    kind, area, direction = struct.unpack(">BIB", data)
    return {"location_type": kind, "area_id": area, "direction": "out" if direction else "in"}


def _route_time(data: bytes) -> Decoded:
    seg, secs, result = struct.unpack(">IHB", data)
    return {"segment_id": seg, "drive_s": secs, "result": "long" if result else "short"}


def _analog(data: bytes) -> Decoded:
    (v,) = struct.unpack(">I", data)
    return {"ad0": v & 0xFFFF, "ad1": v >> 16}


DECODERS: dict[int, Callable[[bytes], Decoded]] = {
    0x01: _u(">I", 0.1, "mileage_km"),
    0x02: _u(">H", 0.1, "fuel_l"),
    0x03: _u(">H", 0.1, "recorder_speed_kmh"),
    0x04: _u(">H", None, "confirm_event_id"),
    0x11: _area,
    0x12: _in_out,
    0x13: _route_time,
    0x25: _u(">I", None, "signals"),
    0x2A: _u(">H", None, "io"),
    0x2B: _analog,
    0x30: _u(">B", None, "rssi"),
    0x31: _u(">B", None, "satellites"),
}


class Items(msgspec.Struct, frozen=True, gc=False):
    """The decoded items, unknown or undecodable ones raw, and the active-safety alarms."""

    decoded: dict[int, Decoded]
    raw: dict[int, bytes]
    problems: dict[int, str]
    alarms: list[SafetyAlarm]
    trailing: bytes = b""

    def as_dict(self) -> dict[str, Any]:
        """JSON form: `0xNN` keys."""
        out: dict[str, Any] = {f"0x{k:02x}": v for k, v in self.decoded.items()}
        for k, v in self.raw.items():
            entry: dict[str, Any] = {"raw": v.hex()}
            if k in self.problems:
                entry["problem"] = self.problems[k]
            out[f"0x{k:02x}"] = entry
        if self.trailing:
            out["trailing"] = self.trailing.hex()
        return out


def decode_items(data: bytes, offset_s: int = GMT8_S,
                 variant: ActiveSafety = ActiveSafety.JSATL) -> Items:
    """Walk the (id, len, value) list; a short last item is kept as trailing bytes, never fatal."""
    decoded: dict[int, Decoded] = {}
    raw: dict[int, bytes] = {}
    problems: dict[int, str] = {}
    alarms: list[SafetyAlarm] = []
    pos, n = 0, len(data)
    while pos + 2 <= n:
        item, size = data[pos], data[pos + 1]
        value = data[pos + 2:pos + 2 + size]
        if len(value) < size:
            break
        pos += 2 + size
        try:
            if item in DECODERS:
                decoded[item] = DECODERS[item](value)
            elif item in FAMILY_BY_ITEM:
                alarm = decode_safety(item, value, offset_s, variant)
                alarms.append(alarm)
                decoded[item] = alarm.as_dict()
            else:
                raw[item] = value
        except (ValueError, struct.error, IndexError) as exc:
            raw[item] = value
            problems[item] = str(exc)
    return Items(decoded, raw, problems, alarms, data[pos:])
