"""Fallback on the real stack: an 一级 whose chat robot refuses it for good reaches the voice
gateway (and SMS); a drill warning never does; a key press acknowledges."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests
from confluent_kafka import Producer

from hazardwatch import kafka_tail
from hazardwatch.contracts.warnings import WarningRecord, encode_warning, warning_id
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.process import free_port
from tests.helpers import wait_for
from tests.integration.receivers import Receivers


def _warning(now: int, drill: bool) -> WarningRecord:
    return WarningRecord(
        warning_id=warning_id("fallback", f"sensor:tf-hohhot-01/S{int(drill)}", now),
        transition="raised", ts=now, level=1, colour="red", rule="fallback.test",  # type: ignore[arg-type]
        kind="threshold", site_id="tf-hohhot-01", device_id="d", sensor=f"S{int(drill)}",
        vehicle_id=None, value=1.0, threshold=1.0, unit="%", started_at=now,
        message="回退测试：可燃气体浓度超限", drill=drill)


def test_an_undelivered_level_1_reaches_the_voice_gateway_and_a_drill_never_does(
        stack: Stack, services: Any, tmp_path: Path, unique: str, receivers: Receivers) -> None:
    prefix, api, base = f"alfb-{unique}.", free_port(), receivers.url
    cfg = tmp_path / "alerting.yaml"
    cfg.write_text(f"""
version: 1
timezone: Asia/Shanghai
public_url: http://127.0.0.1:{api}
link_secret: link-secret
api_tokens: {{tok: 值班员}}
people:
  - id: duty
    name: 值班员
    channels:
      - {{type: dingtalk, url: "{base}/dingtalk?access_token=x", secret: wrong-secret}}
      - {{type: sms, to: "+86 13700000009"}}
  - id: drill
    name: 演练导调台
    channels: [{{type: dingtalk, url: "{base}/dingtalk?access_token=x", secret: wrong-secret}}]
receivers:
  - {{id: duty, people: [duty]}}
  - {{id: drill, people: [drill], drill: true}}
drill_receivers: [drill]
route: {{name: root, escalation: [{{after_s: 0, receivers: [duty]}}], group_wait_s: 0}}
gateways: {{sms_url: "{base}/sms", sms_token: sms-token, voice_url: "{base}/voice",
           voice_token: voice-token, voice_template: TTS_1, voice_show_number: "01012345678",
           voice_callback_token: cb-token}}
""", encoding="utf-8")
    boot = stack.settings.kafka_bootstrap
    kafka_tail.ensure_topics(boot, [prefix + "hw.warnings", prefix + "hw.alert-actions"])
    services(["alerting", "--config", str(cfg), "--topic-prefix", prefix, "--api-port",
              str(api)], "alerting: ready", f"alerting-{unique}").start()
    producer = Producer({"bootstrap.servers": boot})
    now = int(time.time() * 1000)
    real, drill = _warning(now, False), _warning(now, True)
    for w in (drill, real):
        producer.produce(prefix + "hw.warnings", key=w.subject.encode(), value=encode_warning(w))
    producer.flush(10)
    wait_for(lambda: any(r.channel == "voice" for r in receivers.got), 30)
    time.sleep(2)
    calls = [r for r in receivers.got if r.channel == "voice"]
    assert len(calls) == 1 and calls[0].body["CalledNumber"] == "+86 13700000009"
    assert calls[0].delivery.startswith(real.warning_id)
    assert not any(drill.warning_id in r.delivery for r in receivers.got)  # never SMS/voice
    r = requests.post(f"http://127.0.0.1:{api}/voice/callback", timeout=5,
                      json={"OutId": calls[0].delivery, "Dtmf": "1"},
                      headers={"Authorization": "Bearer cb-token"})
    assert r.status_code == 200 and r.json()["acknowledged"]
    active = requests.get(f"http://127.0.0.1:{api}/api/warnings", timeout=5,
                          headers={"Authorization": "Bearer tok"}).json()
    got = {a["warning"]["warning_id"]: a["acked_by"] for a in active}
    assert got[real.warning_id] == "值班员（语音按键）"
