"""The 苏标 attachment server (and its provincial variants): its own TCP port, frames and "01cd"
file streams on one connection; files go to the FileStore, the terminal is told what to send
again (0x9212)."""

from __future__ import annotations

import asyncio
import logging
import struct

from hazardwatch.ingest.jt808 import encode as enc
from hazardwatch.ingest.jt808.attachments import (
    STREAM_HEAD,
    STREAM_MAGIC,
    AlarmFiles,
    FileStore,
    Upload,
    decode_1210,
    decode_file_info,
    decode_stream_head,
    stream_head_len,
)
from hazardwatch.ingest.jt808.counters import GatewayCounters
from hazardwatch.ingest.jt808.framing import FrameError, verify
from hazardwatch.ingest.jt808.header import Header, parse
from hazardwatch.ingest.jt808.registry import Registry
from hazardwatch.ingest.jt808.variants import ActiveSafety

log = logging.getLogger("hazardwatch.jt808.attachments")
MAX_CHUNK = 1 << 20  # largest stream packet accepted


class _Conn:
    def __init__(self, srv: AttachmentServer, writer: asyncio.StreamWriter, peer: str) -> None:
        self.srv = srv
        self.writer = writer
        self.peer = peer
        self.serial = 0
        self.alarm: AlarmFiles | None = None
        self.uploads: dict[str, Upload] = {}
        self.variant = ActiveSafety.JSATL  # the terminal's, from the catalog at its 0x1210

    def reply(self, h: Header, result: enc.Result = enc.Result.OK) -> None:
        self.serial = (self.serial + 1) & 0xFFFF
        self.writer.write(enc.general_reply(h, self.serial, result))

    def on_stream(self, head: bytes, data: bytes) -> None:
        name, offset, length = decode_stream_head(head, self.variant)
        up = self.uploads.get(name)
        if up is None or offset + length > up.size:
            self.srv.counters.event("attachment_stream_refused",
                                    f"{self.peer}: {name} @{offset}+{length}")
            return
        up.write(offset, data)

    def on_frame(self, raw: bytes) -> None:
        try:
            msg = parse(verify(raw))
        except FrameError as exc:
            self.srv.counters.event(f"attachment_{exc.reason.value}", f"{self.peer}: {exc.detail}")
            return
        h, body = msg.header, msg.body
        try:
            if h.msg_id == 0x1210:
                known = self.srv.registry.find(h.phone)
                self.variant = known.active_safety if known else ActiveSafety.JSATL
                files = decode_1210(body, self.variant)
                want = self.srv.registry.alarm_number(h.phone, files.tag)
                if files.alarm_no != want:
                    self.srv.counters.event("attachment_unknown_alarm",
                                            f"{self.peer} {h.phone}: {files.alarm_no}")
                    self.reply(h, enc.Result.FAILED)
                    return
                self.alarm = files
                self.reply(h)
            elif h.msg_id == 0x1211:
                name, ftype, size = decode_file_info(body)
                if self.alarm is None:
                    self.reply(h, enc.Result.FAILED)
                    return
                self.uploads[name] = self.srv.store.begin(self.alarm.alarm_no, name, ftype, size)
                self.reply(h)
            elif h.msg_id == 0x1212:
                self._finished(h, body)
            else:
                self.reply(h)
        except (ValueError, IndexError, struct.error) as exc:
            self.srv.counters.event("attachment_refused", f"{self.peer} 0x{h.msg_id:04x}: {exc}")
            self.reply(h, enc.Result.FAILED)

    def _finished(self, h: Header, body: bytes) -> None:
        name, ftype, _size = decode_file_info(body)
        up = self.uploads.get(name)
        self.serial = (self.serial + 1) & 0xFFFF
        if up is None or self.alarm is None:
            self.writer.write(enc.upload_result(h, self.serial, name, ftype, [(0, _size)]))
            return
        missing = up.missing()
        if missing:
            self.srv.counters.event("attachment_resend_requested", f"{name}: {missing[:4]}")
            self.writer.write(enc.upload_result(h, self.serial, name, ftype, missing[:255]))
            return
        entry = self.srv.store.finish(self.alarm.alarm_no, up)
        del self.uploads[name]
        self.srv.counters.event("attachment_stored", f"{self.alarm.alarm_no}/{entry['file']}")
        log.info("收到终端 %s 报警附件 %s (%s 字节, sha256 %s)", h.phone, name, entry["size"],
                 entry["sha256"])
        self.writer.write(enc.upload_result(h, self.serial, name, ftype, []))


class AttachmentServer:
    """Accepts terminals' attachment connections (after a 0x9208) on its own port."""

    def __init__(self, host: str, port: int, registry: Registry, store: FileStore,
                 counters: GatewayCounters, idle_s: float = 120.0) -> None:
        self.host, self.port_wanted = host, port
        self.registry, self.store, self.counters = registry, store, counters
        self.idle_s = idle_s
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        """Bind and accept."""
        self.server = await asyncio.start_server(self._serve, self.host, self.port_wanted)
        log.info("jt808 attachment server listening on %s:%d", self.host, self.port)

    @property
    def port(self) -> int:
        """The bound port."""
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def close(self) -> None:
        """Stop accepting."""
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        c = _Conn(self, writer, str(writer.get_extra_info("peername")))
        buf = bytearray()
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), self.idle_s)
                if not data:
                    break
                buf += data
                self._consume(c, buf)
                if len(buf) > MAX_CHUNK + STREAM_HEAD + 4096:
                    self.counters.event("attachment_buffer_overflow", c.peer)
                    buf.clear()
        except (TimeoutError, ConnectionError, OSError):
            pass
        finally:
            for up in c.uploads.values():
                up.part.unlink(missing_ok=True)
            writer.close()

    def _consume(self, c: _Conn, buf: bytearray) -> None:
        while buf:
            if buf[:4] == STREAM_MAGIC:
                head = stream_head_len(buf, c.variant)
                if head is None:
                    return
                (length,) = struct.unpack_from(">I", buf, head - 4)
                if length > MAX_CHUNK:
                    self.counters.event("attachment_chunk_too_large", f"{c.peer}: {length}")
                    del buf[:4]
                    continue
                if len(buf) < head + length:
                    return
                c.on_stream(bytes(buf[:head]), bytes(buf[head:head + length]))
                del buf[:head + length]
            elif buf[0] == 0x7E:
                if buf[1:5] == STREAM_MAGIC:  # the closing flag of the last frame
                    del buf[:1]
                    continue
                end = buf.find(b"\x7e", 1)
                if end < 0:
                    if len(buf) > 8192:
                        self.counters.event("attachment_too_long", c.peer)
                        buf.clear()
                    return
                raw = bytes(buf[1:end])
                del buf[:end]  # the closing flag may open the next frame
                if raw:
                    c.on_frame(raw)
            else:
                if len(buf) < 4 and STREAM_MAGIC.startswith(buf):
                    return  # a read ended inside the magic: wait for the rest
                nxt = [i for i in (buf.find(b"\x7e"), buf.find(STREAM_MAGIC)) if i > 0]
                self.counters.event("attachment_garbage", c.peer)
                if not nxt:  # keep a tail that may be the start of the next magic
                    keep = next((k for k in (3, 2, 1) if buf.endswith(STREAM_MAGIC[:k])), 0)
                    del buf[:len(buf) - keep]
                    return
                del buf[:min(nxt)]
