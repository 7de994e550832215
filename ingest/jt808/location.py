"""0x0200 location basics (28 bytes + items) and 0x0704 batches, as fixes in contract units."""

from __future__ import annotations

import struct
from typing import Any

import msgspec

from hazardwatch.ingest.jt808.bcdtime import GMT8_S, bcd_time_ms
from hazardwatch.ingest.jt808.items import Items, decode_items
from hazardwatch.ingest.jt808.variants import ActiveSafety

BASIC = 28
STATUS_LOCATED = 1 << 1
STATUS_SOUTH = 1 << 2
STATUS_WEST = 1 << 3
CLOCK_TOLERANCE_MS = 5 * 60 * 1000  # ingest.decode.Limits.max_future_ms
MAX_CLOCK_FAST_MS = 24 * 3600 * 1000  # ingest.decode.Limits.max_clock_fast_ms
MAX_AGE_MS = 30 * 24 * 3600 * 1000  # ingest.decode.Limits.max_age_ms
_BASIC = struct.Struct(">IIIIhHH")


class Fix(msgspec.Struct, frozen=True, gc=False):
    """One location report; `invalid` says why it must not feed speed or distance."""

    ts: int | None
    lat: float
    lon: float
    speed_kmh: float
    heading: int
    alt_m: int
    alarm_flags: int
    status_flags: int
    items: Items
    invalid: str | None = None
    clock_fast_ms: int | None = None  # the terminal clock was this far ahead: use receive time

    @property
    def mileage_km(self) -> float | None:
        """Odometer from item 0x01, if sent."""
        m = self.items.decoded.get(0x01)
        return None if m is None else float(m["mileage_km"])

    def as_dict(self) -> dict[str, Any]:
        """Contract field names plus the items, the alarms and the validity."""
        return {"ts": self.ts, "lat": self.lat, "lon": self.lon, "speed_kmh": self.speed_kmh,
                "heading": self.heading, "alt_m": self.alt_m, "alarm_flags": self.alarm_flags,
                "status_flags": self.status_flags, "mileage_km": self.mileage_km,
                "valid": self.invalid is None, "invalid": self.invalid,
                "items": self.items.as_dict(),
                "safety_alarms": [a.as_dict() for a in self.items.alarms]}


def decode_fix(data: bytes, offset_s: int = GMT8_S, now_ms: int | None = None,
               variant: ActiveSafety = ActiveSafety.JSATL) -> Fix:
    """Decode a 0x0200 body; raise ValueError if shorter than the 28 basic bytes."""
    if len(data) < BASIC:
        raise ValueError(f"location needs {BASIC} bytes, has {len(data)}")
    alarm, status, lat_u, lon_u, alt, speed, heading = _BASIC.unpack_from(data)
    ts = bcd_time_ms(data[22:28], offset_s)
    lat = -(lat_u / 1e6) if status & STATUS_SOUTH else lat_u / 1e6
    lon = -(lon_u / 1e6) if status & STATUS_WEST else lon_u / 1e6
    invalid = None
    if ts is None:
        invalid = f"time {data[22:28].hex()} is not a BCD date-time"
    elif abs(lat) > 90 or abs(lon) > 180:
        invalid = f"position ({lat}, {lon}) out of range"
    elif heading > 359:
        invalid = f"heading {heading} out of range 0–359"
    elif not status & STATUS_LOCATED:
        invalid = "not positioned (status bit 1 is 0)"
    fast = None
    if invalid is None and now_ms is not None and ts is not None:
        if ts > now_ms + CLOCK_TOLERANCE_MS:  # as the MQTT decoder treats a fast clock
            if ts - now_ms <= MAX_CLOCK_FAST_MS:
                fast = ts - now_ms
            else:
                invalid = f"time {ts} is {(ts - now_ms) / 1000:.0f} s in the future"
        elif ts < now_ms - MAX_AGE_MS:
            invalid = f"time {ts} is too old (more than 30 days)"
    return Fix(ts, lat, lon, speed / 10, heading, alt, alarm, status,
               decode_items(data[BASIC:], offset_s, variant), invalid, fast)


class Batch(msgspec.Struct, frozen=True, gc=False):
    """A 0x0704 batch: normal (0) or blind-area 补传 (1), and its fixes."""

    kind: int
    fixes: list[Fix]
    problems: list[str]

    @property
    def backfill(self) -> bool:
        """True for a blind-area (盲区补报) batch."""
        return self.kind == 1


def decode_batch(data: bytes, offset_s: int = GMT8_S, now_ms: int | None = None,
                 variant: ActiveSafety = ActiveSafety.JSATL) -> Batch:
    """Decode a 0x0704 body; a bad entry is a problem, the others still decode."""
    if len(data) < 3:
        raise ValueError(f"0x0704 needs at least 3 bytes, has {len(data)}")
    count, kind = struct.unpack_from(">HB", data)
    pos = 3
    fixes: list[Fix] = []
    problems: list[str] = []
    for i in range(count):
        if pos + 2 > len(data):
            problems.append(f"announces {count} fixes, holds {i}")
            break
        (size,) = struct.unpack_from(">H", data, pos)
        entry = data[pos + 2:pos + 2 + size]
        pos += 2 + size
        if len(entry) < size:
            problems.append(f"fix {i}: {size} bytes announced, {len(entry)} left")
            break
        try:
            fixes.append(decode_fix(entry, offset_s, now_ms, variant))
        except ValueError as exc:
            problems.append(f"fix {i}: {exc}")
    if pos < len(data):
        problems.append(f"{len(data) - pos} bytes after the last fix")
    return Batch(kind, fixes, problems)
