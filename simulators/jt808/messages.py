"""Terminal-side JT/T 808 messages (the simulator's encoder): 0x0100, 0x0102, 0x0200, 0x0704."""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field

from hazardwatch.ingest.jt808.header import Version
from hazardwatch.ingest.jt808.variants import LAYOUTS, ActiveSafety

GMT8_S = 8 * 3600


def bcd_time(ts_ms: int, offset_s: int = GMT8_S) -> bytes:
    """6-byte BCD YYMMDDhhmmss in the terminal's zone."""
    t = time.gmtime(ts_ms // 1000 + offset_s)
    return bytes.fromhex(f"{t.tm_year % 100:02d}{t.tm_mon:02d}{t.tm_mday:02d}"
                         f"{t.tm_hour:02d}{t.tm_min:02d}{t.tm_sec:02d}")


def register_body(terminal_id: str, plate: str, plate_color: int = 2,
                  version: Version = Version.V2013) -> bytes:
    """0x0100 body in the 2013 or 2019 layout."""
    maker_n, model_n, id_n = (11, 30, 30) if version is Version.V2019 else (5, 20, 7)
    return (struct.pack(">HH", 15, 100) + b"HWSIM"[:maker_n].ljust(maker_n, b"\0")
            + b"HW-808-SIM"[:model_n].ljust(model_n, b"\0")
            + terminal_id.encode()[:id_n].ljust(id_n, b"\0") + bytes((plate_color,))
            + plate.encode("gbk"))


def auth_body(code: str, version: Version = Version.V2013, imei: str = "860000000000001",
              software: str = "hw-sim-1.0") -> bytes:
    """0x0102 body; 2019 adds the length byte, IMEI and software version."""
    if version is not Version.V2019:
        return code.encode()
    c = code.encode()
    return (bytes((len(c),)) + c + imei.encode()[:15].ljust(15, b"\0")
            + software.encode()[:20].ljust(20, b"\0"))


@dataclass(frozen=True)
class SimFix:
    """One fix as a terminal would report it."""

    ts: int
    lat: float
    lon: float
    speed_kmh: float = 0.0
    heading: int = 0
    alt_m: int = 0
    alarm: int = 0
    status: int = 0x3  # ACC on, located
    mileage_km: float | None = None
    items: list[bytes] = field(default_factory=list)


def location_body(f: SimFix, offset_s: int = GMT8_S) -> bytes:
    """0x0200 body: 28 basic bytes and the items."""
    status = f.status | (0x4 if f.lat < 0 else 0) | (0x8 if f.lon < 0 else 0)
    body = struct.pack(">IIIIhHH", f.alarm, status, round(abs(f.lat) * 1e6),
                       round(abs(f.lon) * 1e6), f.alt_m, round(f.speed_kmh * 10), f.heading)
    body += bcd_time(f.ts, offset_s)
    if f.mileage_km is not None:
        body += b"\x01\x04" + struct.pack(">I", round(f.mileage_km * 10))
    body += b"\x30\x01\x1f\x31\x01\x0c"  # rssi 31, 12 satellites
    return body + b"".join(f.items)


def batch_body(fixes: list[SimFix], blind: bool, offset_s: int = GMT8_S) -> bytes:
    """0x0704 body: count, type (1 盲区补报), then each fix with its length."""
    out = struct.pack(">HB", len(fixes), 1 if blind else 0)
    for f in fixes:
        b = location_body(f, offset_s)
        out += struct.pack(">H", len(b)) + b
    return out


def alarm_tag(terminal_id: str, f: SimFix, serial: int, attachments: int,
              offset_s: int = GMT8_S) -> bytes:
    """The 16-byte 苏标 报警标识号: terminal id (7), BCD time, serial, attachment count, 0."""
    return (terminal_id.encode()[:7].ljust(7, b"\0") + bcd_time(f.ts, offset_s)
            + bytes((serial & 0xFF, attachments, 0)))


def _alarm_tail(f: SimFix, tag: bytes, offset_s: int) -> bytes:
    """Speed, altitude, position, time, vehicle status and the tag (every 苏标 alarm item)."""
    return (struct.pack(">BhII", min(255, round(f.speed_kmh)), f.alt_m,
                        round(abs(f.lat) * 1e6), round(abs(f.lon) * 1e6))
            + bcd_time(f.ts, offset_s) + struct.pack(">H", 0x0001) + tag)


def dsm_item(alarm_id: int, type_code: int, level: int, f: SimFix, terminal_id: str,
             serial: int = 0, attachments: int = 1, offset_s: int = GMT8_S) -> bytes:
    """A 苏标 0x65 DSM alarm item (47 bytes) with its 16-byte alarm tag."""
    tag = alarm_tag(terminal_id, f, serial, attachments, offset_s)
    body = struct.pack(">IBBBB", alarm_id, 1, type_code, level, 5) + bytes(4)
    body += _alarm_tail(f, tag, offset_s)
    return b"\x65" + bytes((len(body),)) + body


def adas_item(alarm_id: int, type_code: int, level: int, f: SimFix, terminal_id: str,
              serial: int = 0, attachments: int = 1, offset_s: int = GMT8_S) -> bytes:
    """A 苏标 0x64 ADAS alarm item (47 bytes): front vehicle 40 km/h at 1.2 s, no departure or
    road sign, then the common tail and tag."""
    tag = alarm_tag(terminal_id, f, serial, attachments, offset_s)
    body = struct.pack(">IBBBBBBBB", alarm_id, 1, type_code, level, 40, 12, 0, 0, 0)
    body += _alarm_tail(f, tag, offset_s)
    return b"\x64" + bytes((len(body),)) + body


def bsd_item(alarm_id: int, type_code: int, f: SimFix, terminal_id: str, serial: int = 0,
             attachments: int = 1, offset_s: int = GMT8_S) -> bytes:
    """A 苏标 0x67 BSD (blind spot) alarm item (41 bytes; the item has no level)."""
    tag = alarm_tag(terminal_id, f, serial, attachments, offset_s)
    body = struct.pack(">IBB", alarm_id, 1, type_code) + _alarm_tail(f, tag, offset_s)
    return b"\x67" + bytes((len(body),)) + body


def tpms_item(alarm_id: int, tyres: list[tuple[int, int, int, int, int]], f: SimFix,
              terminal_id: str, serial: int = 0, attachments: int = 0,
              offset_s: int = GMT8_S) -> bytes:
    """A 苏标 0x66 TPMS alarm item (41 + 9n bytes; no type or level byte): the common tail and
    tag, then per tyre (position, alarm bits, pressure kPa, temperature °C, battery %)."""
    tag = alarm_tag(terminal_id, f, serial, attachments, offset_s)
    body = struct.pack(">IB", alarm_id, 1) + _alarm_tail(f, tag, offset_s)
    body += bytes((len(tyres),)) + b"".join(struct.pack(">BHHHH", *t) for t in tyres)
    return b"\x66" + bytes((len(body),)) + body


def stream_head(name: str, offset: int, length: int,
                variant: ActiveSafety = ActiveSafety.JSATL) -> bytes:
    """The head of an attachment "01cd" stream packet as go-jt808's terminal writes it
    (`example/attachment/local/main.go` `sendStreamData`): the magic, the file name — 黑标 a
    length byte and the name, the others 50 bytes NUL-padded — then offset and length."""
    raw = name.encode()
    if LAYOUTS[variant].stream_name_len_byte:
        named = bytes((len(raw),)) + raw
    else:
        named = raw[:50].ljust(50, b"\0")
    return b"01cd" + named + struct.pack(">II", offset, length)
