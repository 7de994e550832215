"""督办 texts through the routes (`match.admin` + region prefix in deploy/alerting/alerting.yaml):
a missed 签收 opens a county 督办 (玉泉区 duty and the enterprise told), pushed at 35 min to the
city, whose duty (呼和浩特市) gets the 【督办】 text; a drill 督办 reaches the drill desk only."""

from __future__ import annotations

from pathlib import Path

from hazardwatch.alerting.channels.base import Retryable
from hazardwatch.alerting.config import Channel, load_alerting
from hazardwatch.alerting.service import _rid
from hazardwatch.alerting.stages.ratelimit import Bucket
from hazardwatch.alerting.stages.robot_budget import RobotUse
from hazardwatch.alerting.workflow.track import case_of
from tests.unit.alerting.test_service import CAT, T0, feed, service, warning

MIN = 60_000
COUNTY_ROBOT = "http://127.0.0.1:18091/dingtalk?access_token=county"


def test_missed_ack_pushed_to_the_city_whose_duty_is_told(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    w = warning(1)  # tf-hohhot-01, region 150104 (玉泉区, 呼和浩特市)
    feed(svc, w, T0)
    svc.step(T0 + 5 * MIN - 1)
    assert box.supervised == []
    svc.step(T0 + 5 * MIN)  # 签收 missed: county 督办 to the enterprise
    county = list(box.supervised)
    people = {m.data["person"] for _, _, m in county}
    assert {"玉泉区应急管理局值班员", "张伟", "化工园区监控中心"} <= people
    assert "呼和浩特市应急管理局督办值班员" not in people
    assert all(m.text.startswith("【督办】县级督办") and "超时未签收" in m.text
               for _, _, m in county)
    svc.step(T0 + 35 * MIN)  # unanswered: pushed to the city
    city = box.supervised[len(county):]
    to = {(c, t) for c, t, _ in city}
    assert ("sms", "+86 13700000011") in to  # 呼和浩特市 duty's phone
    assert ("webhook", "http://127.0.0.1:18091/webhook/city-150100") in to
    assert ("sms", "+86 13700000015") not in to  # not the province yet
    m = next(m for c, _, m in city if c == "sms" and m.data["person"].startswith("呼和浩特市"))
    assert m.text.startswith("【督办】市级督办") and "县级督办逾期未办结" in m.text
    assert "呼和浩特石化1号储罐区" in m.text and m.data["admin"] == "city"
    assert {m.data["person"] for _, _, m in city} >= {"玉泉区应急管理局值班员"}
    n = len(box.supervised)
    svc.step(T0 + 36 * MIN)
    assert len(box.supervised) == n  # told once


def test_retryable_failure_is_sent_later(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    feed(svc, warning(1), T0)
    box.fail["sms"] = Retryable("gateway busy")
    svc.step(T0 + 5 * MIN)
    assert not [x for x in box.supervised if x[0] == "sms"] and svc.outbox
    del box.fail["sms"]
    svc.step(T0 + 5 * MIN + 1000)
    assert ("sms", "+86 13700000014") in {(c, t) for c, t, _ in box.supervised}


def test_drill_supervision_stays_on_the_drill_desk(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    feed(svc, warning(1, drill=True), T0)
    svc.step(T0 + 35 * MIN)
    sup = box.supervised
    assert sup and {m.data["person"] for _, _, m in sup} == {"演练导调台"}
    assert all(m.data["drill"] for _, _, m in sup)


def test_warnings_never_take_a_supervision_route(tmp_path: Path) -> None:
    svc, _ = service(tmp_path)
    assert "supervision" not in svc.settings_for(warning(1)).name
    assert svc.settings_for(warning(1)).name == "root / level-1"


def test_supervision_by_hand_tells_the_province_and_the_city(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    w = warning(2)
    feed(svc, w, T0)
    svc.act("ack", w.warning_id, "值班员", T0 + MIN)
    c = case_of(svc.alerts[w.warning_id], CAT)
    c.supervise_by_hand("province", "省厅值班员", T0 + 2 * MIN, svc.workflow, 600)
    svc.act("supervise", w.warning_id, "省厅值班员", T0 + 2 * MIN,
            supervision=c.supervisions[-1])
    svc.step(T0 + 2 * MIN)
    to = {(ch, t) for ch, t, _ in box.supervised}
    assert {("sms", "+86 13700000015"), ("sms", "+86 13700000011")} <= to
    assert all("省级督办" in m.text and "人工督办" in m.text for _, _, m in box.supervised)


def test_supervision_texts_wait_for_the_robot_budget_and_the_persons_rate(
        tmp_path: Path) -> None:
    """A 督办 text to a DingTalk robot that is throttled waits (the SMS and webhook texts go)
    and goes once the robot takes messages again; a person whose rate is used up gets it when
    the rate allows (the same buckets as the notifications)."""
    yaml = tmp_path / "alerting.yaml"  # the county duty on a DingTalk robot of its own
    yaml.write_text(Path("deploy/alerting/alerting.yaml").read_text(encoding="utf-8").replace(
        '{type: webhook, url: "http://127.0.0.1:18091/webhook/county-150104", '
        'secret: local-webhook-secret}', f'{{type: dingtalk, url: "{COUNTY_ROBOT}", '
        'secret: SECcounty}'), encoding="utf-8")
    svc, box = service(tmp_path, load_alerting(yaml))
    feed(svc, warning(1), T0)
    svc.step(T0)
    svc.robots[_rid(Channel(type="dingtalk", url=COUNTY_ROBOT))] = RobotUse(
        throttled_until=T0 + 10 * MIN)
    svc.step(T0 + 5 * MIN)  # 签收 missed: the county 督办
    told = {c for c, _, _ in box.supervised}
    assert "dingtalk" not in told and {"sms", "email"} <= told
    assert [c.type for c, _, _, _ in svc.outbox] == ["dingtalk"]
    svc.step(T0 + 10 * MIN + 1000)
    assert "dingtalk" in {c for c, _, _ in box.supervised} and not svc.outbox
    (tmp_path / "b").mkdir()
    svc2, box2 = service(tmp_path / "b")
    feed(svc2, warning(1), T0)
    svc2.step(T0)
    empty: Bucket = (0.0, T0 + 5 * MIN)
    for k in list(svc2.buckets):
        svc2.buckets[k] = empty  # nothing left when the 督办 is due
    svc2.step(T0 + 5 * MIN)
    held = {m.delivery_id.split("|", 1)[-1] for _, m, _, _ in svc2.outbox}
    assert held and held <= set(svc2.buckets)
    assert not {m.delivery_id for _, _, m in box2.supervised} & {
        m.delivery_id for _, m, _, _ in svc2.outbox}
    svc2.step(T0 + 5 * MIN + 10_000)  # refilled (30 a minute by default)
    assert not svc2.outbox


def test_a_supervision_reaches_a_signed_webhook_over_real_http() -> None:
    """A 督办's delivery id has Chinese (`W…:督办1|…`): the X-HW-Delivery header is sent
    percent-encoded (headers are Latin-1; before, sending failed with UnicodeEncodeError), the
    body keeps the id as it is and the signature checks."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import unquote

    from hazardwatch.alerting.channels.base import Message
    from hazardwatch.alerting.channels.webhook import send_webhook, signature

    got: list[tuple[str, dict[str, str], bool]] = []

    class Desk(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            ok = self.headers["X-HW-Signature"] == "sha256=" + signature(
                "s3", self.headers["X-HW-Timestamp"], raw)
            got.append((self.headers["X-HW-Delivery"], json.loads(raw), ok))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Desk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    did = "W1:督办2|drill-desk.webhook.ab"
    try:
        send_webhook(Channel(type="webhook", url=f"http://127.0.0.1:{server.server_port}/d",
                             secret="s3"),
                     Message(did, "【督办】", "【督办】市级督办", "", {"kind": "supervise"}))
    finally:
        server.shutdown()
    (header, body, ok), = got
    assert ok and unquote(header) == did and header.isascii()
    assert body["delivery_id"] == did and body["kind"] == "supervise"
