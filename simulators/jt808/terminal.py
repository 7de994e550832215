"""An asyncio JT/T 808 terminal: registers, authenticates, reports and answers the platform."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

from hazardwatch.ingest.jt808.framing import Garbage, Splitter, frame, verify
from hazardwatch.ingest.jt808.header import Header, Message, Version, encode_header, parse
from hazardwatch.ingest.jt808.variants import LAYOUTS, ActiveSafety
from hazardwatch.simulators.jt808 import messages as m


@dataclass
class Received:
    """Platform messages a terminal got, by message id (for tests and drills)."""

    by_id: dict[int, list[Message]] = field(default_factory=dict)

    def add(self, msg: Message) -> None:
        """Keep one."""
        self.by_id.setdefault(msg.header.msg_id, []).append(msg)

    def count(self, msg_id: int) -> int:
        """How many of this id."""
        return len(self.by_id.get(msg_id, []))


class Terminal:
    """One simulated terminal on one TCP connection."""

    def __init__(self, phone: str, terminal_id: str, plate: str,
                 version: Version = Version.V2013, timeout_s: float = 30.0,
                 active_safety: ActiveSafety = ActiveSafety.JSATL) -> None:
        self.phone = phone
        self.active_safety = active_safety  # the provincial layout of 0x1210 (variants.py)
        self.terminal_id = terminal_id
        self.plate = plate
        self.version = version
        self.timeout_s = timeout_s
        self.serial = 0
        self.auth_code: str | None = None
        self.received = Received()
        self._waiting: dict[tuple[int, int], asyncio.Future[Message]] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self.alive = False

    async def connect(self, host: str, port: int) -> None:
        """Open the TCP connection and start reading replies."""
        self._reader, self._writer = await asyncio.open_connection(host, port)
        self.alive = True
        self._task = asyncio.create_task(self._read())

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()

    def next_serial(self) -> int:
        """The next serial of this terminal."""
        self.serial = (self.serial + 1) & 0xFFFF
        return self.serial

    def encode(self, msg_id: int, body: bytes, serial: int | None = None) -> tuple[int, bytes]:
        """A wire frame from this terminal and its serial."""
        s = self.next_serial() if serial is None else serial
        head = encode_header(msg_id, len(body), self.phone, s, self.version)
        return s, frame(head + body)

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are."""
        assert self._writer is not None
        self._writer.write(data)

    async def request(self, msg_id: int, body: bytes, reply_id: int = 0x8001,
                      serial: int | None = None) -> Message:
        """Send one message and wait for the platform's reply to its serial."""
        if not self.alive:
            raise ConnectionResetError("connection closed")
        s, data = self.encode(msg_id, body, serial)
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[(reply_id, s)] = fut
        self.send_raw(data)
        try:
            return await asyncio.wait_for(fut, self.timeout_s)
        finally:
            self._waiting.pop((reply_id, s), None)

    async def _read(self) -> None:
        assert self._reader is not None
        splitter = Splitter()
        try:
            while True:
                data = await self._reader.read(4096)
                if not data:
                    return
                for part in splitter.feed(data):
                    if isinstance(part, Garbage):
                        continue
                    msg = parse(verify(part))
                    self.received.add(msg)
                    self._on(msg)
        except (ConnectionError, OSError):
            return
        finally:  # the connection is gone: nobody will answer
            self.alive = False
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectionResetError("connection closed"))

    def _on(self, msg: Message) -> None:
        h = msg.header
        if h.msg_id == 0x9212:  # answers a 0x1212 by file name, not by serial
            for key, waiting in list(self._waiting.items()):
                if key[0] == 0x9212 and not waiting.done():
                    waiting.set_result(msg)
                    break
        elif h.msg_id in (0x8001, 0x8100) and len(msg.body) >= 2:
            (reply_serial,) = struct.unpack_from(">H", msg.body)
            fut = self._waiting.get((h.msg_id, reply_serial))
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif h.msg_id in (0x8300, 0x8203, 0x9208):  # answer with 0x0001 success
            self.answer(h)

    def answer(self, h: Header, result: int = 0) -> None:
        """0x0001 终端通用应答."""
        _, data = self.encode(0x0001, struct.pack(">HHB", h.serial, h.msg_id, result))
        self.send_raw(data)

    # -- the usual conversation -------------------------------------------------------------

    async def register(self, plate_color: int = 2) -> int:
        """0x0100; the 0x8100 result (the auth code is kept on success)."""
        reply = await self.request(0x0100, m.register_body(self.terminal_id, self.plate,
                                                           plate_color, self.version), 0x8100)
        result = reply.body[2]
        if result == 0:
            self.auth_code = reply.body[3:].decode("ascii")
        return result

    async def authenticate(self, code: str | None = None) -> int:
        """0x0102 with the code from registration; the 0x8001 result."""
        c = code if code is not None else self.auth_code or ""
        reply = await self.request(0x0102, m.auth_body(c, self.version))
        return reply.body[4]

    async def heartbeat(self) -> int:
        """0x0002; the 0x8001 result."""
        return (await self.request(0x0002, b"")).body[4]

    async def location(self, fix: m.SimFix) -> int:
        """0x0200; the 0x8001 result (sent only once Kafka has the record)."""
        return (await self.request(0x0200, m.location_body(fix))).body[4]

    async def batch(self, fixes: list[m.SimFix], blind: bool = True) -> int:
        """0x0704; the 0x8001 result."""
        return (await self.request(0x0704, m.batch_body(fixes, blind))).body[4]

    async def upload_attachments(self, request: Message, files: dict[str, bytes],
                                 chunk: int = 4096,
                                 skip: tuple[int, int] | None = None) -> list[int]:
        """Answer a 0x9208: connect to the attachment server it names and upload the files
        (0x1210, 0x1211, the "01cd" stream, 0x1212); the 0x9212 results, resending what the
        platform asks for. `skip` (file index, offset) leaves one chunk out the first time."""
        b = request.body
        n = b[0]
        host = b[1:1 + n].decode()
        (port,) = struct.unpack_from(">H", b, 1 + n)
        lay = LAYOUTS[self.active_safety]
        tag = b[5 + n:5 + n + lay.tag]
        alarm_no = b[5 + n + lay.tag:37 + n + lay.tag]
        up = Terminal(self.phone, self.terminal_id, self.plate, self.version, self.timeout_s)
        await up.connect(host, port)
        results = []
        try:
            names = list(files)
            listing = b"".join(bytes((len(k.encode()),)) + k.encode()
                               + struct.pack(">I", len(files[k])) for k in names)
            tid = self.terminal_id.encode()[:lay.terminal_id].ljust(lay.terminal_id, b"\0")
            body = ((tid if lay.id_before_tag else b"") + tag + alarm_no
                    + bytes((0, len(names))) + listing)
            assert (await up.request(0x1210, body)).body[4] == 0
            for i, name in enumerate(names):
                data = files[name]
                info = bytes((len(name.encode()),)) + name.encode() + struct.pack(
                    ">BI", 2 if name.endswith(".mp4") else 0, len(data))
                assert (await up.request(0x1211, info)).body[4] == 0
                ranges = [(o, min(chunk, len(data) - o)) for o in range(0, len(data), chunk)]
                while True:
                    for off, ln in ranges:
                        if skip is not None and skip == (i, off):
                            skip = None
                            continue
                        head = m.stream_head(name, off, ln, self.active_safety)
                        up.send_raw(head + data[off:off + ln])
                    reply = await up.request(0x1212, info, reply_id=0x9212)
                    p = 1 + reply.body[0]
                    result, count = reply.body[p + 1], reply.body[p + 2]
                    results.append(result)
                    if result == 0:
                        break
                    ranges = [struct.unpack_from(">II", reply.body, p + 3 + 8 * k)
                              for k in range(count)]
        finally:
            await up.close()
        return results

    async def logout(self) -> int:
        """0x0003; the 0x8001 result."""
        return (await self.request(0x0003, b"")).body[4]
