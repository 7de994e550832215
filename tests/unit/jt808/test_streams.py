"""Attachment "01cd" stream packets per provincial variant: 黑标's length-prefixed file name."""

from __future__ import annotations

import asyncio
import hashlib
import struct
import time
from pathlib import Path

import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.jt808.attachment_server import AttachmentServer
from hazardwatch.ingest.jt808.attachments import FileStore, decode_stream_head, stream_head_len
from hazardwatch.ingest.jt808.counters import GatewayCounters
from hazardwatch.ingest.jt808.registry import Registry
from hazardwatch.ingest.jt808.server import Gateway, GatewayConfig
from hazardwatch.ingest.jt808.variants import ActiveSafety
from hazardwatch.simulators.jt808.messages import SimFix, bcd_time, stream_head
from hazardwatch.simulators.jt808.terminal import Terminal
from tests.unit.jt808.test_attachments import GO_1212, GO_STREAM, NAME
from tests.unit.jt808.test_gateway import FakeSink
from tests.unit.jt808.test_variants import tag, tail

# 黑标: no public capture of a stream packet was found. Built as go-jt808's terminal writes one
# (cuteLittleDevil/go-jt808 example/attachment/local/main.go `sendStreamData` with
# `activeSafetyType == consts.ActiveSafetyHLJ`: 30316364, len(name), name, offset, length, data)
# and reads it (attachment/stream_data_handle.go `heiBiaoStreamDataHandle.Parse`), for the first
# file of go-jt808's 黑龙江 0x1210 (protocol/model/parse_test.go, in test_variants.HLJ_1210),
# 4 bytes "owor" at offset 4 as in go-jt808's 苏标 capture (attachment/testdata/su_biao/).
HLJ_STREAM = ("30316364" + "1c" + NAME.encode().hex() + "00000004" + "00000004"
              + b"owor".hex())
NOT_HLJ = [v for v in ActiveSafety if v is not ActiveSafety.HEILONGJIANG]


@pytest.mark.parametrize("variant", NOT_HLJ)
def test_go_jt808_su_biao_stream_packet_is_read_by_every_50_byte_variant(
        variant: ActiveSafety) -> None:
    """go-jt808 reads 苏标, 粤标, 湖南标 and 四川标 streams with one handler
    (`baseStreamDataHandle`, a 50-byte name)."""
    packet = bytes.fromhex(GO_STREAM)
    assert stream_head_len(packet, variant) == 62
    assert decode_stream_head(packet[:62], variant) == (NAME, 4, 4)
    assert stream_head(NAME, 4, 4, variant) == packet[:62]  # the simulator writes the same


def test_heilongjiang_stream_packet_has_a_length_prefixed_name() -> None:
    packet = bytes.fromhex(HLJ_STREAM)
    hlj = ActiveSafety.HEILONGJIANG
    head = stream_head_len(packet, hlj)
    assert head == 4 + 1 + len(NAME) + 8 == 41
    assert decode_stream_head(packet[:head], hlj) == (NAME, 4, 4)
    assert packet[head:] == b"owor"
    assert stream_head(NAME, 4, 4, hlj) == packet[:head]
    as_jsatl = (packet + bytes(62))[:62]  # read as 苏标 (50-byte name) it is another name
    assert decode_stream_head(as_jsatl, ActiveSafety.JSATL)[0] != NAME
    assert [stream_head_len(packet[:n], hlj) for n in (3, 5, 40)] == [None, None, None]


class _Conn:
    """What AttachmentServer._consume needs of a connection: records frames and streams."""

    def __init__(self, variant: ActiveSafety) -> None:
        self.variant, self.peer = variant, "test"
        self.got: list[tuple[str, bytes]] = []

    def on_frame(self, raw: bytes) -> None:
        self.got.append(("frame", raw))

    def on_stream(self, head: bytes, data: bytes) -> None:
        self.got.append((decode_stream_head(head, self.variant)[0], data))


@pytest.mark.parametrize("piece", [1, 3, 7, 64])
def test_heilongjiang_frames_and_streams_split_across_reads(piece: int) -> None:
    """A 0x1212 frame, two 黑标 stream packets and the frame again, arriving `piece` bytes at a
    time (as go-jt808's attachment/package_test.go splits its 苏标 captures)."""
    frame = bytes.fromhex(GO_1212)
    data = b"\x01" * 300
    wire = (frame + bytes.fromhex(HLJ_STREAM)
            + stream_head(NAME, 8, len(data), ActiveSafety.HEILONGJIANG) + data + frame)
    srv = AttachmentServer("127.0.0.1", 0, None, None, GatewayCounters())  # type: ignore[arg-type]
    c = _Conn(ActiveSafety.HEILONGJIANG)
    buf = bytearray()
    for k in range(0, len(wire), piece):
        buf += wire[k:k + piece]
        srv._consume(c, buf)  # type: ignore[arg-type]
    assert c.got == [("frame", frame[1:-1]), (NAME, b"owor"), (NAME, data),
                     ("frame", frame[1:-1])]
    assert buf == b"\x7e" and srv.counters.events == {}  # the last flag may open a frame


def test_a_heilongjiang_terminal_upload_completes(tmp_path: Path) -> None:
    """Catalog `active_safety: heilongjiang`: the alarm (38-byte tag) gets its 0x9208, the
    terminal's 0x1210 (tag first, no separate id) is accepted, its 黑标 stream packets are read,
    a left-out chunk is asked for again (0x9212 result 1) and the file completes (result 0)."""
    src = Path("deploy/catalog/demo.yaml").read_text(encoding="utf-8")
    line = 'terminal: {phone: "013900000001", terminal_id: T0001, plate_color: 2}'
    (tmp_path / "cat.yaml").write_text(
        src.replace(line, line[:-1] + ", active_safety: heilongjiang}"), encoding="utf-8")
    cat = load_catalog(tmp_path / "cat.yaml")
    hlj = ActiveSafety.HEILONGJIANG

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
            t = Terminal("013900000001", "T0001", "蒙A·D1234", timeout_s=5, active_safety=hlj)
            await t.connect("127.0.0.1", gw.port)
            await t.register()
            await t.authenticate()
            now = int(time.time()) * 1000
            bcd = bcd_time(now).hex()
            item_body = (struct.pack(">IBBBB", 7, 1, 0x02, 1, 0) + bytes(4)
                         + tail(bcd, tag(hlj, "T0001", bcd, 3, 1)))
            item = b"\x65" + bytes((len(item_body),)) + item_body
            assert await t.location(SimFix(now, 45.75, 126.63, 40.0, items=[item])) == 0
            await asyncio.sleep(0.2)
            (request,) = t.received.by_id[0x9208]
            n = request.body[0]
            assert request.body[5 + n:43 + n] == item_body[-38:]  # the whole 38-byte tag
            (video,) = sink.on("hw.video-events")
            assert (video["family"], video["type"]) == ("dsm", "phone")
            clip = bytes(range(256)) * 20
            assert await t.upload_attachments(request, {NAME: clip}, chunk=1000,
                                              skip=(0, 2000)) == [1, 0]
            (stored,) = [p for p in (tmp_path / "files").rglob("*") if p.name.endswith(NAME)]
            assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(clip).digest()
            assert gw.counters.events["attachment_stored"] == 1
            assert "attachment_stream_refused" not in gw.counters.events
        finally:
            gw.stop()
            await run
            gw.attachments.close()

    asyncio.run(asyncio.wait_for(main(), 30))
