"""苏标 (T/JSATL 12-2017) active-safety items: 0x64 ADAS, 0x65 DSM, 0x66 TPMS, 0x67 BSD."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from hazardwatch.ingest.jt808.bcdtime import GMT8_S, bcd_time_ms
from hazardwatch.ingest.jt808.variants import LAYOUTS, ActiveSafety, Layout

Tyre = dict[str, int]  # one 0x66 tyre: position, type_bits, pressure_kpa, temperature_c, …
FAMILY_BY_ITEM = {0x64: "adas", 0x65: "dsm", 0x66: "tpms", 0x67: "bsd"}

# type codes → the rule pack's type names (deploy/rules/vehicles.yaml `video.types`)
TYPES: dict[str, dict[int, str]] = {
    "adas": {0x01: "fcw", 0x02: "ldw", 0x03: "hmw", 0x04: "pcw", 0x05: "fld", 0x06: "tsr",
             0x07: "obstacle", 0x08: "assist_failure", 0x10: "road_sign", 0x11: "snapshot"},
    "dsm": {0x01: "fatigue", 0x02: "phone", 0x03: "smoking", 0x04: "distraction",
            0x05: "absent", 0x08: "overtime", 0x0A: "seatbelt", 0x0B: "ir_blocked",
            0x0C: "hands_off", 0x0D: "phone_use", 0x10: "snapshot", 0x11: "driver_change"},
    "bsd": {0x01: "rear", 0x02: "left_rear", 0x03: "right_rear"},
}
EVENT_TYPES = {("adas", 0x10), ("adas", 0x11), ("dsm", 0x10), ("dsm", 0x11)}  # not alarms
# 0x66 tyre alarm bits (T/JSATL 12-2017 table 22, as go-jt808 `protocol/model/
# t_0x0200_addition_extensions.go` T0x0200ExtensionTable22 lists them) → the rule pack's type
# names; bit 0 is the timed pressure report (not an alarm), bits 8–15 are vendor-defined
TPMS_BITS = {1: "pressure_high", 2: "pressure_low", 3: "temperature_high", 4: "sensor_fault",
             5: "pressure_unbalanced", 6: "slow_leak", 7: "battery_low"}


@dataclass(frozen=True, slots=True)
class AlarmTag:
    """The 报警标识号 (苏标 16 bytes; longer in some provinces, variants.py): terminal id, BCD
    time, serial, attachment count, reserved."""

    terminal_id: str
    time: str
    serial: int
    attachments: int
    reserved: int
    raw: bytes

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"terminal_id": self.terminal_id, "time": self.time, "serial": self.serial,
                "attachments": self.attachments, "raw": self.raw.hex()}


@dataclass(frozen=True, slots=True)
class SafetyAlarm:
    """One active-safety alarm item as sent (speed km/h, position 1e-6 degrees, time in UTC)."""

    item: int
    family: str
    alarm_id: int
    flag: int
    type_code: int
    level: int | None
    speed_kmh: int
    alt_m: int
    lat: float
    lon: float
    ts: int | None
    vehicle_status: int
    tag: AlarmTag
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        """The rule pack's type name, or `type_0xNN` for a code it does not know."""
        return TYPES.get(self.family, {}).get(self.type_code, f"type_0x{self.type_code:02x}")

    @property
    def is_event(self) -> bool:
        """A snapshot or driver-change event rather than an alarm."""
        return (self.family, self.type_code) in EVENT_TYPES

    def tyre_alarms(self) -> list[tuple[Tyre, int, str]]:
        """TPMS: (tyre, bit, type name) for each alarm bit set on each tyre, in item order."""
        return [(t, bit, name) for t in self.extra.get("tyres", ())
                for bit, name in TPMS_BITS.items() if t["type_bits"] >> bit & 1]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"item": f"0x{self.item:02x}", "family": self.family, "alarm_id": self.alarm_id,
                "flag": self.flag, "type_code": self.type_code, "type": self.type_name,
                "level": self.level, "speed_kmh": self.speed_kmh, "alt_m": self.alt_m,
                "lat": self.lat, "lon": self.lon, "ts": self.ts,
                "vehicle_status": self.vehicle_status, "tag": self.tag.as_dict(), **self.extra}


