"""Platform messages to a terminal: 0x8001, 0x8100, 0x8003, 0x8300, 0x8203, 0x9208, 0x9212."""

from __future__ import annotations

import struct
from enum import IntEnum

from hazardwatch.ingest.jt808.framing import frame
from hazardwatch.ingest.jt808.header import Header, Version, encode_header


class Result(IntEnum):
    """0x8001 results."""

    OK = 0
    FAILED = 1
    BAD_MESSAGE = 2
    UNSUPPORTED = 3
    ALARM_CONFIRMED = 4


class RegisterResult(IntEnum):
    """0x8100 results."""

    OK = 0
    VEHICLE_TAKEN = 1
    NO_VEHICLE = 2
    TERMINAL_TAKEN = 3
    NO_TERMINAL = 4


def message(msg_id: int, body: bytes, to: Header, serial: int) -> bytes:
    """A complete wire frame for the terminal `to` (its phone and version)."""
    head = encode_header(msg_id, len(body), to.phone, serial, to.version,
                         to.protocol_version if to.protocol_version is not None else 1)
    return frame(head + body)


def general_reply(to: Header, serial: int, result: Result = Result.OK) -> bytes:
    """0x8001 echoing the terminal's serial and message id."""
    return message(0x8001, struct.pack(">HHB", to.serial, to.msg_id, result), to, serial)


def general_reply_head(to: Header) -> bytes:
    """The bytes of an 0x8001 to `to` before the platform serial (they are the same for every
    reply to one terminal): `head + serial + body` is `general_reply`'s frame content."""
    return encode_header(0x8001, 5, to.phone, 0, to.version,
                         to.protocol_version if to.protocol_version is not None else 1)[:-2]


def register_reply(to: Header, serial: int, result: RegisterResult, auth: str = "") -> bytes:
    """0x8100; the auth code only on success."""
    body = struct.pack(">HB", to.serial, result)
    if result is RegisterResult.OK:
        body += auth.encode("ascii")
    return message(0x8100, body, to, serial)


def resend_request(to: Header, serial: int, first_serial: int, missing: list[int]) -> bytes:
    """0x8003 补传分包请求: the first fragment's serial and the missing fragment indexes."""
    count = struct.pack(">H" if to.version is Version.V2019 else ">B", len(missing))
    body = struct.pack(">H", first_serial) + count
    body += b"".join(struct.pack(">H", i) for i in missing)
    return message(0x8003, body, to, serial)


def text_message(to: Header, serial: int, text: str, flags: int = 0x0C,
                 text_type: int = 1) -> bytes:
    """0x8300 文本信息下发: default flags display + TTS; 2019 adds the type (1 通知, 2 服务)."""
    body = bytes((flags,))
    if to.version is Version.V2019:
        body += bytes((text_type,))
    body += text.encode("gbk", "replace")
    return message(0x8300, body, to, serial)


def confirm_alarm(to: Header, serial: int, alarm_serial: int, bits: int) -> bytes:
    """0x8203 人工确认报警消息: alarm serial (0 = all) and the alarm bits confirmed."""
    return message(0x8203, struct.pack(">HI", alarm_serial, bits), to, serial)


def attachment_request(to: Header, serial: int, host: str, tcp_port: int, udp_port: int,
                       tag: bytes, alarm_no: str) -> bytes:
    """0x9208 报警附件上传指令: where to upload, the alarm tag as the terminal sent it (苏标 16
    bytes, longer in some provinces) and a 32-byte number."""
    ip = host.encode("ascii")
    body = bytes((len(ip),)) + ip + struct.pack(">HH", tcp_port, udp_port) + tag
    body += alarm_no.encode("ascii")[:32].ljust(32, b"\x00") + bytes(16)
    return message(0x9208, body, to, serial)


def upload_result(to: Header, serial: int, name: str, file_type: int,
                  missing: list[tuple[int, int]]) -> bytes:
    """0x9212 文件上传完成消息应答: 0 complete, 1 with the (offset, length) ranges to resend."""
    n = name.encode("gbk", "replace")
    body = bytes((len(n),)) + n + bytes((file_type, 1 if missing else 0, len(missing)))
    body += b"".join(struct.pack(">II", o, ln) for o, ln in missing)
    return message(0x9212, body, to, serial)
