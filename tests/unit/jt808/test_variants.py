"""Provincial variants of the active-safety extension: alarm tags and 0x1210 by layout."""

from __future__ import annotations

import asyncio
import struct
import time
from pathlib import Path

import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.jt808.active_safety import decode_safety
from hazardwatch.ingest.jt808.attachment_server import AttachmentServer
from hazardwatch.ingest.jt808.attachments import FileStore, decode_1210
from hazardwatch.ingest.jt808.framing import verify
from hazardwatch.ingest.jt808.header import parse
from hazardwatch.ingest.jt808.registry import Registry
from hazardwatch.ingest.jt808.server import Gateway, GatewayConfig
from hazardwatch.ingest.jt808.variants import LAYOUTS, ActiveSafety
from hazardwatch.simulators.jt808.messages import SimFix, bcd_time
from hazardwatch.simulators.jt808.terminal import Terminal
from tests.unit.jt808.test_gateway import FakeSink

# cuteLittleDevil/go-jt808 protocol/model/parse_test.go, cases
# "T0x1210 终端-报警附件信息消息 (广东)" and "(黑龙江)"; expected values from their `fields`
GD_1210 = (
    "7e121000ae00000000100100013132333463642e000000000000000000000000000000000000000000000031"
    "32333463642e000000000000000000000000000000000000000000000024120619041201020000323032342d"
    "31312d32325f31305f30305f30305f00000000000000000000000000021c323032342d31312d32325f31305f"
    "30305f30305f646174612e747874000803e620323032342d31312d32325f31305f30305f30305f7274767339"
    "3130312e706e670005633f147e")
HLJ_1210 = (
    "7e1210008e00000000100100013132333463642e000000000000000000000000000000000000000000000024"
    "12061836590102323032342d31312d32325f31305f30305f30305f00000000000000000000000000021c3230"
    "32342d31312d32325f31305f30305f30305f646174612e747874000803e620323032342d31312d32325f3130"
    "5f30305f30305f72747673393130312e706e670005633f617e")
FILES = {"2024-11-22_10_00_00_data.txt": 525286, "2024-11-22_10_00_00_rtvs9101.png": 353087}


def body(frame_hex: str) -> bytes:
    return parse(verify(bytes.fromhex(frame_hex)[1:-1])).body


@pytest.mark.parametrize(("frame_hex", "variant", "time"), [
    (GD_1210, ActiveSafety.GUANGDONG, "241206190412"),
    (HLJ_1210, ActiveSafety.HEILONGJIANG, "241206183659"),
])
def test_go_jt808_province_0x1210_frames(frame_hex: str, variant: ActiveSafety,
                                         time: str) -> None:
    got = decode_1210(body(frame_hex), variant)
    lay = LAYOUTS[variant]
    assert got.terminal_id == "1234cd."
    assert len(got.tag) == lay.tag and got.tag[lay.terminal_id:lay.terminal_id + 6].hex() == time
    assert got.tag[lay.terminal_id + 6:lay.terminal_id + 8] == b"\x01\x02"  # serial, count
    assert got.alarm_no == "2024-11-22_10_00_00_" and got.info_type == 0
    assert got.files == FILES
    # read as 苏标 the same bytes give nonsense: the setting matters
    try:
        jsatl = decode_1210(body(frame_hex), ActiveSafety.JSATL)
    except ValueError as exc:
        assert "announces" in str(exc)
    else:
        assert jsatl.alarm_no != got.alarm_no or jsatl.files != FILES


def tag(variant: ActiveSafety, tid: str, bcd: str, serial: int, count: int) -> bytes:
    lay = LAYOUTS[variant]
    return (tid.encode().ljust(lay.terminal_id, b"\0") + bytes.fromhex(bcd)
            + bytes((serial, count)) + bytes(lay.reserved))


def tail(bcd: str, t: bytes) -> bytes:
    # speed 62 km/h, altitude 35 m, 23.130000 N 113.260000 E, time, vehicle status 0x0001
    return struct.pack(">BhII", 62, 35, 23_130_000, 113_260_000) + bytes.fromhex(bcd) + (
        b"\x00\x01" + t)


