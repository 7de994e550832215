"""The gateway over real TCP with a fake Kafka sink: sessions, acks after confirmation, faults."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.jt808.describe import describe_line
from hazardwatch.ingest.jt808.registry import Registry
from hazardwatch.ingest.jt808.server import Gateway, GatewayConfig
from hazardwatch.simulators.jt808.messages import SimFix, dsm_item
from hazardwatch.simulators.jt808.terminal import Terminal

CATALOG = load_catalog("deploy/catalog/demo.yaml")
NOW = int(time.time() * 1000)


class FakeSink:
    """Records what was produced; `hold` keeps confirmations back (Kafka away)."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.tasks: set[asyncio.Future[None]] = set()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        pass

    def produce(self, topic: str, key: bytes, value: bytes, done: Callable[[], None]) -> None:
        async def later() -> None:
            await self.hold.wait()
            self.records.append((topic, key.decode(), json.loads(value)))
            done()

        self.tasks.add(asyncio.ensure_future(later()))

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await self.hold.wait()
        self.records.append((topic, key.decode(), json.loads(value)))

    def close(self, timeout_s: float = 15.0) -> int:
        return 0

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [v for t, _, v in self.records if t == topic]


Scenario = Callable[[Gateway, FakeSink], Awaitable[None]]


def with_gateway(scenario: Scenario, drill: bool = False) -> Callable[[], None]:
    """Run an async scenario against a fresh gateway on a free port, then stop it."""

    def test() -> None:
        async def main() -> None:
            sink = FakeSink()
            cfg = GatewayConfig(port=0, heartbeat_s=0.5, auth_timeout_s=1.0,
                                sweep_interval_s=0.1, reassembly_timeout_s=0.5, drill=drill)
            gw = Gateway(cfg, Registry(CATALOG, b"k" * 32), sink)  # type: ignore[arg-type]
            await gw.start()
            task = asyncio.create_task(gw.run())
            try:
                await asyncio.wait_for(scenario(gw, sink), 20)
            finally:
                gw.stop()
                await task

        asyncio.run(main())

    test.__name__ = scenario.__name__  # not functools.wraps: pytest would see the arguments
    return test


async def terminal(gw: Gateway, phone: str = "013900000001", tid: str = "T0001") -> Terminal:
    t = Terminal(phone, tid, "蒙A·D1234", timeout_s=5)
    await t.connect("127.0.0.1", gw.port)
    return t


@with_gateway
async def test_register_authenticate_report_and_go_offline(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw)
    assert await t.register() == 0
    assert t.auth_code == gw.registry.auth_code("013900000001")
    assert await t.authenticate() == 0
    fix = SimFix(NOW - 5000, 40.81, 111.65, 62.5, 90, 1050, mileage_km=1234.5)
    assert await t.location(fix) == 0
    assert await t.heartbeat() == 0
    pos = sink.on("hw.vehicle.positions")
    assert pos == [{"kind": "position", "vehicle_id": "hz-0001", "ts": fix.ts - fix.ts % 1000,
                    "lat": 40.81, "lon": 111.65, "speed_kmh": 62.5, "heading": 90.0,
                    "received_at": pos[0]["received_at"], "alt_m": 1050.0, "alarm_flags": 0,
                    "status_flags": 3, "mileage_km": 1234.5, "seq": None, "drill": False,
                    "v": 1, "clock_fast_ms": None}]
    assert await t.logout() == 0
    await asyncio.sleep(0.2)
    assert [s["status"] for s in sink.on("hw.device-status")] == ["online", "offline"]


def with_drill_gateway(scenario: Scenario) -> Callable[[], None]:
    """As with_gateway, the gateway started with --drill."""
    return with_gateway(scenario, drill=True)


