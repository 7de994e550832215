"""Alerting on real Kafka with local receivers that check each channel's request format and
signature: warning → the right people on every channel, repeats until acknowledged, the
resolved notice; kill -9 in the middle of an escalation resumes without repeats or gaps."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import msgspec
import requests
from confluent_kafka import Producer

from hazardwatch import kafka_tail
from hazardwatch.commands.sink import TOPICS as SINK_TOPICS
from hazardwatch.contracts.warnings import WarningRecord, encode_warning, warning_id
from hazardwatch.stack.influx import ensure_database, influxql
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.process import free_port
from tests.helpers import wait_for
from tests.integration.receivers import Receivers

TOKEN = "tok"


def _config(tmp: Path, r: Receivers, api: int, repeat_s: float, leader_after_s: float) -> Path:
    base = r.url
    text = f"""
version: 1
timezone: Asia/Shanghai
public_url: http://127.0.0.1:{api}
link_secret: link-secret
api_tokens: {{{TOKEN}: 测试值班员}}
people:
  - id: all
    name: 全渠道值班员
    channels:
      - {{type: webhook, url: "{base}/webhook", secret: test-secret}}
      - {{type: dingtalk, url: "{base}/dingtalk?access_token=x", secret: test-secret}}
      - {{type: wecom, url: "{base}/wecom?key=k"}}
      - {{type: feishu, url: "{base}/feishu", secret: test-secret}}
      - {{type: sms, to: "+86 13700000009"}}
      - {{type: email, to: duty@example.cn}}
  - id: leader
    name: 带班领导
    channels: [{{type: webhook, url: "{base}/webhook-leader", secret: test-secret}}]
  - id: drill
    name: 演练导调台
    channels: [{{type: webhook, url: "{base}/webhook-drill", secret: test-secret}}]
receivers:
  - {{id: duty, people: [all]}}
  - {{id: leader, people: [leader]}}
  - {{id: principal, site_role: principal}}
  - {{id: drill, people: [drill], drill: true}}
drill_receivers: [drill]
route:
  name: root
  escalation:
    - {{after_s: 0, receivers: [duty, principal]}}
    - {{after_s: {leader_after_s}, receivers: [leader]}}
  repeat_s: {repeat_s}
  reminder_s: 3600
  group_wait_s: 0
  rate_per_min: 600
gateways: {{smtp_host: 127.0.0.1, smtp_port: {r.smtp_port}, sms_url: "{base}/sms",
           sms_token: sms-token}}