# Built by hand from go-jt808's layouts (protocol/model/p_0x9208.go): no public capture of a
# provincial 0x0200 alarm item was found. DSM fatigue level 2 with a 粤标 40-byte tag, ADAS FCW
# with a 湖南 32-byte tag, BSD left-rear with a 四川 39-byte tag.
BCD = "241206190412"
CASES = [
    (0x65, ActiveSafety.GUANGDONG, struct.pack(">IBBBB", 7, 1, 0x01, 2, 5) + bytes(4),
     "dsm", "fatigue", 2),
    (0x64, ActiveSafety.HUNAN, struct.pack(">IBBBBBBBB", 8, 1, 0x01, 1, 40, 12, 0, 0, 0),
     "adas", "fcw", 1),
    (0x67, ActiveSafety.SICHUAN, struct.pack(">IBB", 9, 1, 0x02), "bsd", "left_rear", None),
]


@pytest.mark.parametrize(("item", "variant", "head", "family", "type_name", "level"), CASES)
def test_provincial_alarm_items_carry_their_longer_tag(item: int, variant: ActiveSafety,
                                                       head: bytes, family: str, type_name: str,
                                                       level: int | None) -> None:
    tid = "GD44010012345678901234567890AB"[:LAYOUTS[variant].terminal_id]
    data = head + tail(BCD, tag(variant, tid, BCD, 3, 2))
    a = decode_safety(item, data, variant=variant)
    assert (a.family, a.type_name, a.level, a.speed_kmh, a.alt_m) == (family, type_name, level,
                                                                       62, 35)
    assert (a.lat, a.lon) == (23.13, 113.26)
    assert a.ts == 1733483052000  # 2024-12-06 19:04:12 GMT+8
    assert (a.tag.terminal_id, a.tag.time, a.tag.serial, a.tag.attachments) == (tid, BCD, 3, 2)
    assert a.tag.raw == data[-LAYOUTS[variant].tag:]
    with pytest.raises(ValueError, match="needs"):  # one byte short for its variant
        decode_safety(item, data[:-1], variant=variant)


def test_a_guangdong_terminal_alarm_is_asked_for_and_uploaded_in_its_layout(
        tmp_path: Path) -> None:
    """Catalog `active_safety: guangdong`: the 40-byte tag goes into the video event's alarm
    number and the 0x9208, and the terminal's 0x1210 (30-byte id + 40-byte tag) is accepted."""
    src = Path("deploy/catalog/demo.yaml").read_text(encoding="utf-8")
    line = 'terminal: {phone: "013900000001", terminal_id: T0001, plate_color: 2}'
    assert line in src
    (tmp_path / "cat.yaml").write_text(
        src.replace(line, line[:-1] + ", active_safety: guangdong}"), encoding="utf-8")
    cat = load_catalog(tmp_path / "cat.yaml")

    async def main() -> None:
        sink = FakeSink()
        reg = Registry(cat, b"s" * 32)
        gw = Gateway(GatewayConfig(port=0, attachment_port=0), reg, sink)  # type: ignore[arg-type]
        await gw.start()
        store = FileStore(tmp_path / "files", 1 << 20)
        gw.attachments = AttachmentServer("127.0.0.1", 0, reg, store, gw.counters)
        await gw.attachments.start()
        run = asyncio.create_task(gw.run())
        try:
            t = Terminal("013900000001", "T0001", "蒙A·D1234", timeout_s=5,
                         active_safety=ActiveSafety.GUANGDONG)
            await t.connect("127.0.0.1", gw.port)
            await t.register()
            await t.authenticate()
            now = int(time.time()) * 1000
            bcd = bcd_time(now)
            item_body = (struct.pack(">IBBBB", 7, 1, 0x01, 2, 5) + bytes(4)
                         + tail(bcd.hex(), tag(ActiveSafety.GUANGDONG, "T0001", bcd.hex(), 3, 1)))
            item = b"\x65" + bytes((len(item_body),)) + item_body
            assert await t.location(SimFix(now, 23.13, 113.26, 62.0, items=[item])) == 0
            await asyncio.sleep(0.2)
            (request,) = t.received.by_id[0x9208]
            n = request.body[0]
            assert request.body[5 + n:45 + n] == item_body[-40:]  # the whole 40-byte tag
            (video,) = sink.on("hw.video-events")
            assert (video["family"], video["type"], video["terminal_level"]) == (
                "dsm", "fatigue", 2)
            assert await t.upload_attachments(request, {"a.jpg": b"\xff" * 3000}) == [0]
            assert gw.counters.events["attachment_stored"] == 1
        finally:
            gw.stop()
            await run
            gw.attachments.close()

    asyncio.run(main())
