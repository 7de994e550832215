"""Fallback: an 一级/二级 chat notice that was not delivered, is held by a throttled robot or
is not acknowledged in time also goes to the person's SMS and a voice call (ack by key press
or reply); drill warnings never reach SMS or voice."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hazardwatch.alerting.api import serve
from hazardwatch.alerting.channels.base import Message, Permanent, Throttled
from hazardwatch.alerting.channels.sms import summary_text, template_params
from hazardwatch.alerting.channels.voice import send_voice
from hazardwatch.alerting.config import Channel
from hazardwatch.stack.process import free_port
from tests.unit.alerting.test_service import CFG, MIN, T0, S, feed, service, warning

OFFICER = "+86 13700000001"  # the day-shift duty officer's phone (DingTalk + SMS)


def _calls(box: Any) -> list[tuple[str, Message]]:
    return [(to, m) for c, to, m in box.sent if c == "voice"]


def test_an_undelivered_level_1_goes_to_a_voice_call_and_sms(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    box.fail["dingtalk"] = Permanent("errcode 310000")
    w = warning(1)
    feed(svc, w, T0)
    svc.step(T0)
    assert _calls(box) == []
    svc.step(T0 + S)
    calls = _calls(box)
    assert [to for to, _ in calls] == [OFFICER]
    assert calls[0][1].data["warnings"][0]["warning_id"] == w.warning_id
    fallback_sms = [m for c, to, m in box.sent if c == "sms" and ":fallback@" in m.delivery_id]
    assert [m.data["person"] for m in fallback_sms] == ["市应急管理局白班值班员"]
    svc.step(T0 + 20 * MIN)
    assert len(_calls(box)) == 1  # once per person and level


def test_a_level_1_held_by_a_throttled_robot_goes_to_voice_at_once(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    box.fail["dingtalk"] = Throttled("130101 send too fast")
    feed(svc, warning(1), T0)
    svc.step(T0)
    svc.step(T0 + S)
    svc.step(T0 + 2 * S)
    assert [to for to, _ in _calls(box)] == [OFFICER]


@pytest.mark.parametrize("acked", [False, True])
def test_a_level_2_not_acknowledged_in_time_goes_to_voice(tmp_path: Path, acked: bool) -> None:
    svc, box = service(tmp_path)
    w = warning(2)
    feed(svc, w, T0)
    for t in range(T0, T0 + 9 * MIN, 30 * S):
        svc.step(t)
    assert _calls(box) == []
    if acked:
        svc.act("ack", w.warning_id, "值班员", T0 + 9 * MIN)
    for t in range(T0 + 9 * MIN, T0 + 12 * MIN, 30 * S):
        svc.step(t)
    assert [to for to, _ in _calls(box)] == ([] if acked else [OFFICER])


def test_a_drill_warning_never_reaches_sms_or_voice(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    box.fail["webhook"] = Permanent("HTTP 400")  # the drill desk is down
    feed(svc, warning(1, drill=True), T0)
    for t in range(T0, T0 + 30 * MIN, 30 * S):
        svc.step(t)
    assert [c for c, _, _ in box.sent if c in ("sms", "voice")] == []
    with pytest.raises(Permanent, match="drill"):
        send_voice(CFG.gateways, Channel(type="voice", to=OFFICER),
                   Message("d", "t", "x", "x", {"drill": True, "warnings": []}))


def test_sms_template_parameters_fit_and_a_group_keeps_its_link() -> None:
    ws = [msgspec.to_builtins(warning(2 + (i > 0), sensor=f"S{i}")) | {"message": "很长" * 40}
          for i in range(3)]
    m = Message("d", "【预警通知】二级(橙色) 等3条", "t", "t",
                {"warnings": ws, "ack_links": ["http://h/ack/a"] * 3,
                 "list_link": "http://h/list/x"})
    p = template_params(m)
    assert p["count"] == "3" and p["link"] == "http://h/list/x" and p["level"] == "二级(橙色)"
    assert all(len(v) <= 35 for k, v in p.items() if k != "link")
    text = summary_text(m, 60)
    assert len(text) <= 60 and text.endswith("http://h/list/x") and "等3条" in text


def test_a_key_press_on_the_call_acknowledges(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    svc.cfg = msgspec.structs.replace(CFG, gateways=msgspec.structs.replace(
        CFG.gateways, voice_callback_token="cb-token-0123456789"))
    box.fail["dingtalk"] = Permanent("errcode 310000")
    w = warning(1)
    feed(svc, w, T0)
    svc.step(T0)
    svc.step(T0 + S)
    (_, call), = _calls(box)
    server = serve(svc, "127.0.0.1", free_port())
    url = f"http://127.0.0.1:{server.server_port}/voice/callback"

    def post(token: str) -> int:
        req = urllib.request.Request(url, json.dumps({"OutId": call.delivery_id,
                                                      "Dtmf": "1"}).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        assert post("wrong") == 403 and svc.alerts[w.warning_id].acked_at is None
        assert post("cb-token-0123456789") == 200
        deadline = time.monotonic() + 5
        while svc.alerts[w.warning_id].acked_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.alerts[w.warning_id].acked_by == "市应急管理局白班值班员（语音按键）"
    finally:
        server.shutdown()