@with_drill_gateway
async def test_drill_gateway_records_status_on_the_terminals_clock(
        gw: Gateway, sink: FakeSink) -> None:
    """A drill plays hours of scenario time in minutes: online/offline carry the terminal's
    event times (first and last fix), never the wall clock; a stopping gateway adds none."""
    t = await terminal(gw)
    assert await t.register() == 0
    assert await t.authenticate() == 0
    assert sink.on("hw.device-status") == []  # acked at once: online waits for a fix
    old = NOW - 6 * 3600_000
    assert await t.location(SimFix(old, 40.81, 111.65, 60.0, 90)) == 0
    assert await t.location(SimFix(old + 30_000, 40.82, 111.65, 60.0, 90)) == 0
    assert await t.logout() == 0
    await asyncio.sleep(0.2)
    status = sink.on("hw.device-status")
    assert [(s["status"], s["ts"], s["drill"]) for s in status] == [
        ("online", old - old % 1000, True), ("offline", old + 30_000 - old % 1000, True)]
    assert all(p["drill"] for p in sink.on("hw.vehicle.positions"))
    t2 = await terminal(gw, "013900000002", "T0002")  # held when the gateway stops
    assert await t2.register() == 0
    assert await t2.authenticate() == 0
    assert await t2.location(SimFix(old, 40.81, 111.65, 60.0, 90)) == 0
    gw.stop()
    await asyncio.sleep(0.5)
    assert len(sink.on("hw.device-status")) == 3  # its online only


@with_gateway
async def test_no_ack_before_kafka_confirms(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw)
    await t.register()
    await t.authenticate()
    sink.hold.clear()
    pending = asyncio.create_task(t.location(SimFix(NOW, 40.0, 111.0)))
    await asyncio.sleep(0.3)
    assert not pending.done()
    assert t.received.count(0x8001) == 1  # only the authentication's
    sink.hold.set()
    assert await pending == 0
    assert len(sink.on("hw.vehicle.positions")) == 1


@with_gateway
async def test_retransmission_is_acked_but_produced_once(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw)
    await t.register()
    await t.authenticate()
    from hazardwatch.simulators.jt808.messages import location_body
    body = location_body(SimFix(NOW, 40.0, 111.0))
    first = await t.request(0x0200, body, serial=500)
    again = await t.request(0x0200, body, serial=500)
    assert first.body[4] == again.body[4] == 0
    assert len(sink.on("hw.vehicle.positions")) == 1
    assert gw.counters.duplicates == 1


@with_gateway
async def test_unknown_terminal_is_refused_with_result_4_and_counted(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw, phone="013812345678", tid="X1")
    assert await t.register() == 4
    assert t.auth_code is None
    assert await t.authenticate("whatever") == 1
    assert await t.request(0x0200, b"\0" * 28) and gw.counters.events["not_authenticated"] == 1
    assert gw.counters.events["unknown_terminal"] == 2
    assert sink.records == []


@with_gateway
async def test_wrong_terminal_id_and_wrong_auth_code_are_refused(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw, tid="T9999")
    assert await t.register() == 4
    assert await t.authenticate("0123456789abcdef") == 1
    assert gw.counters.events["terminal_id_mismatch"] == 1
    assert gw.counters.events["bad_auth_code"] == 1


@with_gateway
async def test_blind_area_batch_and_dsm_alarm(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw)
    await t.register()
    await t.authenticate()
    old = [SimFix(NOW - 3_600_000 + i * 30_000, 40.0 + i / 1000, 111.0, 50.0) for i in range(5)]
    bad = SimFix(NOW - 3_000_000, 40.0, 111.0, status=0x1)  # not located
    assert await t.batch([*old, bad], blind=True) == 0
    f = SimFix(NOW, 40.5, 111.5, 72.0)
    alarm = SimFix(f.ts, f.lat, f.lon, f.speed_kmh,
                   items=[dsm_item(7, 0x01, 2, f, "T0001", attachments=2)])
    assert await t.location(alarm) == 0
    pos = sink.on("hw.vehicle.positions")
    assert [p["ts"] for p in pos[:5]] == [o.ts - o.ts % 1000 for o in old]
    rejected = sink.on("hw.rejected")
    assert len(rejected) == 1 and "not positioned" in rejected[0]["detail"]
    frame = base64.b64decode(rejected[0]["payload_b64"])
    assert next(iter(describe_line(frame.hex())))["msg_id"] == "0x0704"  # the frame as sent
    (video,) = sink.on("hw.video-events")
    assert video["family"] == "dsm" and video["type"] == "fatigue"
    assert video["terminal_level"] == 2 and video["speed_kmh"] == 72.0
    assert video["vehicle_id"] == "hz-0001" and video["lat"] == 40.5