"""
    p = tmp / "alerting.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _warning(transition: str, now: int, drill: bool = False) -> WarningRecord:
    return WarningRecord(
        warning_id=warning_id("tank_farm.gas_combustible.threshold",
                              "sensor:tf-hohhot-01/T101-GAS1", now),
        transition=transition, ts=now, level=1, colour="red",  # type: ignore[arg-type]
        rule="tank_farm.gas_combustible.threshold", kind="threshold", site_id="tf-hohhot-01",
        device_id="gds-01", sensor="T101-GAS1", vehicle_id=None, value=52.0, threshold=50.0,
        unit="%LEL", started_at=now, message="呼和浩特石化1号储罐区 T101-GAS1 可燃气体浓度 52%LEL",
        drill=drill)


class Harness:
    """An alerting process on its own topics, state file and API port."""

    def __init__(self, stack: Stack, services: Any, tmp: Path, unique: str, r: Receivers,
                 repeat_s: float, leader_after_s: float) -> None:
        self.stack, self.prefix, self.api = stack, f"al-{unique}.", free_port()
        cfg = _config(tmp, r, self.api, repeat_s, leader_after_s)
        kafka_tail.ensure_topics(stack.settings.kafka_bootstrap,
                                 [self.prefix + "hw.warnings", self.prefix + "hw.alert-actions"])
        self.actions = kafka_tail.mark(stack.settings.kafka_bootstrap,
                                       [self.prefix + "hw.alert-actions"])
        self.service = services(["alerting", "--config", str(cfg), "--topic-prefix", self.prefix,
                                 "--api-port", str(self.api), "--state", str(tmp / "al.db")],
                                "alerting: ready", f"alerting-{unique}")
        self.producer = Producer({"bootstrap.servers": stack.settings.kafka_bootstrap})

    def send(self, w: WarningRecord) -> None:
        self.producer.produce(self.prefix + "hw.warnings", key=w.subject.encode(),
                              value=encode_warning(w))
        self.producer.flush(10)

    def api_post(self, path: str, body: dict[str, Any], token: str = TOKEN) -> requests.Response:
        return requests.post(f"http://127.0.0.1:{self.api}{path}", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {token}"})

    def action_events(self, pred: Any) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []

        def done(msgs: list[Any]) -> bool:
            got[:] = [json.loads(m.value()) for m in msgs]
            return bool(pred(got))

        kafka_tail.read_since(self.stack.settings.kafka_bootstrap, self.actions, done=done,
                              timeout=30)
        return got


CHANNELS = {"webhook", "dingtalk", "wecom", "feishu", "sms", "email"}


def test_warning_reaches_every_channel_repeats_until_acknowledged_then_resolved_notice(
        stack: Stack, services: Any, tmp_path: Path, unique: str, receivers: Receivers) -> None:
    h = Harness(stack, services, tmp_path, unique, receivers, repeat_s=3, leader_after_s=600)
    h.service.start()
    now = int(time.time() * 1000)
    w = _warning("raised", now)
    h.send(w)
    wait_for(lambda: receivers.channels("alert") >= CHANNELS, 30)

    def sms_to() -> set[str]:
        return {r.body["to"] for r in receivers.got if r.channel == "sms"}

    # one SMS per recipient; the second may arrive a moment after every channel has been seen
    wait_for(lambda: len(sms_to()) >= 2, 10)
    assert sms_to() == {"+86 13700000009", "+86 13900000001"}  # duty + the site's 主要负责人
    hook = next(r for r in receivers.got if r.channel == "webhook")
    assert hook.body["warnings"][0]["warning_id"] == w.warning_id and "【预警通知】" in hook.text
    wait_for(lambda: "webhook" in receivers.channels("repeat"), 15)
    assert requests.get(f"http://127.0.0.1:{h.api}/api/warnings", timeout=5).status_code == 401
    active = requests.get(f"http://127.0.0.1:{h.api}/api/warnings", timeout=5,
                          headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert [a["warning"]["warning_id"] for a in active] == [w.warning_id]
    link = hook.body["ack_links"][0]
    page = requests.get(link, timeout=5)  # a link preview: a page with one button, no ack
    assert page.status_code == 200 and 'method="post"' in page.text
    assert requests.get(f"http://127.0.0.1:{h.api}/api/warnings", timeout=5, headers={
        "Authorization": f"Bearer {TOKEN}"}).json()[0]["acked_at"] is None
    assert requests.post(link, timeout=5).status_code == 200  # the button acknowledges
    again = requests.post(link, timeout=5)
    assert again.status_code == 200 and "已由全渠道值班员于" in again.text
    time.sleep(0.5)
    count = len(receivers.got)
    time.sleep(4)  # longer than the repeat interval
    assert len(receivers.got) == count, "repeats must stop once acknowledged"
    bad = h.api_post(f"/api/warnings/{w.warning_id}/resolve", {"cause": "阀门密封失效"})
    assert bad.status_code == 400
    ok = h.api_post(f"/api/warnings/{w.warning_id}/resolve",
                    {"cause": "阀门密封失效", "action": "关闭阀门并堵漏"})
    assert ok.status_code == 200 and ok.json()["handled_by"] == "测试值班员"
    h.send(msgspec.structs.replace(w, transition="cleared", ts=now + 60_000))
    wait_for(lambda: receivers.channels("resolved") >= CHANNELS, 30)
    assert receivers.errors == []
    events = h.action_events(lambda e: {"ack", "resolve"} <= {x["action"] for x in e})
    ack = next(e for e in events if e["action"] == "ack")
    assert ack["who"] == "全渠道值班员" and ack["warning_id"] == w.warning_id
    assert {e["channel"] for e in events if e["action"] == "notified"} >= CHANNELS
    db = f"test_{unique}"
    ensure_database(stack.settings.influx_url, db)
    kafka_tail.ensure_topics(stack.settings.kafka_bootstrap, [h.prefix + t for t in SINK_TOPICS])
    services(["sink", "--topic-prefix", h.prefix, "--group", f"sink-{unique}", "--db", db],
             "sink: assigned", f"sink-{unique}").start()
    q = ("SELECT who, cause, taken FROM \"events_1096d\".\"alert_action\" "
         "WHERE action = 'resolve'")
    rows = wait_for(lambda: influxql(stack.settings.influx_url, q, db=db)["results"][0].get(
        "series"), 30)
    assert rows[0]["values"][0][1:] == ["测试值班员", "阀门密封失效", "关闭阀门并堵漏"]
    influxql(stack.settings.influx_url, f'DROP DATABASE "{db}"')


def test_kill_9_mid_escalation_resumes_without_a_repeat_or_a_gap(
        stack: Stack, services: Any, tmp_path: Path, unique: str, receivers: Receivers) -> None:
    h = Harness(stack, services, tmp_path, unique, receivers, repeat_s=2, leader_after_s=6)
    h.service.start()
    w = _warning("raised", int(time.time() * 1000))
    h.send(w)
    wait_for(lambda: any(r.channel == "webhook" for r in receivers.got), 30)
    time.sleep(0.8)
    h.service.kill()
    time.sleep(3)  # down through a repeat
    h.service.start()
    wait_for(lambda: any(r.channel == "webhook-leader" for r in receivers.got), 30)
    time.sleep(2.5)
    assert h.api_post(f"/api/warnings/{w.warning_id}/ack", {}).status_code == 200
    time.sleep(3)
    for channel, least in (("webhook", 3), ("webhook-leader", 1)):  # step 0 and step 1
        hooks = [r.delivery for r in receivers.got if r.channel == channel]
        assert len(hooks) == len(set(hooks)), f"a notification was sent twice: {hooks}"
        series = sorted(int(d.split("|")[0].rsplit(":", 1)[1]) for d in hooks)
        assert series == list(range(len(series))) and len(series) >= least, series  # no gap
    assert receivers.errors == []


def test_a_bad_silence_gets_400_and_the_service_keeps_paging(
        stack: Stack, services: Any, tmp_path: Path, unique: str, receivers: Receivers) -> None:
    h = Harness(stack, services, tmp_path, unique, receivers, repeat_s=600, leader_after_s=600)
    h.service.start()
    for body in ({"rule_prefix": 7, "minutes": 5}, {"site": 12345}, {"site": "no-such-site"}):
        r = h.api_post("/api/silences", body)
        assert r.status_code == 400 and r.json()["error"], r.text
    h.send(_warning("raised", int(time.time() * 1000)))
    wait_for(lambda: "webhook" in receivers.channels("alert"), 30)
    h.service.kill()  # and a restart on the same state works
    h.service.start()
    assert h.api_post("/api/silences", {"site": "tf-hohhot-01", "minutes": 5}).status_code == 201


def test_drill_warning_goes_only_to_the_drill_desk(
        stack: Stack, services: Any, tmp_path: Path, unique: str, receivers: Receivers) -> None:
    h = Harness(stack, services, tmp_path, unique, receivers, repeat_s=600, leader_after_s=0)
    h.service.start()
    h.send(_warning("raised", int(time.time() * 1000), drill=True))
    wait_for(lambda: receivers.got, 30)
    time.sleep(2)
    assert {r.channel for r in receivers.got} == {"webhook-drill"}
    assert receivers.got[0].text.startswith("【演练】")
