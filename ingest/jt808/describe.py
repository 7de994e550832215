"""The pure core of `hazardwatch jt808 decode`: hex text in, one JSON-ready dict per frame."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from hazardwatch.ingest.jt808 import header as hdr
from hazardwatch.ingest.jt808.bcdtime import GMT8_S
from hazardwatch.ingest.jt808.bodies import (
    decode_authenticate,
    decode_register,
    decode_reply,
)
from hazardwatch.ingest.jt808.framing import FrameError, FrameReason, Garbage, Splitter, verify
from hazardwatch.ingest.jt808.location import decode_batch, decode_fix
from hazardwatch.ingest.jt808.subpackage import Reassembler
from hazardwatch.ingest.jt808.variants import ActiveSafety

NAMES = {
    0x0001: "终端通用应答", 0x0002: "终端心跳", 0x0003: "终端注销", 0x0100: "终端注册",
    0x0102: "终端鉴权", 0x0200: "位置信息汇报", 0x0704: "定位数据批量上传",
    0x8001: "平台通用应答", 0x8100: "终端注册应答", 0x8003: "补传分包请求",
    0x8300: "文本信息下发", 0x8203: "人工确认报警消息", 0x9208: "报警附件上传指令",
    0x1210: "报警附件信息消息", 0x1211: "文件信息上传", 0x1212: "文件上传完成消息",
    0x9212: "文件上传完成消息应答",
}


def body_fields(msg: hdr.Message, offset_s: int = GMT8_S,
                variant: ActiveSafety = ActiveSafety.JSATL) -> dict[str, Any]:
    """The decoded body of the messages the gateway understands; raise ValueError if bad."""
    h, body = msg.header, msg.body
    if h.msg_id == 0x0200:
        fix = decode_fix(body, offset_s, variant=variant)
        return {"positions": [fix.as_dict()]}
    if h.msg_id == 0x0704:
        batch = decode_batch(body, offset_s, variant=variant)
        out: dict[str, Any] = {"batch_type": "blind_area" if batch.backfill else "normal",
                               "positions": [f.as_dict() for f in batch.fixes]}
        if batch.problems:
            out["problems"] = batch.problems
        return out
    if h.msg_id == 0x0100:
        return {"register": decode_register(body, h.version).as_dict()}
    if h.msg_id == 0x0102:
        return {"authenticate": decode_authenticate(body, h.version).as_dict()}
    if h.msg_id == 0x0001:
        return {"reply": decode_reply(body).as_dict()}
    if h.msg_id == 0x8001 and len(body) >= 5:
        s, i, r = struct.unpack_from(">HHB", body)
        return {"reply": {"reply_serial": s, "reply_id": f"0x{i:04x}", "result": r}}
    if h.msg_id == 0x8100 and len(body) >= 3:
        s, r = struct.unpack_from(">HB", body)
        return {"register_reply": {"reply_serial": s, "result": r,
                                   "auth_code": body[3:].decode("ascii", "replace")}}
    if h.msg_id in (0x0002, 0x0003):
        return {}
    return {"body_hex": body.hex()}


def header_fields(h: hdr.Header) -> dict[str, Any]:
    """The header as printed by the tool."""
    out: dict[str, Any] = {"msg_id": f"0x{h.msg_id:04x}", "name": NAMES.get(h.msg_id, ""),
                           "version": h.version.value, "phone": h.phone, "phone_key": h.key,
                           "serial": h.serial, "body_len": h.body_len}
    if h.protocol_version is not None:
        out["protocol_version"] = h.protocol_version
    if h.flag_2019 and h.version is not hdr.Version.V2019:
        out["note"] = "2019 flag set on a 2013 header (tolerated)"
    if not h.phone_bcd:
        out["phone_bcd"] = False
    if h.encryption:
        out["encryption"] = h.encryption
    if h.is_subpackage:
        out["packet_total"] = h.packet_total
        out["packet_index"] = h.packet_index
    return out


def describe_raw(raw: bytes, asm: Reassembler | None = None,
                 offset_s: int = GMT8_S,
                 variant: ActiveSafety = ActiveSafety.JSATL) -> list[dict[str, Any]]:
    """One raw frame (between flags, escaped) → its description, or a rejection."""
    try:
        msg = hdr.parse(verify(raw))
    except FrameError as exc:
        return [{"rejected": exc.reason.value, "detail": exc.detail}]
    out = header_fields(msg.header)
    if msg.header.encryption:
        return [{**out, "rejected": FrameReason.ENCRYPTED.value,
                 "detail": f"RSA-encrypted body (encryption bits {msg.header.encryption})"}]
    if msg.header.is_subpackage:
        out["body_hex"] = msg.body.hex()
        results = [out]
        if asm is not None:
            try:
                whole = asm.add(msg, 0.0)
            except ValueError as exc:
                out["problem"] = str(exc)
                whole = None
            if whole is not None:
                results.extend(_whole(whole, offset_s, variant, reassembled=True))
        return results
    return _whole(msg, offset_s, variant)


def _whole(msg: hdr.Message, offset_s: int, variant: ActiveSafety,
           reassembled: bool = False) -> list[dict[str, Any]]:
    out = header_fields(msg.header)
    if reassembled:
        out["reassembled"] = True
    try:
        out.update(body_fields(msg, offset_s, variant))
    except (ValueError, struct.error, IndexError) as exc:
        return [{**out, "rejected": FrameReason.BAD_BODY.value, "detail": str(exc)}]
    return [out]


def describe_line(line: str, asm: Reassembler | None = None,
                  offset_s: int = GMT8_S,
                  variant: ActiveSafety = ActiveSafety.JSATL) -> Iterator[dict[str, Any]]:
    """A text line of hex (spaces allowed, flags optional; several frames allowed)."""
    text = "".join(line.split())
    if not text or text.startswith("#"):
        return
    try:
        data = bytes.fromhex(text)
    except ValueError:
        yield {"rejected": FrameReason.NOT_HEX.value, "detail": f"not hex: {text[:40]!r}"}
        return
    if b"\x7e" not in data:
        yield from describe_raw(data, asm, offset_s, variant)
        return
    if data[0] != 0x7E:  # a missing opening or closing flag is implied
        data = b"\x7e" + data
    if data[-1] != 0x7E:
        data += b"\x7e"
    parts = Splitter().feed(data)
    for part in parts:
        if isinstance(part, Garbage):
            yield {"rejected": part.reason.value,
                   "detail": f"{part.size} bytes outside a frame"}
        else:
            yield from describe_raw(part, asm, offset_s, variant)