def _tag(data: bytes, lay: Layout) -> AlarmTag:
    n = lay.terminal_id
    tid = data[:n].rstrip(b"\x00").decode("ascii", "replace")
    reserved = data[n + 8] if lay.reserved else 0
    return AlarmTag(tid, data[n:n + 6].hex(), data[n + 6], data[n + 7], reserved,
                    bytes(data[:lay.tag]))


def _tail(item: int, family: str, alarm_id: int, flag: int, type_code: int, level: int | None,
          data: bytes, pos: int, offset_s: int, extra: dict[str, Any],
          lay: Layout) -> SafetyAlarm:
    speed, alt, lat, lon = struct.unpack_from(">BhII", data, pos)
    ts = bcd_time_ms(data[pos + 11:pos + 17], offset_s)
    (status,) = struct.unpack_from(">H", data, pos + 17)
    tag = _tag(data[pos + 19:pos + 19 + lay.tag], lay)
    return SafetyAlarm(item, family, alarm_id, flag, type_code, level, speed, alt, lat / 1e6,
                       lon / 1e6, ts, status, tag, extra)


def _need(item: int, data: bytes, size: int, at_least: bool = False) -> None:
    if len(data) < size:
        raise ValueError(f"0x{item:02x} needs {'at least ' if at_least else ''}{size} bytes, "
                         f"has {len(data)}")


def decode_safety(item: int, data: bytes, offset_s: int = GMT8_S,
                  variant: ActiveSafety = ActiveSafety.JSATL) -> SafetyAlarm:
    """Decode one 0x64–0x67 item body; raise ValueError (struct.error) when it is too short.
    The provincial `variant` decides the alarm tag's length (苏标 16 bytes)."""
    lay = LAYOUTS[variant]
    family = FAMILY_BY_ITEM[item]
    alarm_id, flag = struct.unpack_from(">IB", data)
    if item == 0x64:
        _need(item, data, 31 + lay.tag)
        t, level, fspeed, dist, dev, sign_t, sign_d = struct.unpack_from(">7B", data, 5)
        extra = {"front_speed_kmh": fspeed, "front_distance_100ms": dist, "departure": dev,
                 "road_sign_type": sign_t, "road_sign_value": sign_d}
        return _tail(item, family, alarm_id, flag, t, level, data, 12, offset_s, extra, lay)
    if item == 0x65:
        _need(item, data, 31 + lay.tag)
        t, level, fatigue = struct.unpack_from(">3B", data, 5)
        extra = {"fatigue_degree": fatigue, "reserved": data[8:12].hex()}
        return _tail(item, family, alarm_id, flag, t, level, data, 12, offset_s, extra, lay)
    if item == 0x66:
        _need(item, data, 25 + lay.tag, at_least=True)
        p0 = 24 + lay.tag
        count = data[p0]
        tyres = []
        for i in range(count):
            p = p0 + 1 + 9 * i
            if p + 9 > len(data):
                raise ValueError(f"0x66 announces {count} tyres, holds {i}")
            pos_, typ, press, temp, batt = struct.unpack_from(">BHHHH", data, p)
            tyres.append({"position": pos_, "type_bits": typ, "pressure_kpa": press,
                          "temperature_c": temp, "battery_pct": batt})
        return _tail(item, family, alarm_id, flag, 0, None, data, 5, offset_s,
                     {"tyres": tyres}, lay)
    _need(item, data, 25 + lay.tag)
    t = data[5]
    return _tail(item, family, alarm_id, flag, t, None, data, 6, offset_s, {}, lay)