@with_gateway
async def test_new_connection_replaces_the_old_without_an_offline(
        gw: Gateway, sink: FakeSink) -> None:
    a = await terminal(gw)
    await a.register()
    await a.authenticate()
    b = await terminal(gw)
    b.auth_code = a.auth_code
    assert await b.authenticate() == 0
    await asyncio.sleep(0.2)
    assert gw.sessions["13900000001"] is not None
    assert len(gw.sessions) == 1
    assert [s["status"] for s in sink.on("hw.device-status")] == ["online", "online"]
    assert await b.location(SimFix(NOW, 40.0, 111.0)) == 0


@with_gateway
async def test_idle_and_unauthenticated_connections_are_closed(
        gw: Gateway, sink: FakeSink) -> None:
    a = await terminal(gw)
    await a.register()
    await a.authenticate()
    lurker = await terminal(gw, phone="013800000000")
    await asyncio.sleep(2.0)
    assert gw.counters.events["closed_idle"] == 1
    assert gw.counters.events["closed_unauthenticated"] == 1
    assert [s["status"] for s in sink.on("hw.device-status")] == ["online", "offline"]
    assert not gw.open
    await lurker.close()


@with_gateway
async def test_garbage_and_bad_frames_do_not_close_the_connection(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw)
    t.send_raw(b"GET / HTTP/1.1\r\n\r\n")
    t.send_raw(b"\x7e\x01\x02\x7d\x09\x7e")
    t.send_raw(bytes(range(256)) * 8)
    await t.register()
    assert await t.authenticate() == 0
    assert await t.location(SimFix(NOW, 40.0, 111.0)) == 0
    for reason in ("garbage", "bad_escape"):
        assert gw.counters.events[reason] >= 1, gw.counters.events


def test_reminder_text_only_for_raised_overspeed_and_fatigue_never_for_drills() -> None:
    from hazardwatch.contracts.warnings import WarningRecord
    from hazardwatch.ingest.jt808.downlink import STALE_MS, reminder

    def w(rule: str, transition: str = "raised", drill: bool = False) -> WarningRecord:
        return WarningRecord("W1", transition, NOW, 2, "orange", rule, "vehicle", None, None,  # type: ignore[arg-type]
                             None, "hz-0001", 90.0, 60.0, "km/h", NOW, "超速", drill=drill)

    assert reminder(w("vehicle.overspeed"), NOW) == "平台提醒：您已超速，请按规定车速行驶"
    assert reminder(w("vehicle.driving.continuous"), NOW) is not None
    assert reminder(w("vehicle.overspeed", drill=True), NOW) is None
    assert reminder(w("vehicle.overspeed", "cleared"), NOW) is None
    assert reminder(w("vehicle.zone.entry"), NOW) is None
    # read long after it was raised (a backlog after an outage): not read out to the driver
    assert reminder(w("vehicle.overspeed"), NOW + STALE_MS) is not None
    assert reminder(w("vehicle.overspeed"), NOW + STALE_MS + 1) is None


def test_a_partition_assigned_again_continues_after_what_was_read() -> None:
    """A rejoin (e.g. after a Kafka outage) must not replay the reminders since the start:
    a partition already read continues after its last record; a new one starts by time."""
    from confluent_kafka import TopicPartition

    from hazardwatch.ingest.jt808.downlink import start_positions

    parts = [TopicPartition("hw.warnings", 0), TopicPartition("hw.warnings", 1)]
    at, by_time = start_positions(parts, {}, 1_000)
    assert at == [] and [(p.partition, p.offset) for p in by_time] == [(0, 1_000), (1, 1_000)]
    at, by_time = start_positions(parts, {("hw.warnings", 1): 42}, 1_000)
    assert [(p.partition, p.offset) for p in at] == [(1, 42)]
    assert [(p.partition, p.offset) for p in by_time] == [(0, 1_000)]


