"""The JT/T 808 gateway process: asyncio TCP server, one session per terminal, idle sweeps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from hazardwatch.contracts.records import MediaRecord, StatusRecord, encode
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.ingest.jt808 import encode as enc
from hazardwatch.ingest.jt808.active_safety import SafetyAlarm
from hazardwatch.ingest.jt808.attachment_server import AttachmentServer
from hazardwatch.ingest.jt808.bodies import TerminalReply
from hazardwatch.ingest.jt808.counters import GatewayCounters
from hazardwatch.ingest.jt808.framing import Garbage, Splitter
from hazardwatch.ingest.jt808.kafka import KafkaSink
from hazardwatch.ingest.jt808.registry import Registry
from hazardwatch.ingest.jt808.session import Session
from hazardwatch.ingest.jt808.subpackage import Budget

log = logging.getLogger("hazardwatch.jt808")


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    """Everything the gateway needs; built from CLI options and the environment."""

    host: str = "127.0.0.1"
    port: int = 6808
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    client_id: str = "hw-jt808-1"
    heartbeat_s: float = 60.0  # the terminals' heartbeat interval (parameter 0x0001)
    idle_heartbeats: float = 3.0  # closed after this many intervals without a frame
    auth_timeout_s: float = 60.0  # a connection must authenticate within this
    reassembly_timeout_s: float = 30.0
    session_reassembly_bytes: int = 1 << 20
    process_reassembly_bytes: int = 64 << 20
    in_flight_per_session: int = 256
    max_connections: int = 50_000
    read_size: int = 16384
    drill: bool = False
    reuse_port: bool = False
    log_interval_s: float = 30.0
    sweep_interval_s: float = 1.0
    attachment_host: str = "127.0.0.1"  # told to terminals in 0x9208
    attachment_port: int | None = None  # None: no attachment server, no 0x9208
    files_url: str = "http://127.0.0.1:6809"  # where the attachments are served (evidence)


class Gateway:
    """Accepts terminals, keeps one session per terminal and moves their data to Kafka."""

    def __init__(self, cfg: GatewayConfig, registry: Registry, sink: KafkaSink,
                 clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.registry = registry
        self.sink = sink
        self.clock = clock
        self.counters = GatewayCounters()
        self.budget = Budget(cfg.process_reassembly_bytes)
        self.open: set[Session] = set()
        self.sessions: dict[str, Session] = {}
        self.by_vehicle: dict[str, Session] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.attachments: AttachmentServer | None = None
        self.server: asyncio.Server | None = None
        self._stop = asyncio.Event()
        self._offline: set[asyncio.Task[None]] = set()
        self._dirty: list[Session] = []

    def now_ms(self) -> int:
        """Wall-clock epoch ms."""
        return int(self.clock() * 1000)

    # -- hooks used by sessions -------------------------------------------------------------

    def adopt(self, s: Session) -> None:
        """`s` authenticated: it becomes its terminal's session; an older one is closed."""
        assert s.key is not None
        old = self.sessions.get(s.key)
        if old is not None and old is not s:
            old.replaced = True
            old.close("replaced")
        self.sessions[s.key] = s
        if s.known is not None:
            self.by_vehicle[s.known.vehicle_id] = s

    def flush_soon(self, s: Session) -> None:
        """Write `s`'s queued frames at the end of this turn of the loop (with the others')."""
        if not self._dirty:
            assert self.loop is not None
            self.loop.call_soon(self._flush)
        self._dirty.append(s)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for s in dirty:
            s.flush()

    def on_terminal_reply(self, s: Session, reply: TerminalReply) -> None:
        """A terminal answered a platform message: log it with what it answers."""
        what = s.sent.pop(reply.reply_serial, None)
        if what is None:
            return
        self.counters.event(f"terminal_reply_0x{reply.reply_id:04x}_{reply.result}", s.peer)
        log.info("终端 %s 应答平台消息 0x%04x (流水号 %d, %s): 结果 %d", s.key, reply.reply_id,
                 reply.reply_serial, what, reply.result)

    def deliver_threadsafe(self, vehicle_id: str, text: str, warning_id: str) -> None:
        """From the warning feed's thread: remind the vehicle's driver if held here."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.remind, vehicle_id, text, warning_id)

    def remind(self, vehicle_id: str, text: str, warning_id: str) -> bool:
        """0x8300 TTS text to the vehicle's terminal if this process holds its session."""
        s = self.by_vehicle.get(vehicle_id)
        if s is None or s.closed or s.header is None:
            return False
        serial = s.next_serial()
        s.note(serial, f"提醒 预警 {warning_id}")
        s.send(enc.text_message(s.header, serial, text))
        self.counters.event("reminder_sent", f"{vehicle_id}: {text}")
        log.info("向车辆 %s 终端 %s 下发提醒 (预警 %s, 流水号 %d): %s", vehicle_id, s.key,
                 warning_id, serial, text)
        return True

    def attachment_media(self, s: Session, alarm: SafetyAlarm) -> list[MediaRecord]:
        """Ask the terminal for an alarm's attachments (0x9208) and give the link where they
        will be served, as the video event's media (the warning's evidence)."""
        if (self.cfg.attachment_port is None or self.attachments is None
                or alarm.tag.attachments == 0 or s.header is None):
            return []
        alarm_no = self.registry.alarm_number(s.header.phone, alarm.tag.raw)
        serial = s.next_serial()
        s.note(serial, f"报警附件上传指令 {alarm_no}")
        s.send(enc.attachment_request(s.header, serial, self.cfg.attachment_host,
                                      self.attachments.port, 0, alarm.tag.raw, alarm_no))
        self.counters.event("attachment_requested", f"{s.key}: {alarm_no}")
        return [MediaRecord("video", f"{self.cfg.files_url}/jt808/attachments/{alarm_no}/")]

    # -- connections ------------------------------------------------------------------------

    def connection(self) -> Connection:
        """A protocol object for one accepted TCP connection."""
        return Connection(self)

    def _ended(self, s: Session) -> None:
        task = asyncio.ensure_future(self._end(s))
        self._offline.add(task)
        task.add_done_callback(self._offline.discard)

    async def _end(self, s: Session) -> None:
        s.closed = True
        self.open.discard(s)
        self.counters.open_connections = len(self.open)
        s.asm.clear()
        with contextlib.suppress(Exception):
            s.flush()
            s.writer.close()
        owner = s.key is not None and self.sessions.get(s.key) is s
        if owner:
            assert s.key is not None
            del self.sessions[s.key]
            if s.known is not None and self.by_vehicle.get(s.known.vehicle_id) is s:
                del self.by_vehicle[s.known.vehicle_id]
        if s.known is not None and owner and not s.replaced:
            now = self.now_ms()
            ts = now
            if self.cfg.drill:  # scenario clock: offline at the last fix; none if never online,
                if s.last_ts is None or s.online_due or self._stop.is_set():
                    return  # nor when the drill's gateway stops (a platform stop)
                ts = s.last_ts
            status = StatusRecord("offline", ts, now, vehicle_id=s.known.vehicle_id,
                                  drill=self.cfg.drill)
            self.counters.statuses += 1
            log.info("终端 %s 连接断开, 车辆 %s 离线", s.key, s.known.vehicle_id)
            vid = s.known.vehicle_id
            await self.sink.send(KafkaTopic.DEVICE_STATUS, vid.encode(), encode(status))

    async def _sweep(self) -> None:
        """Close idle and never-authenticated connections; expire reassemblies."""
        idle = self.cfg.heartbeat_s * self.cfg.idle_heartbeats
        while not self._stop.is_set():
            await asyncio.sleep(self.cfg.sweep_interval_s)
            now = time.monotonic()
            for s in list(self.open):
                if s.known is None and now - s.opened > self.cfg.auth_timeout_s:
                    s.close("unauthenticated")
                elif now - s.last_frame > idle:
                    s.close("idle")
                else:
                    s.expire(now)

    async def _report(self) -> None:
        while not self._stop.is_set():
            await asyncio.sleep(self.cfg.log_interval_s)
            log.info("jt808: %s", self.counters.summary())

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start accepting."""
        self.loop = asyncio.get_running_loop()
        self.sink.start(self.loop)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.cfg.reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((self.cfg.host, self.cfg.port))
        self.server = await self.loop.create_server(self.connection, sock=sock, backlog=4096)
        log.info("jt808 gateway listening on %s:%d", self.cfg.host, self.port)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        """Ask run() to return (safe from a signal handler via call_soon_threadsafe)."""
        self._stop.set()

    async def run(self) -> None:
        """Serve until stop(); then close connections (offline records) and flush Kafka."""
        if self.server is None:
            await self.start()
        assert self.server is not None
        tasks = [asyncio.create_task(self._sweep()), asyncio.create_task(self._report())]
        try:
            await self._stop.wait()
        finally:
            self.server.close()
            for s in list(self.open):
                s.close("shutdown")
            for t in tasks:
                t.cancel()
            await asyncio.sleep(0.2)
            left = await asyncio.get_running_loop().run_in_executor(None, self.sink.close)
            log.info("jt808 gateway stopped: %s (unflushed %d)", self.counters.summary(), left)


class Connection(asyncio.Protocol):
    """One TCP connection: splits the bytes into frames for its session (no StreamReader, no
    task per connection; back-pressure pauses reading)."""

    __slots__ = ("gw", "session", "splitter")

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.session: Session | None = None
        self.splitter = Splitter()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Accepted: a session, unless the process holds too many connections."""
        transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        gw = self.gw
        peer = str(transport.get_extra_info("peername"))
        if len(gw.open) >= gw.cfg.max_connections:
            gw.counters.event("too_many_connections", peer)
            transport.close()
            return
        s = self.session = Session(gw, transport, peer)
        gw.open.add(s)
        gw.counters.connections += 1
        gw.counters.open_connections = len(gw.open)

    def data_received(self, data: bytes) -> None:
        """Frames to the session, garbage counted."""
        s = self.session
        if s is None or s.closed:
            return
        on_frame = s.on_frame
        for part in self.splitter.feed(data):
            if type(part) is bytes:
                on_frame(part)
            else:
                assert isinstance(part, Garbage)
                self.gw.counters.event(part.reason.value, f"{s.peer}: {part.size} bytes")

    def eof_received(self) -> bool:
        """The terminal closed its side: close ours."""
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Closed (by either side): end the session."""
        s = self.session
        if s is None:
            return
        if exc is not None:
            self.gw.counters.event("connection_error", f"{s.peer}: {exc}")
        self.gw._ended(s)
