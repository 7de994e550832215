"""The JT/T 808 header: 2011/2013 (12 bytes) and 2019 (17 bytes), BCD phone, sub-packages."""

from __future__ import annotations

import struct
from enum import StrEnum

import msgspec

from hazardwatch.ingest.jt808.framing import FrameError, FrameReason


class Version(StrEnum):
    """Protocol edition; 2011 and 2013 share a header and differ in some bodies."""

    V2011 = "2011"
    V2013 = "2013"
    V2019 = "2019"


def bcd_digits(data: bytes) -> str | None:
    """The digits of packed BCD bytes, or None if a nibble is not a decimal digit."""
    s = data.hex()
    return s if s.isdigit() else None


def phone_key(phone: str) -> str:
    """The lookup key of a terminal phone / SIM number: its digits without leading zeros."""
    return phone.lstrip("0") or "0"


class Header(msgspec.Struct, frozen=True, gc=False):
    """A decoded header; `phone` is kept as sent (12 or 20 digits, or hex if not BCD)."""

    msg_id: int
    version: Version
    body_len: int
    encryption: int
    phone: str
    serial: int
    protocol_version: int | None = None
    packet_total: int | None = None
    packet_index: int | None = None
    flag_2019: bool = False
    phone_bcd: bool = True

    @property
    def key(self) -> str:
        """The normalised phone: the terminal's lookup key."""
        return phone_key(self.phone)

    @property
    def is_subpackage(self) -> bool:
        """True when the body is one fragment of a larger message."""
        return self.packet_total is not None


class Message(msgspec.Struct, frozen=True, gc=False):
    """A verified frame: its header and its body bytes."""

    header: Header
    body: bytes


_HEAD = struct.Struct(">HH")
_U16 = struct.Struct(">H")
_PACKET = struct.Struct(">HH")


def _sizes(attrs: int, v2019: bool) -> int:
    sub = 4 if attrs & 0x2000 else 0
    return (17 if v2019 else 12) + sub


def parse(data: bytes) -> Message:
    """Split header + body (unescaped, check code removed); raise FrameError(BAD_LENGTH)."""
    n = len(data)
    if n < 12:
        raise FrameError(FrameReason.TOO_SHORT, f"{n} bytes, a header has at least 12")
    msg_id, attrs = _HEAD.unpack_from(data)
    body_len = attrs & 0x3FF
    flag = bool(attrs & 0x4000)
    sub = 4 if attrs & 0x2000 else 0
    # bit 14 says 2019, but some 2013 terminals set it: the total length decides
    if n == (17 if flag else 12) + sub + body_len:
        v2019 = flag
    elif n == (12 if flag else 17) + sub + body_len:
        v2019 = not flag
    else:
        raise FrameError(
            FrameReason.BAD_LENGTH,
            f"body length {body_len} in the attributes, but the frame holds "
            f"{n - _sizes(attrs, flag)} bytes after a "
            f"{'2019' if flag else '2013'} header",
        )
    proto = None
    if v2019:
        proto = data[4]
        phone_bytes = data[5:15]
        pos = 15
    else:
        phone_bytes = data[4:10]
        pos = 10
    phone = phone_bytes.hex()
    bcd = phone.isdigit()
    (serial,) = _U16.unpack_from(data, pos)
    pos += 2
    total = index = None
    if sub:
        total, index = _PACKET.unpack_from(data, pos)
        pos += 4
    header = Header(msg_id, Version.V2019 if v2019 else Version.V2013, body_len,
                    (attrs >> 10) & 0x7, phone, serial, proto, total, index, flag, bcd)
    return Message(header, data[pos:])


def encode_header(msg_id: int, body_len: int, phone: str, serial: int, version: Version,
                  protocol_version: int = 1, packet: tuple[int, int] | None = None) -> bytes:
    """Header bytes for a platform message to a terminal of the given version."""
    attrs = body_len & 0x3FF
    if packet is not None:
        attrs |= 0x2000
    if version is Version.V2019:
        attrs |= 0x4000
        head = struct.pack(">HHB", msg_id, attrs, protocol_version)
        head += bytes.fromhex(phone.rjust(20, "0")[-20:])
    else:
        head = struct.pack(">HH", msg_id, attrs) + bytes.fromhex(phone.rjust(12, "0")[-12:])
    head += struct.pack(">H", serial & 0xFFFF)
    if packet is not None:
        head += struct.pack(">HH", *packet)
    return head
