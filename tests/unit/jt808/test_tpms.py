"""苏标 0x66 TPMS items become video events: one per tyre and alarm bit, through the gateway."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.records import TyreRecord, VideoEventRecord, decode_input
from hazardwatch.ingest.jt808.active_safety import decode_safety
from hazardwatch.ingest.jt808.attachment_server import AttachmentServer
from hazardwatch.ingest.jt808.attachments import FileStore
from hazardwatch.ingest.jt808.items import decode_items
from hazardwatch.ingest.jt808.location import decode_fix
from hazardwatch.ingest.jt808.records import Origin, video_events
from hazardwatch.ingest.jt808.registry import Registry
from hazardwatch.ingest.jt808.server import Gateway, GatewayConfig
from hazardwatch.simulators.jt808.messages import SimFix, location_body, tpms_item
from hazardwatch.simulators.jt808.terminal import Terminal
from hazardwatch.streams.sinks.line_protocol import video_event
from tests.fixtures.jt808_frames import FRAMES, SUBIAO_BODIES
from tests.unit.jt808.test_gateway import FakeSink

# SmallChi/JT808 src/JT808.Protocol.Extensions/JT808.Protocol.Extensions.SuBiao.Test/
# JT808_0x0200_0x66_Test.cs: a whole 0x0200 body whose only item is a 0x66 with two tyres —
# position 4 with alarm bits 1 (the timed pressure report only) and position 9 with bits 6
# (pressure high and low), the peer's own assertions in tests/fixtures/jt808_frames.py
SMALLCHI_0200 = bytes.fromhex(next(b for b in SUBIAO_BODIES if b.name == "SmallChi 0x66").hex)
T_2019_12_11_183100 = 1576060260000  # the item's BCD time, GMT+8
ORIGIN = Origin("hz-0001", "013900000001", 1_800_000_000_000)


def test_smallchi_tpms_item_gives_one_event_per_tyre_alarm_bit() -> None:
    fix = decode_fix(SMALLCHI_0200, 8 * 3600, ORIGIN.received_at)
    (alarm,) = fix.items.alarms
    events = video_events(alarm, fix, ORIGIN)
    assert [(e.family, e.type) for e in events] == [("tpms", "pressure_high"),
                                                     ("tpms", "pressure_low")]
    tyre = TyreRecord(position=9, alarm_bits=6, pressure_kpa=8.0, temperature_c=10.0,
                      battery_pct=7.0)
    assert all(e.tyre == tyre for e in events)
    assert [e.event_id for e in events] == [
        f"jt808-013900000001-{alarm.tag.raw.hex()}-66-09-1",
        f"jt808-013900000001-{alarm.tag.raw.hex()}-66-09-2"]
    e = events[0]
    assert (e.ts, e.vehicle_id, e.terminal_level, e.speed_kmh) == (
        T_2019_12_11_183100, "hz-0001", None, 17.0)  # 0x66 has no level byte
    assert (e.lat, e.lon) == (pytest.approx(13e-6), pytest.approx(14e-6))
    assert e.v == 2
    # the record round-trips through the contract's decoder with its tyre
    back = decode_input(msgspec.json.encode(e))
    assert isinstance(back, VideoEventRecord) and back.tyre == tyre


def test_tpms_end_flag_and_pressure_reports_give_no_event() -> None:
    f = SimFix(1_799_999_000_000, 40.5, 111.5, 60.0)
    fix = decode_fix(_body(f, [tpms_item(1, [(0, 0x01, 820, 35, 90)], f, "T0001")]), 8 * 3600,
                     ORIGIN.received_at)
    (alarm,) = fix.items.alarms
    assert alarm.tyre_alarms() == [] and video_events(alarm, fix, ORIGIN) == []
    item = bytearray(tpms_item(2, [(3, 0x04, 420, 35, 90)], f, "T0001"))
    item[6] = 2  # the flag: 结束
    (alarm,) = decode_items(bytes(item)).alarms
    assert alarm.flag == 2 and video_events(alarm, fix, ORIGIN) == []


def test_a_missing_tyre_reading_is_none_not_65535() -> None:
    """0xFFFF (no reading) and values outside the MQTT contract's ranges become None, so a
    JT/T 808 tyre and an MQTT tyre mean the same."""
    f = SimFix(1_799_999_000_000, 40.5, 111.5, 60.0)
    fix = decode_fix(_body(f, [tpms_item(1, [(2, 0x08, 0xFFFF, 95, 0xFFFF)], f, "T0001")]),
                     8 * 3600, ORIGIN.received_at)
    (alarm,) = fix.items.alarms
    (e,) = video_events(alarm, fix, ORIGIN)
    assert e.tyre == TyreRecord(position=2, alarm_bits=0x08, pressure_kpa=None,
                                temperature_c=95.0, battery_pct=None)


def test_vendor_bits_and_the_malformed_go_jt808_item_are_not_events() -> None:
    f = SimFix(1_799_999_000_000, 40.5, 111.5, 60.0)
    (alarm,) = decode_items(tpms_item(1, [(1, 0xFF01, 820, 35, 90)], f, "T0001")).alarms
    assert alarm.tyre_alarms() == []  # bits 8–15 are 自定义
    # cuteLittleDevil/go-jt808 protocol/model/t_0x0200_addition_extensions_test.go "苏标 0x66":
    # 49 bytes announcing one tyre (41 + 9 would be 50): kept raw, no event
    go = next(fr for fr in FRAMES if fr.name.startswith("go 苏标 0x66"))
    assert go.expect["positions.0.safety_alarms.#"] == 0


def test_tpms_event_in_influx_line_protocol_carries_the_tyre() -> None:
    fix = decode_fix(SMALLCHI_0200, 8 * 3600, ORIGIN.received_at)
    line = video_event(video_events(fix.items.alarms[0], fix, ORIGIN)[1])
    assert line.startswith("video_event,vehicle=hz-0001,family=tpms,type=pressure_low ")
    assert ",tyre_position=9i,tyre_alarm_bits=6i,pressure_kpa=8.0,temperature_c=10.0," in line
    assert line.endswith(f"battery_pct=7.0 {T_2019_12_11_183100}")


def test_decoded_item_bodies_match_the_peer() -> None:
    alarm = decode_safety(0x66, SMALLCHI_0200[30:])
    assert [t["position"] for t in alarm.extra["tyres"]] == [4, 9]
    assert [(t["position"], bit, name) for t, bit, name in alarm.tyre_alarms()] == [
        (9, 1, "pressure_high"), (9, 2, "pressure_low")]


def _body(f: SimFix, items: list[bytes]) -> bytes:
    return location_body(SimFix(f.ts, f.lat, f.lon, f.speed_kmh, items=items))


def test_smallchi_tpms_frame_through_the_gateway_becomes_records_and_asks_for_attachments(
        tmp_path: Path) -> None:
    """SmallChi's 0x0200 body sent by a catalogued terminal: its fix (2018) is too old and goes
    to hw.rejected, its tyre alarms become two video events sharing one 0x9208 request (the
    tag announces 2 attachments), each with the alarm folder as media; the message is acked."""
    cat = load_catalog("deploy/catalog/demo.yaml")

    async def main() -> None:
        sink = FakeSink()
        reg = Registry(cat, b"s" * 32)
        gw = Gateway(GatewayConfig(port=0, attachment_port=0), reg, sink)  # type: ignore[arg-type]
        await gw.start()
        gw.attachments = AttachmentServer("127.0.0.1", 0, reg, FileStore(tmp_path, 1 << 20),
                                          gw.counters)
        await gw.attachments.start()
        run = asyncio.create_task(gw.run())
        try:
            t = Terminal("013900000001", "T0001", "蒙A·D1234", timeout_s=5)
            await t.connect("127.0.0.1", gw.port)
            await t.register()
            await t.authenticate()
            assert (await t.request(0x0200, SMALLCHI_0200)).body[4] == 0
            now = int(time.time()) * 1000
            f = SimFix(now, 40.5, 111.5, 72.0)
            item = tpms_item(5, [(0, 0x01, 830, 36, 90), (5, 0x41, 610, 52, 88)], f, "T0001",
                             attachments=0)
            assert await t.location(SimFix(now, 40.5, 111.5, 72.0, items=[item])) == 0
            await asyncio.sleep(0.2)
            (request,) = t.received.by_id[0x9208]  # only the tag with attachments asks
            videos = sink.on("hw.video-events")
            assert [(v["type"], v["tyre"]["position"], v["tyre"]["pressure_kpa"],
                     v["terminal_level"], v["speed_kmh"], v["v"]) for v in videos] == [
                ("pressure_high", 9, 8.0, None, 17.0, 2), ("pressure_low", 9, 8.0, None, 17.0, 2),
                ("slow_leak", 5, 610.0, None, 72.0, 2)]
            alarm_no = reg.alarm_number("013900000001", SMALLCHI_0200[30 + 24:30 + 40])
            assert [m["uri"] for m in videos[0]["media"]] == [
                f"{gw.cfg.files_url}/jt808/attachments/{alarm_no}/"]
            assert videos[0]["media"] == videos[1]["media"] and videos[2]["media"] == []
            assert (videos[2]["ts"], videos[2]["lat"], videos[2]["lon"]) == (now, 40.5, 111.5)
            assert len(sink.on("hw.rejected")) == 1  # SmallChi's fix time is 2018: too old
            assert gw.counters.video_events == 3
            assert await t.upload_attachments(request, {"tyre.jpg": b"\x01" * 5000}) == [0]
            assert gw.counters.events["attachment_stored"] == 1
        finally:
            gw.stop()
            await run
            gw.attachments.close()

    asyncio.run(main())