@with_gateway
async def test_reminder_reaches_the_held_terminal_and_its_reply_is_logged(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw)
    await t.register()
    await t.authenticate()
    assert gw.remind("hz-0001", "平台提醒：您已超速", "W42")
    assert not gw.remind("hz-0002", "x", "W43")  # not held by this process
    await asyncio.sleep(0.3)
    (msg,) = t.received.by_id[0x8300]
    assert msg.body[0] == 0x0C and msg.body[1:].decode("gbk") == "平台提醒：您已超速"
    assert gw.counters.events["terminal_reply_0x8300_0"] == 1


@with_gateway
async def test_clear_on_ack_alarm_bits_get_0x8203_after_kafka(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw)
    await t.register()
    await t.authenticate()
    assert await t.location(SimFix(NOW, 40.0, 111.0, alarm=(1 << 21) | (1 << 1))) == 0
    await asyncio.sleep(0.3)
    (msg,) = t.received.by_id[0x8203]
    assert msg.body[2:] == (1 << 21).to_bytes(4, "big")


@with_gateway
async def test_fast_clock_uses_receive_time_and_far_future_or_old_fixes_are_rejected(
        gw: Gateway, sink: FakeSink) -> None:
    t = await terminal(gw)
    await t.register()
    await t.authenticate()
    now = int(time.time()) * 1000
    assert await t.location(SimFix(now + 3_600_000, 40.0, 111.0)) == 0  # an hour fast
    assert await t.location(SimFix(now + 3 * 86_400_000, 40.0, 111.0)) == 0  # 3 days ahead
    assert await t.location(SimFix(now - 40 * 86_400_000, 40.0, 111.0)) == 0  # 40 days old
    (pos,) = sink.on("hw.vehicle.positions")
    assert pos["ts"] == pos["received_at"] and 3_500_000 < pos["clock_fast_ms"] <= 3_600_000
    assert [r["reason"] for r in sink.on("hw.rejected")] == ["ts_in_future", "ts_too_old"]


def fragments(t: Terminal, msg_id: int, body: bytes, size: int) -> list[tuple[int, bytes]]:
    """The body split into sub-package frames of `size` bytes, with consecutive serials."""
    from hazardwatch.ingest.jt808.framing import frame
    from hazardwatch.ingest.jt808.header import Version, encode_header

    parts = [body[i:i + size] for i in range(0, len(body), size)]
    out = []
    for k, part in enumerate(parts, 1):
        serial = t.next_serial()
        head = encode_header(msg_id, len(part), t.phone, serial, Version.V2013,
                             packet=(len(parts), k))
        out.append((serial, frame(head + part)))
    return out


@with_gateway
async def test_sub_packages_are_reassembled_acked_together_or_asked_again_with_0x8003(
        gw: Gateway, sink: FakeSink) -> None:
    from hazardwatch.simulators.jt808.messages import batch_body

    t = await terminal(gw)
    await t.register()
    await t.authenticate()
    fixes = [SimFix(NOW - 600_000 + i * 1000, 40.0, 111.0 + i / 1000, 30.0) for i in range(30)]
    body = batch_body(fixes, blind=True)
    frags = fragments(t, 0x0704, body, 400)
    assert len(frags) >= 3
    for _, data in frags[:-1]:
        t.send_raw(data)
    await asyncio.sleep(0.2)
    assert sink.on("hw.vehicle.positions") == [] and t.received.count(0x8001) == 1
    t.send_raw(frags[-1][1])
    await asyncio.sleep(0.3)
    assert len(sink.on("hw.vehicle.positions")) == 30
    acked = {int.from_bytes(m.body[:2], "big") for m in t.received.by_id[0x8001]}
    assert {s for s, _ in frags} <= acked  # every fragment answered once the whole is in
    lost = fragments(t, 0x0704, body, 400)
    for _, data in lost[:-2]:
        t.send_raw(data)
    await asyncio.sleep(1.2)  # the reassembly timeout is 0.5 s here
    (ask,) = t.received.by_id[0x8003]
    first, count = int.from_bytes(ask.body[:2], "big"), ask.body[2]
    assert first == lost[0][0] and count == 2
    assert [int.from_bytes(ask.body[3 + 2 * i:5 + 2 * i], "big") for i in range(2)] == [
        len(lost) - 1, len(lost)]
    assert gw.counters.events["reassembly_timeout"] == 1
    assert gw.budget.used == 0


