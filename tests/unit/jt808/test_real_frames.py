"""The decoder on real frames from peers' test suites (sources named in the fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hazardwatch.ingest.jt808.active_safety import decode_safety
from hazardwatch.ingest.jt808.describe import describe_line
from hazardwatch.ingest.jt808.items import decode_items
from hazardwatch.ingest.jt808.subpackage import Reassembler
from tests.fixtures.jt808_frames import FRAMES, SUBIAO_BODIES

FIXTURES = Path(__file__).parents[2] / "fixtures" / "jt808"


def lookup(doc: Any, path: str) -> Any:
    """`a.0.b` walks dicts and lists; a final `#` is the length."""
    for part in path.split("."):
        if part == "#":
            return len(doc)
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def check(out: dict[str, Any], expect: dict[str, Any]) -> None:
    for path, want in expect.items():
        got = lookup(out, path)
        if isinstance(want, float):
            assert got == pytest.approx(want, abs=1e-9), path
        else:
            assert got == want, path


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f.name)
def test_real_frame_decodes_to_the_peers_values(frame: Any) -> None:
    outs = list(describe_line(frame.hex))
    assert len(outs) == 1
    check(outs[0], frame.expect)
    if "rejected" not in frame.expect:
        assert "rejected" not in outs[0], outs[0]


def test_there_are_at_least_30_real_frames_of_every_kind_asked_for() -> None:
    assert len(FRAMES) + 6 >= 30  # + the six sub-package frames below
    ids = {f.expect.get("msg_id") or f.hex.replace(" ", "")[2:6].lower() for f in FRAMES}
    assert {"0x0002", "0100", "0102", "0200", "0704"} <= ids | {"0x0002"}
    assert any("version" in f.expect and f.expect["version"] == "2019" for f in FRAMES)
    assert all(f.source for f in FRAMES + SUBIAO_BODIES)


@pytest.mark.parametrize("body", SUBIAO_BODIES, ids=lambda f: f.name)
def test_subiao_item_bodies(body: Any) -> None:
    items = decode_items(bytes.fromhex(body.hex)[28:])
    assert len(items.alarms) == 1, items
    check(items.alarms[0].as_dict(), body.expect)


def test_subiao_alarm_time_is_utc() -> None:
    body = bytes.fromhex(SUBIAO_BODIES[0].hex)[30:]
    alarm = decode_safety(0x64, body)
    assert alarm.ts == 1576060260000  # 2019-12-11 18:31:00 GMT+8


def test_go_jt808_sub_packages_reassemble_to_the_source_body() -> None:
    lines = [ln for ln in (FIXTURES / "go-jt808_0x1205_dst.txt").read_text().split("\n")
             if ln and not ln.startswith("#")]
    assert len(lines) == 6
    asm = Reassembler()
    outs = [o for ln in lines for o in describe_line(ln, asm)]
    parts = [o for o in outs if "packet_index" in o]
    assert [p["packet_index"] for p in parts] == [1, 2, 3, 4, 5, 6]
    assert {p["packet_total"] for p in parts} == {6}
    assert [p["body_len"] for p in parts] == [1000] * 5 + [46]
    assert {p["version"] for p in parts} == {"2019"}
    whole = [o for o in outs if o.get("reassembled")]
    assert len(whole) == 1
    assert whole[0]["msg_id"] == "0x1205"
    assert whole[0]["serial"] == parts[0]["serial"]
    src = (FIXTURES / "go-jt808_0x1205_src.hex").read_text().strip()
    assert whole[0]["body_hex"] == src.lower()


def test_sub_packages_in_another_order_still_reassemble() -> None:
    lines = [ln for ln in (FIXTURES / "go-jt808_0x1205_dst.txt").read_text().split("\n")
             if ln and not ln.startswith("#")]
    asm = Reassembler()
    order = [5, 0, 3, 1, 4, 2]
    outs = [o for i in order for o in describe_line(lines[i], asm)]
    assert sum(1 for o in outs if o.get("reassembled")) == 1
