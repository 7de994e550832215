"""Terminal message bodies other than locations: 0x0001, 0x0100 register, 0x0102 authenticate."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from hazardwatch.ingest.jt808.header import Version


def text(data: bytes) -> str:
    """A fixed-size or trailing string field: GBK, NUL padding removed, never raises."""
    return data.replace(b"\x00", b"").decode("gbk", "replace").strip()


@dataclass(frozen=True, slots=True)
class Register:
    """0x0100 终端注册: where, who made it, its id and the vehicle's plate."""

    version: Version
    province: int
    city: int
    maker: str
    model: str
    terminal_id: str
    plate_color: int
    plate: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"body_version": self.version.value, "province": self.province,
                "city": self.city, "maker": self.maker, "model": self.model,
                "terminal_id": self.terminal_id, "plate_color": self.plate_color,
                "plate": self.plate}


_LAYOUTS = {Version.V2011: (5, 8, 7), Version.V2013: (5, 20, 7), Version.V2019: (11, 30, 30)}


def decode_register(data: bytes, header_version: Version) -> Register:
    """Decode 0x0100; 2011 and 2013 bodies are told apart by size (2013 has ≥ 37 bytes)."""
    if header_version is Version.V2019 and len(data) >= 76:
        version = Version.V2019
    elif len(data) >= 37:
        version = Version.V2013
    elif len(data) >= 25:
        version = Version.V2011
    else:
        raise ValueError(f"0x0100 needs at least 25 bytes, has {len(data)}")
    maker_n, model_n, id_n = _LAYOUTS[version]
    province, city = struct.unpack_from(">HH", data)
    p = 4
    maker = text(data[p:p + maker_n])
    p += maker_n
    model = text(data[p:p + model_n])
    p += model_n
    tid = text(data[p:p + id_n])
    p += id_n
    return Register(version, province, city, maker, model, tid, data[p], text(data[p + 1:]))


@dataclass(frozen=True, slots=True)
class Authenticate:
    """0x0102 终端鉴权: the auth code, and in 2019 the IMEI and software version."""

    code: str
    imei: str | None = None
    software: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"auth_code": self.code, "imei": self.imei, "software_version": self.software}


def decode_authenticate(data: bytes, header_version: Version) -> Authenticate:
    """Decode 0x0102; the 2019 layout is used when its length byte fits the body."""
    if header_version is Version.V2019 and data and data[0] + 36 == len(data):
        n = data[0]
        return Authenticate(text(data[1:1 + n]), text(data[1 + n:16 + n]),
                            text(data[16 + n:36 + n]))
    return Authenticate(text(data))


@dataclass(frozen=True, slots=True)
class TerminalReply:
    """0x0001 终端通用应答 to a platform message."""

    reply_serial: int
    reply_id: int
    result: int

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"reply_serial": self.reply_serial, "reply_id": f"0x{self.reply_id:04x}",
                "result": self.result}


def decode_reply(data: bytes) -> TerminalReply:
    """Decode 0x0001."""
    if len(data) < 5:
        raise ValueError(f"0x0001 needs 5 bytes, has {len(data)}")
    return TerminalReply(*struct.unpack_from(">HHB", data))
