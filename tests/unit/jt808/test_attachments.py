"""苏标 attachments: 0x9208 → the attachment server → files by content hash, linked as evidence."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import urllib.request
from pathlib import Path

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.jt808 import encode as enc
from hazardwatch.ingest.jt808.attachment_server import AttachmentServer
from hazardwatch.ingest.jt808.attachments import (
    FileStore,
    decode_1210,
    decode_file_info,
    decode_stream_head,
)
from hazardwatch.ingest.jt808.files_http import serve_files
from hazardwatch.ingest.jt808.framing import verify
from hazardwatch.ingest.jt808.header import parse
from hazardwatch.ingest.jt808.registry import Registry
from hazardwatch.ingest.jt808.server import Gateway, GatewayConfig
from hazardwatch.simulators.jt808.messages import SimFix, dsm_item
from hazardwatch.simulators.jt808.terminal import Terminal
from hazardwatch.stack.process import free_port
from tests.unit.jt808.test_gateway import FakeSink

# cuteLittleDevil/go-jt808 attachment/testdata/su_biao/说明.log (7e1210.log, 7e1211.log, …)
GO_1210 = ("7e1210005a00000000100100013132333463642e3132333463642e2502192041000101003230323"
           "42d31312d32325f31305f30305f30305f00000000000000000000000000011c323032342d31312d"
           "32325f31305f30305f30305f646174612e7478740000000c407e")
GO_1212 = ("7e1212002200000000100100041c323032342d31312d32325f31305f30305f30305f646174612e"
           "747874040000000c607e")
GO_9212 = ("7e9212002000000000100100031c323032342d31312d32325f31305f30305f30305f646174612e"
           "747874040000e97e")
GO_STREAM = ("30316364323032342d31312d32325f31305f30305f30305f646174612e74787400000000000000"
             "00000000000000000000000000000000000004000000046f776f72")
NAME = "2024-11-22_10_00_00_data.txt"


def test_go_jt808_upload_messages_decode() -> None:
    files = decode_1210(parse(verify(bytes.fromhex(GO_1210)[1:-1])).body)
    assert files.terminal_id == "1234cd."
    assert files.tag.hex() == "3132333463642e250219204100010100"
    assert files.alarm_no == "2024-11-22_10_00_00_"
    assert files.files == {NAME: 12}
    assert decode_file_info(parse(verify(bytes.fromhex(GO_1212)[1:-1])).body) == (NAME, 4, 12)
    head = bytes.fromhex(GO_STREAM)
    assert decode_stream_head(head[:62]) == (NAME, 4, 4)
    assert head[62:] == b"owor"


def test_upload_complete_reply_matches_go_jt808() -> None:
    h = parse(verify(bytes.fromhex(GO_1212)[1:-1])).header
    assert enc.upload_result(h, 3, NAME, 4, []).hex() == GO_9212


def test_dsm_alarm_attachments_are_requested_stored_and_served(tmp_path: Path) -> None:
    async def main() -> None:
        sink = FakeSink()
        cat = load_catalog("deploy/catalog/demo.yaml")
        reg = Registry(cat, b"s" * 32)
        files_port = free_port()
        cfg = GatewayConfig(port=0, attachment_port=0,
                            files_url=f"http://127.0.0.1:{files_port}")
        gw = Gateway(cfg, reg, sink)  # type: ignore[arg-type]
        await gw.start()
        store = FileStore(tmp_path, 1 << 20)
        gw.attachments = AttachmentServer("127.0.0.1", 0, reg, store, gw.counters)
        await gw.attachments.start()
        http = serve_files(tmp_path, "127.0.0.1", files_port)
        run = asyncio.create_task(gw.run())
        try:
            t = Terminal("013900000001", "T0001", "蒙A·D1234", timeout_s=5)
            await t.connect("127.0.0.1", gw.port)
            await t.register()
            await t.authenticate()
            now = int(time.time()) * 1000
            f = SimFix(now, 40.5, 111.5, 70.0)
            item = dsm_item(9, 0x02, 1, f, "T0001", attachments=2)
            assert await t.location(SimFix(now, 40.5, 111.5, 70.0, items=[item])) == 0
            await asyncio.sleep(0.2)
            (request,) = t.received.by_id[0x9208]
            (video,) = sink.on("hw.video-events")
            files = {"a.jpg": bytes(range(256)) * 40, "b.mp4": b"\x00\x01" * 9000}
            results = await t.upload_attachments(request, files, chunk=1000, skip=(1, 3000))
            assert results == [0, 1, 0]  # a.jpg complete; b.mp4 missing one chunk, then complete
            (uri,) = [m["uri"] for m in video["media"]]
            index = json.loads(await asyncio.to_thread(
                lambda: urllib.request.urlopen(uri, timeout=5).read()))
            assert {i["name"]: i["sha256"] for i in index} == {
                k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
            body = await asyncio.to_thread(
                lambda: urllib.request.urlopen(uri + index[1]["file"], timeout=5).read())
            assert body == files["b.mp4"]
            assert gw.counters.events["attachment_stored"] == 2
        finally:
            gw.stop()
            await run
            gw.attachments.close()
            http.shutdown()

    asyncio.run(main())
