"""The 0x0200 fast path: a plain, valid position report of an authenticated terminal, decoded
straight from the frame to its PositionRecord bytes (the same bytes as the general path).

Anything unusual — another header shape or phone, sub-packages, encryption, an invalid or
fast-clock fix, clear-on-ack alarm bits, 苏标 alarm items — returns None and the general path
(header.parse → location.decode_fix → records.position) handles the frame as before.

The decoding runs in C (`_fast.c`, the same decisions) when the package was built with it;
`take_py` stays the reference and the fallback.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

from hazardwatch.contracts.records import PositionRecord, encode
from hazardwatch.ingest.jt808.active_safety import FAMILY_BY_ITEM
from hazardwatch.ingest.jt808.bcdtime import bcd_time_ms
from hazardwatch.ingest.jt808.framing import FrameError, verify, xor
from hazardwatch.ingest.jt808.header import Header, Version
from hazardwatch.ingest.jt808.location import (
    BASIC,
    CLOCK_TOLERANCE_MS,
    MAX_AGE_MS,
    STATUS_LOCATED,
    STATUS_SOUTH,
    STATUS_WEST,
)

# alarm bits cleared by the platform's confirmation (they need an 0x8203: general path)
CLEAR_ON_ACK = (1 << 20) | (1 << 21) | (1 << 22) | (1 << 28) | (1 << 31)
# id, attributes, (protocol version and) phone, serial, then the 28 basic bytes of 0x0200
_HEAD_2013 = struct.Struct(">HH6sHIIIIhHH6s")
_HEAD_2019 = struct.Struct(">HH11sHIIIIhHH6s")
_ALARM_ITEMS = frozenset(FAMILY_BY_ITEM)
_U32 = struct.Struct(">I")

try:  # the same decoding in C (_fast.c), built with the package when a compiler is there
    from hazardwatch.ingest.jt808 import _fast
except ImportError:  # pragma: no cover - a build without a compiler
    _fast = None  # type: ignore[assignment]
# HW_JT808_C=0 runs the Python decoder (to compare, or to rule the C code out)
USE_C = _fast is not None and os.environ.get("HW_JT808_C", "1") != "0"
# the 0x8001 frame built in C (session._reply), or None: built in Python
c_reply: Callable[[bytes, int, int, int, int, int], bytes] | None = (
    _fast.reply if USE_C else None)


# latitudes and longitudes below this many millionths of a degree (within 11 m of the equator
# or the prime meridian) are left to the general path: a float that small is written with an
# exponent, which the C encoder does not write (_fast.c)
TINY_MICRODEG = 100


def _record_parts(vehicle_id: str, drill: bool) -> tuple[bytes, bytes]:
    """A vehicle's PositionRecord JSON up to the value of `ts`, and after `mileage_km`: the C
    encoder writes the fields in between (the unit tests compare its records with `encode`)."""
    sample = encode(PositionRecord(vehicle_id, 0, 0.0, 0.0, 0.0, 0.0, 0, alt_m=0.0,
                                   drill=drill))
    head = sample[:sample.index(b'"ts":') + 5]
    tail = sample[sample.index(b',"seq":'):]
    return head, _TAILS.setdefault(tail, tail)  # one copy of each tail for all terminals


_TAILS: dict[bytes, bytes] = {}


class FastPositions:
    """Decodes the 0x0200 frames of one authenticated terminal whose header matches the
    session's (same version, phone and protocol version), to the record's bytes."""

    __slots__ = ("_c", "_flag", "_head", "_hlen", "_ident", "drill", "offset_s", "take",
                 "vehicle_id")

    def __init__(self, header: Header, vehicle_id: str, offset_s: int, drill: bool) -> None:
        self.vehicle_id = vehicle_id
        self.offset_s = offset_s
        self.drill = drill
        if header.version is Version.V2019:
            assert header.protocol_version is not None
            self._hlen = 17
            self._head = _HEAD_2019
            self._flag = 0x4000
            self._ident = bytes((header.protocol_version,)) + bytes.fromhex(header.phone)
        else:
            self._hlen = 12
            self._head = _HEAD_2013
            self._flag = 0
            self._ident = bytes.fromhex(header.phone)
        self._c: _fast.Positions | None = None
        if USE_C:
            head, tail = _record_parts(vehicle_id, drill)
            self._c = _fast.Positions(self._hlen, self._flag, self._ident, offset_s,
                                      _ALARM_ITEMS, head, tail)
        # `take`: the C decoder's method, or this object's Python one (a reference cycle,
        # collected by the young collections)
        self.take: Callable[[bytes, int], tuple[int, int, bytes, bytes] | None] = (
            self.take_py if self._c is None else self._c.take)

    @classmethod
    def of(cls, header: Header, vehicle_id: str, offset_s: int, drill: bool
           ) -> FastPositions | None:
        """For a terminal whose header the fast path can recognise byte for byte: a BCD
        phone, no sub-package, the 2019 flag matching the version (else None)."""
        if not header.phone_bcd or header.is_subpackage or header.encryption:
            return None
        if header.flag_2019 != (header.version is Version.V2019):
            return None  # a 2013 header with bit 14 set (tolerated by the general path)
        try:
            return cls(header, vehicle_id, offset_s, drill)
        except ValueError:  # beyond the C decoder's limits (a 500-character vehicle id)
            return None

    def take_py(self, raw: bytes, now_ms: int) -> tuple[int, int, bytes, bytes] | None:
        """`decode` of a raw frame (between flags, escaped): one without escapes is checked
        in place (the XOR of header, body and check code is 0), others through `verify`;
        a frame that fails goes to the general path, which rejects it with its reason."""
        if b"\x7d" in raw:
            try:
                data = verify(raw)
            except FrameError:
                return None
            return self.decode(data, len(data), now_ms)
        if xor(raw):
            return None
        return self.decode(raw, len(raw) - 1, now_ms)

    def decode(self, data: bytes, n: int, now_ms: int) -> tuple[int, int, bytes, bytes] | None:
        """(serial, event time, body, record) of a plain valid 0x0200 frame (its header and
        body: `data[:n]`, verified); None when the general path must decode it."""
        hlen = self._hlen
        if n < hlen + BASIC:
            return None
        (mid, attrs, ident, serial, alarm, status, lat_u, lon_u, alt, speed, heading,
         when) = self._head.unpack_from(data)
        if mid != 0x0200 or attrs & 0xFC00 != self._flag or n != hlen + (attrs & 0x3FF):
            return None
        if ident != self._ident:
            return None
        if alarm & CLEAR_ON_ACK or not status & STATUS_LOCATED or heading > 359:
            return None
        ts = bcd_time_ms(when, self.offset_s)
        if ts is None or ts > now_ms + CLOCK_TOLERANCE_MS or ts < now_ms - MAX_AGE_MS:
            return None
        lat = -(lat_u / 1e6) if status & STATUS_SOUTH else lat_u / 1e6
        lon = -(lon_u / 1e6) if status & STATUS_WEST else lon_u / 1e6
        if abs(lat) > 90 or abs(lon) > 180:
            return None
        if 0 < lat_u < TINY_MICRODEG or 0 < lon_u < TINY_MICRODEG:
            return None  # written in exponent form (1e-06): the general path encodes it
        mileage = None
        pos = hlen + BASIC
        while pos + 2 <= n:  # items: 0x01 mileage (the last well-formed one, as decode_items)
            item, size = data[pos], data[pos + 1]
            end = pos + 2 + size
            if end > n:
                break
            if item == 0x01:
                if size == 4:
                    mileage = round(_U32.unpack_from(data, pos + 2)[0] * 0.1, 6)
            elif item in _ALARM_ITEMS:  # the general path makes its video events
                return None
            pos = end
        record = PositionRecord(self.vehicle_id, ts, lat, lon, speed / 10, float(heading),
                                now_ms, alt_m=float(alt), alarm_flags=alarm,
                                status_flags=status, mileage_km=mileage, drill=self.drill)
        return serial, ts, data[hlen:n], encode(record)

