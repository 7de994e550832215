"""One terminal connection: register, authenticate, heartbeat, locations; acks after Kafka."""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol

import msgspec

from hazardwatch.contracts.records import StatusRecord, encode
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.ingest.jt808 import encode as enc
from hazardwatch.ingest.jt808 import records as rec
from hazardwatch.ingest.jt808.bodies import decode_authenticate, decode_register, decode_reply
from hazardwatch.ingest.jt808.fastpath import CLEAR_ON_ACK, FastPositions, c_reply
from hazardwatch.ingest.jt808.framing import FrameError, FrameReason, escape, verify, xor
from hazardwatch.ingest.jt808.header import Header, Message, parse
from hazardwatch.ingest.jt808.location import Fix, decode_batch, decode_fix
from hazardwatch.ingest.jt808.registry import Known
from hazardwatch.ingest.jt808.subpackage import Reassembler

if TYPE_CHECKING:
    from hazardwatch.ingest.jt808.server import Gateway

log = logging.getLogger("hazardwatch.jt808")
RECENT = 64  # remembered (msg id, serial) pairs per session, for retransmissions
# CLEAR_ON_ACK: alarm bits cleared by the platform's confirmation (收到应答后清零; SmallChi
# JT808Alarm.cs)
# 0x8001: own serial (header end), their serial, id, result, then the check code
_REPLY = struct.Struct(">HHHBB")
NO_ACKS: list[Header] = []  # a fast-path position is acknowledged by its serial
POSITIONS = str(KafkaTopic.POSITIONS)
REJECTED = str(KafkaTopic.REJECTED)


def _reply_py(head: bytes, head_xor: int, serial: int, their: int, msg_id: int,
              result: int) -> bytes:
    """The escaped 0x8001 frame after a cached head whose XOR is `head_xor` (the check code
    folded from the 16-bit fields)."""
    v = serial ^ their ^ msg_id
    check = head_xor ^ (v >> 8) ^ (v & 0xFF) ^ result
    return b"\x7e" + escape(head + _REPLY.pack(serial, their, msg_id, result, check)) + b"\x7e"


_reply_frame = c_reply or _reply_py  # the same frame built in C (_fast.c) when built


class Writer(Protocol):
    """The part of asyncio.StreamWriter a session uses."""

    def write(self, data: bytes) -> None:
        """Queue bytes."""

    def close(self) -> None:
        """Close the connection."""

    def is_closing(self) -> bool:
        """True once closing."""

    def pause_reading(self) -> None:
        """Stop reading from the connection (back-pressure)."""

    def resume_reading(self) -> None:
        """Read again."""