@with_gateway
async def test_drill_terminals_send_adas_bsd_and_tpms_alarms_for_their_vehicles_only(
        gw: Gateway, sink: FakeSink) -> None:
    from hazardwatch.simulators.drill_terminals import DrillTerminals
    from hazardwatch.simulators.player import Outgoing

    def out(vid: str, kind: str, body: dict[str, Any]) -> Outgoing:
        return Outgoing(vid, f"hw/v1/vehicles/{vid}/{kind}", json.dumps(body).encode(), NOW)

    terminals = DrillTerminals(gw.port, CATALOG, {"hz-0001"}, timeout_s=5)
    try:
        msgs = [out("hz-0001", "position", {"ts": NOW, "lat": 40.1, "lon": 111.1,
                                             "speed_kmh": 60.0, "heading": 90}),
                out("hz-0001", "video-event", {"ts": NOW + 1000, "event_id": "e1",
                                                "family": "adas", "type": "fcw", "lat": 40.1,
                                                "lon": 111.1, "speed_kmh": 61.0,
                                                "terminal_level": 2}),
                out("hz-0001", "video-event", {"ts": NOW + 2000, "event_id": "e2",
                                                "family": "bsd", "type": "left_rear",
                                                "lat": 40.1, "lon": 111.1, "speed_kmh": 30.0}),
                out("hz-0001", "video-event", {"ts": NOW + 3000, "event_id": "e3",
                                                "family": "tpms", "type": "slow_leak",
                                                "lat": 40.1, "lon": 111.1, "speed_kmh": 58.0,
                                                "tyre": {"position": 0, "pressure_kpa": 610,
                                                         "temperature_c": 40,
                                                         "battery_pct": 80}}),
                out("hz-0002", "position", {"ts": NOW, "lat": 40.2, "lon": 111.2,
                                             "speed_kmh": 50.0})]
        blind = [{"ts": NOW - 3_600_000 + k * 30_000, "lat": 40.0 + k / 1000, "lon": 111.0,
                  "speed_kmh": 55.0, "heading": 90} for k in range(25)]
        msgs.append(Outgoing("hz-0001", "hw/v1/vehicles/hz-0001/blind-area",
                             json.dumps(blind).encode(), NOW))
        mine = [m for m in msgs if terminals.handles(m)]
        assert [m.topic.split("/")[3] for m in mine] == ["hz-0001"] * 5  # hz-0002 stays MQTT
        await asyncio.to_thread(terminals.send, mine)
    finally:
        await asyncio.to_thread(terminals.close)
    videos = sink.on("hw.video-events")
    assert [(v["family"], v["type"], v["terminal_level"], v["speed_kmh"]) for v in videos] == [
        ("adas", "fcw", 2, 61.0), ("bsd", "left_rear", None, 30.0),
        ("tpms", "slow_leak", None, 58.0)]
    assert videos[2]["tyre"] == {"position": 0, "alarm_bits": 1 | 1 << 6, "pressure_kpa": 610.0,
                                 "temperature_c": 40.0, "battery_pct": 80.0}
    assert {v["vehicle_id"] for v in videos} == {"hz-0001"}
    positions = sink.on("hw.vehicle.positions")
    assert [p["vehicle_id"] for p in positions] == ["hz-0001"] * (4 + 25)
    assert [p["ts"] for p in positions[4:]] == [b["ts"] // 1000 * 1000 for b in blind]  # 2 × 0x0704
    assert terminals.backfilled == 25