class Session:
    """The state of one TCP connection; becomes a terminal's session once authenticated."""

    # slots: tens of thousands are held, and past 30 attributes an instance dict stops
    # sharing its keys (~2 KiB more per connection)
    __slots__ = ("_fast_for", "_fast_header", "_fragments", "_out", "_recent", "_reply_for",
                 "_reply_head", "_reply_xor", "_ring", "_ring_at", "asm", "closed", "fast",
                 "gw", "header", "in_flight", "key", "known", "last_frame", "last_raw",
                 "last_ts", "online_due", "opened", "paused", "peer", "replaced", "sent",
                 "serial", "vehicle_key", "writer")

    def __init__(self, gw: Gateway, writer: Writer, peer: str) -> None:
        self.gw = gw
        self.writer = writer
        self.peer = peer
        self.opened = time.monotonic()
        self.last_frame = self.opened
        self.header: Header | None = None
        self.known: Known | None = None
        self.key: str | None = None
        self.serial = 0
        self.closed = False
        self.replaced = False
        self.asm = Reassembler(gw.budget, gw.cfg.session_reassembly_bytes,
                               gw.cfg.reassembly_timeout_s)
        self._fragments: dict[tuple[int, int], list[Header]] = {}
        # (msg id, serial) → its Pending (with the body's hash): the RECENT last new keys,
        # evicted in the order they came through a ring of keys
        self._recent: dict[tuple[int, int], Pending] = {}
        self._ring: list[tuple[int, int]] = []
        self._ring_at = 0
        self._reply_for: tuple[str, str, int | None] | None = None
        self._reply_head = b""
        self._reply_xor = 0  # the check code of the reply head (XOR of its bytes)
        self.fast: FastPositions | None = None  # plain 0x0200 frames of the authenticated header
        self._fast_header: Header | None = None
        self._fast_for: tuple[str, str, int | None] | None = None
        self.vehicle_key = b""  # the Kafka key of its records, once authenticated
        self._out: list[bytes] = []
        self.last_raw = b""  # the frame being handled, as received (for hw.rejected)
        self.sent: dict[int, str] = {}  # platform serial → what it was (for 0x0001 replies)
        self.in_flight = 0
        self.online_due = False  # drill: online is recorded at the first fix's event time
        self.last_ts: int | None = None  # the latest valid fix's event time
        self.paused = False  # reading paused: too many messages wait for Kafka

    # -- replies -----------------------------------------------------------------------------

    def next_serial(self) -> int:
        """The gateway's own serial for this session."""
        self.serial = (self.serial + 1) & 0xFFFF
        return self.serial

    def send(self, data: bytes) -> None:
        """Queue a frame; the frames queued in one turn of the loop go out in one write."""
        if not self._out:
            self.gw.flush_soon(self)
        self._out.append(data)

    def flush(self) -> None:
        """Write the queued frames unless the connection is gone."""
        out, self._out = self._out, []
        if out and not self.writer.is_closing():
            self.writer.write(b"".join(out) if len(out) > 1 else out[0])

    def reply(self, h: Header, result: enc.Result = enc.Result.OK) -> None:
        """0x8001 to the terminal's message (its header bytes made once per terminal)."""
        head = (h.phone, h.version, h.protocol_version)
        if head != self._reply_for:
            self._reply_head_for(head, h)
        self._reply(h.serial, h.msg_id, result)

    def _reply_head_for(self, head: tuple[str, str, int | None], h: Header) -> None:
        self._reply_for = head
        self._reply_head = enc.general_reply_head(h)
        self._reply_xor = xor(self._reply_head)

    def _reply(self, their: int, msg_id: int, result: enc.Result) -> None:
        """The 0x8001 frame after the cached head: serials, id, result and the check code
        (the XOR of the tail's bytes computed from its 16-bit fields)."""
        self.serial = serial = (self.serial + 1) & 0xFFFF
        self.send(_reply_frame(self._reply_head, self._reply_xor, serial, their, msg_id, result))
        if result is enc.Result.OK:
            self.gw.counters.acked += 1

    def reply_position(self, their: int) -> None:
        """0x8001 OK to a fast-path 0x0200 (the authenticated header's reply head)."""
        head = self._fast_for
        if head != self._reply_for:
            assert head is not None and self._fast_header is not None
            self._reply_head_for(head, self._fast_header)
        self._reply(their, 0x0200, enc.Result.OK)

    # -- input ------------------------------------------------------------------------------

    def on_frame(self, raw: bytes) -> None:
        """One raw frame from the splitter; errors are counted, never raised."""
        self.gw.counters.frames += 1
        self.last_raw = raw
        fast = self.fast
        if fast is not None and not self.online_due:
            got = fast.take(raw, int(self.gw.clock() * 1000))
            if got is not None:
                self.last_frame = time.monotonic()
                self._position(*got)
                return
        try:
            msg = parse(verify(raw))
        except FrameError as exc:
            self.gw.counters.event(exc.reason.value, f"{self.peer}: {exc.detail}")
            return
        self.last_frame = time.monotonic()
        h = msg.header
        if self.header is None or h.phone != self.header.phone:
            self.header = h
            self.fast = None  # made again at the next authentication
        if h.encryption:
            self.gw.counters.event(FrameReason.ENCRYPTED.value, f"{self.peer} 0x{h.msg_id:04x}")
            self.reply(h, enc.Result.UNSUPPORTED)
            return
        if h.is_subpackage:
            self._fragment(msg)
            return
        self._dispatch(msg, [h])

    def _fragment(self, msg: Message) -> None:
        h = msg.header
        first = (h.serial - ((h.packet_index or 1) - 1)) & 0xFFFF
        try:
            whole = self.asm.add(msg, time.monotonic())
        except ValueError as exc:
            self.gw.counters.event("reassembly_refused", f"{self.peer}: {exc}")
            self.reply(h, enc.Result.FAILED)
            return
        parts = self._fragments.setdefault((h.msg_id, first), [])
        if all(p.packet_index != h.packet_index for p in parts):
            parts.append(h)
        if whole is not None:
            self._fragments.pop((h.msg_id, first), None)
            self._dispatch(whole, parts)

    def expire(self, now: float) -> None:
        """Ask for the fragments of timed-out messages again (0x8003), once."""
        for gone in self.asm.expire(now):
            self._fragments.pop((gone.header.msg_id, gone.first_serial), None)
            self.gw.counters.event("reassembly_timeout",
                                   f"{self.peer}: {len(gone.missing)} fragments missing")
            self.send(enc.resend_request(gone.header, self.next_serial(), gone.first_serial,
                                         gone.missing))

    def _dispatch(self, msg: Message, acks: list[Header]) -> None:
        h = msg.header
        mid = h.msg_id
        try:
            if mid == 0x0100:
                self._register(msg)
            elif mid == 0x0102:
                self._authenticate(msg, acks)
            elif mid == 0x0001:
                r = decode_reply(msg.body)
                log.info("终端 %s 应答 0x%04x 流水号 %d 结果 %d", h.phone, r.reply_id,
                         r.reply_serial, r.result)
                self.gw.on_terminal_reply(self, r)
            elif self.known is None:
                self.gw.counters.event("not_authenticated", f"{self.peer} sent 0x{mid:04x}")
                for a in acks:
                    self.reply(a, enc.Result.FAILED)
            elif mid == 0x0002:
                for a in acks:
                    self.reply(a)
            elif mid == 0x0003:
                for a in acks:
                    self.reply(a)
                self.close("logout")
            elif mid in (0x0200, 0x0704):
                self._locations(msg, acks)
            else:
                self.gw.counters.event(f"unsupported_0x{mid:04x}", self.peer)
                for a in acks:
                    self.reply(a, enc.Result.UNSUPPORTED)
        except (ValueError, IndexError) as exc:
            self.gw.counters.event(FrameReason.BAD_BODY.value, f"{self.peer} 0x{mid:04x}: {exc}")
            for a in acks:
                self.reply(a, enc.Result.BAD_MESSAGE)

    # -- session messages -------------------------------------------------------------------

    def _register(self, msg: Message) -> None:
        h = msg.header
        body = decode_register(msg.body, h.version)
        result, refusal = self.gw.registry.register(h.phone, body)
        if refusal is not None:
            self.gw.counters.event(refusal.value, f"{self.peer} phone {h.phone} terminal "
                                                  f"{body.terminal_id} plate {body.plate}")
            self.send(enc.register_reply(h, self.next_serial(), result))
            return
        self.gw.counters.event("registered", f"{h.phone}")
        self.send(enc.register_reply(h, self.next_serial(), result,
                                     self.gw.registry.auth_code(h.phone)))

    def _authenticate(self, msg: Message, acks: list[Header]) -> None:
        h = msg.header
        auth = decode_authenticate(msg.body, h.version)
        known, refusal = self.gw.registry.authenticate(h.phone, auth.code)
        if known is None:
            self.gw.counters.event(refusal.value if refusal else "refused",
                                   f"{self.peer} phone {h.phone}")
            for a in acks:
                self.reply(a, enc.Result.FAILED)
            return
        self.known = known
        self.vehicle_key = known.vehicle_id.encode()
        self.key = h.key
        self.fast = FastPositions.of(h, known.vehicle_id, known.utc_offset_s, self.gw.cfg.drill)
        self._fast_header = h
        self._fast_for = (h.phone, h.version, h.protocol_version)
        self.gw.adopt(self)
        if self.gw.cfg.drill:  # a drill plays on the scenario clock, not the wall clock
            self.online_due = True
            log.info("终端 %s (%s) 鉴权成功 (演练), 车辆 %s 首个定位时上线", h.phone, self.peer,
                     known.vehicle_id)
            self._after([], acks)
            return
        now = self.gw.now_ms()
        status = StatusRecord("online", now, now, vehicle_id=known.vehicle_id,
                              drill=self.gw.cfg.drill)
        self.gw.counters.statuses += 1
        log.info("终端 %s (%s) 鉴权成功, 车辆 %s 上线", h.phone, self.peer, known.vehicle_id)
        self._after([(KafkaTopic.DEVICE_STATUS, self.vehicle_key, encode(status))], acks)

    # -- locations --------------------------------------------------------------------------

    def _locations(self, msg: Message, acks: list[Header]) -> None:
        h = msg.header
        known = self.known
        assert known is not None
        gw = self.gw
        counters = gw.counters
        ident = (h.msg_id, h.serial)
        digest = hash(msg.body)  # 64 bits, this process only: enough to tell a retransmission
        seen = self._recent.get(ident)
        if seen is not None and seen.digest == digest:  # a retransmission: not produced again
            counters.duplicates += 1
            self._ack_when(seen, acks)
            return
        now = gw.now_ms()
        origin = rec.Origin(known.vehicle_id, h.phone, now, gw.cfg.client_id, gw.cfg.drill)
        offset = known.utc_offset_s
        fixes: list[Fix]
        if h.msg_id == 0x0200:
            fixes = [decode_fix(msg.body, offset, now, known.active_safety)]
        else:
            batch = decode_batch(msg.body, offset, now, known.active_safety)
            fixes = batch.fixes
            for problem in batch.problems:
                counters.event("bad_batch_entry", f"{h.phone}: {problem}")
        key = self.vehicle_key
        out: list[tuple[str, bytes, bytes]] = []
        first = last = None
        raw = None
        for fix in fixes:
            ts = fix.ts
            if fix.invalid is None and ts is not None:
                if first is None or ts < first:
                    first = ts
                if last is None or ts > last:
                    last = ts
                counters.positions += 1
                out.append((POSITIONS, key, encode(rec.position(fix, origin))))
            else:
                raw = raw or b"\x7e" + self.last_raw + b"\x7e"
                counters.invalid_fixes += 1
                out.append((REJECTED, key, encode(rec.invalid_fix(fix, origin, h.msg_id, raw))))
            if fix.items.alarms:
                self._alarms(fix, origin, out)
        if first is not None and last is not None:
            if self.online_due:  # drill: online at the first fix's event time, before it
                self.online_due = False
                status = StatusRecord("online", first, now, vehicle_id=known.vehicle_id,
                                      drill=True)
                counters.statuses += 1
                out.insert(0, (KafkaTopic.DEVICE_STATUS, key, encode(status)))
            if self.last_ts is None or last > self.last_ts:
                self.last_ts = last
        pending = self._after(out, acks)
        bits = fixes[0].alarm_flags & CLEAR_ON_ACK if h.msg_id == 0x0200 else 0
        if bits:  # the platform has recorded them: the terminal may clear these bits
            pending.then(lambda: self._confirm(h, bits))
        self._remember(ident, digest, pending)

    def _position(self, serial: int, ts: int, body: bytes, record: bytes) -> None:
        """A fast-path 0x0200 (see fastpath): what _locations does for one valid plain fix."""
        counters = self.gw.counters
        ident = (0x0200, serial)
        digest = hash(body)
        recent = self._recent
        seen = recent.get(ident)
        if seen is not None and seen.digest == digest:  # a retransmission: not produced again
            counters.duplicates += 1
            seen.then(partial(self.reply_position, serial))
            return
        counters.positions += 1
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        pending = Pending(self, 1, NO_ACKS, serial)
        self.in_flight += 1
        self.gw.sink.produce(POSITIONS, self.vehicle_key, record, pending.one)
        if self.in_flight >= self.gw.cfg.in_flight_per_session and not self.paused:
            self.paused = True  # back-pressure on this terminal
            self.writer.pause_reading()
        if ident not in recent:
            self._evict(ident)
        pending.digest = digest
        recent[ident] = pending

    def _remember(self, ident: tuple[int, int], digest: int, pending: Pending) -> None:
        """Keep a message for retransmissions (a known key keeps its place, as in a dict)."""
        if ident not in self._recent:
            self._evict(ident)
        pending.digest = digest
        self._recent[ident] = pending

    def _evict(self, ident: tuple[int, int]) -> None:
        """A new key takes the ring's oldest slot; the key there is forgotten."""
        ring = self._ring
        at = self._ring_at
        if len(ring) < RECENT:
            ring.append(ident)
        else:
            self._recent.pop(ring[at], None)
            ring[at] = ident
        self._ring_at = (at + 1) % RECENT

    def _alarms(self, fix: Fix, origin: rec.Origin, out: list[tuple[str, bytes, bytes]]) -> None:
        """苏标 alarm starts of a fix as video events (their attachments asked for, once per
        alarm: a TPMS item's tyre events share its tag)."""
        for alarm in fix.items.alarms:
            events = rec.video_events(alarm, fix, origin)
            if events:
                media = self.gw.attachment_media(self, alarm)
                for event in events:
                    if media:
                        event = msgspec.structs.replace(event, media=media)
                    self.gw.counters.video_events += 1
                    out.append((KafkaTopic.VIDEO_EVENTS, self.vehicle_key, encode(event)))

    def _after(self, out: list[tuple[str, bytes, bytes]], acks: list[Header]) -> Pending:
        """Produce the records; acknowledge the messages once Kafka has all of them."""
        pending = Pending(self, len(out), acks)
        self.in_flight += 1
        if not out:
            pending.finish()
        produce = self.gw.sink.produce
        one = pending.one
        for topic, key, value in out:
            produce(topic, key, value, one)
        if self.in_flight >= self.gw.cfg.in_flight_per_session and not self.paused:
            self.paused = True  # back-pressure on this terminal
            self.writer.pause_reading()
        return pending

    def finished(self, acks: list[Header], serial: int = -1) -> None:
        """Kafka has every record of a message: acknowledge it (its headers, or a fast-path
        position's serial), let the reader go on."""
        self.in_flight -= 1
        if self.paused and self.in_flight < self.gw.cfg.in_flight_per_session:
            self.paused = False
            if not self.closed:
                self.writer.resume_reading()
        for a in acks:
            self.reply(a)
        if serial >= 0:
            self.reply_position(serial)

    def note(self, serial: int, what: str) -> None:
        """Remember what a platform message was, to log the terminal's 0x0001 to it."""
        self.sent[serial] = what
        if len(self.sent) > RECENT:
            del self.sent[next(iter(self.sent))]

    def _confirm(self, h: Header, bits: int) -> None:
        serial = self.next_serial()
        self.note(serial, f"报警确认 0x{bits:08x}")
        self.send(enc.confirm_alarm(h, serial, h.serial, bits))

    def _ack_when(self, pending: Pending, acks: list[Header]) -> None:
        def ack() -> None:
            for a in acks:
                self.reply(a)

        pending.then(ack)

    # -- end --------------------------------------------------------------------------------

    def close(self, why: str) -> None:
        """Close the connection (the reader then ends the session)."""
        if not self.closed:
            self.closed = True
            self.gw.counters.event(f"closed_{why}", self.peer)
            self.flush()
            self.writer.close()


class Pending:
    """One terminal message whose records Kafka has not all confirmed yet."""

    __slots__ = ("_then", "acks", "digest", "done", "left", "serial", "session")

    def __init__(self, session: Session, left: int, acks: list[Header], serial: int = -1
                 ) -> None:
        self.session = session
        self.left = left
        self.acks = acks
        self.serial = serial  # a fast-path 0x0200's serial (acknowledged without a Header)
        self.digest = 0  # the body's hash, once remembered for retransmissions
        self.done = False
        self._then: list[Callable[[], None]] | None = None

    def one(self) -> None:
        """Kafka confirmed one record."""
        self.left -= 1
        if self.left == 0:
            self.finish()

    def finish(self) -> None:
        """Every record confirmed: acknowledge, then run what waited for it."""
        self.done = True
        self.session.finished(self.acks, self.serial)
        if self._then is not None:
            for f in self._then:
                f()

    def then(self, f: Callable[[], None]) -> None:
        """Run `f` once confirmed (at once if it already is)."""
        if self.done:
            f()
        elif self._then is None:
            self._then = [f]
        else:
            self._then.append(f)


OnClose = Callable[[Session], None]
