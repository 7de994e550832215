"""Chat robots' limits: a per-robot budget (20/min DingTalk), digests within the budget and
the body limit, the throttle after a breach respected, robot pools, error codes in a 200."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hazardwatch.alerting.channels import robots
from hazardwatch.alerting.channels.base import Message, Permanent, Retryable, Throttled
from hazardwatch.alerting.config import AlertingConfig, Channel, load_alerting
from hazardwatch.alerting.service import AlertingService
from hazardwatch.alerting.store import Store
from tests.unit.alerting.test_service import CAT, MIN, T0, S, feed, warning


def never(_c: Channel, _m: Message) -> None:
    """A channel that accepts everything."""


SITES = [("tf-hohhot-01", "gds-01"), ("cm-ordos-01", "kj-sub-01"), ("td-baotou-01", "d")]


def _cfg(tmp: Path, pool: str = "", extra: str = "") -> AlertingConfig:
    p = tmp / "alerting.yaml"
    p.write_text(f"""
version: 1
timezone: Asia/Shanghai
public_url: http://127.0.0.1:18090
link_secret: test-link-secret
api_tokens: {{t: x}}
people:
  - id: duty
    name: 值班员
    channels:
      - {{type: dingtalk, url: "http://127.0.0.1:1/robot/send?access_token=a", secret: s{pool}}}
  - id: lead
    name: 领导
    channels: [{{type: feishu, url: "http://127.0.0.1:1/hook/f", secret: s}}]
  - {{id: drill, name: 演练, channels: [{{type: webhook, url: "http://127.0.0.1:1/d"}}]}}
receivers:
  - {{id: duty, people: [duty]}}
  - {{id: lead, people: [lead]}}
  - {{id: drill, people: [drill], drill: true}}
drill_receivers: [drill]
route:
  name: root
  escalation: [{{after_s: 0, receivers: [duty]}}]
  repeat_s: 3600
  group_wait_s: 0
  rate_per_min: 1000
{extra}""", encoding="utf-8")
    return load_alerting(p, catalog=CAT)


class DingTalk:
    """A robot that behaves like DingTalk: 20 a minute, then throttled for 10 minutes."""

    def __init__(self, clock: list[int]) -> None:
        self.clock, self.breaches = clock, 0
        self.calls: list[tuple[int, str]] = []
        self.throttled_until = 0
        self.got: list[tuple[int, str, Message]] = []

    def __call__(self, ch: Channel, m: Message) -> None:
        now = self.clock[0]
        self.calls.append((now, str(ch.url)))
        if now < self.throttled_until:
            raise Throttled("130101 send too fast")
        recent = [t for t, url, _ in self.got if url == ch.url and t > now - MIN]
        if len(recent) >= 20:
            self.breaches += 1
            self.throttled_until = now + 10 * MIN
            raise Throttled("130101 send too fast")
        assert len(m.markdown.encode()) <= 20_000, "460101: body too big"
        self.got.append((now, str(ch.url), m))


def _run(tmp: Path, cfg: AlertingConfig, n: int, gap_ms: int, until_ms: int) -> DingTalk:
    clock = [T0]
    robot = DingTalk(clock)
    svc = AlertingService(cfg, CAT, Store(tmp / "a.db"), {
        "dingtalk": robot, "feishu": never, "webhook": never, "wecom": never, "email": never,
        "sms": never})
    t = T0
    while t <= T0 + until_ms:
        i = (t - T0) // gap_ms
        if (t - T0) % gap_ms == 0 and i < n:
            site, dev = SITES[i % 3]
            feed(svc, warning(3, site=site, device=dev, sensor=f"S{i}", started=t, ts=t), t)
        clock[0] = t
        svc.step(t)
        t += S
    robot.ids = {w["warning_id"] for _, _, m in robot.got  # type: ignore[attr-defined]
                 for w in m.data["warnings"]}
    return robot


def test_50_warnings_on_a_20_per_minute_dingtalk_robot_become_digests_within_budget(
        tmp_path: Path) -> None:
    robot = _run(tmp_path, _cfg(tmp_path), n=50, gap_ms=S, until_ms=3 * MIN)
    assert robot.breaches == 0, "the robot was sent more than 20 a minute"
    assert len(robot.ids) == 50  # every warning reached the group
    assert len(robot.got) < 50
    times = [t for t, _, _ in robot.got]
    assert all(sum(1 for u in times if t - MIN < u <= t) <= 20 for t in times)
    digest = max((m for _, _, m in robot.got), key=lambda m: len(m.data["warnings"]))
    assert len(digest.data["warnings"]) >= 20 and "等" in digest.title


def test_a_robot_pool_doubles_the_budget(tmp_path: Path) -> None:
    pool = ', pool: [{url: "http://127.0.0.1:1/robot/send?access_token=b", secret: s2}]'
    robot = _run(tmp_path, _cfg(tmp_path, pool), n=40, gap_ms=S, until_ms=2 * MIN)
    assert robot.breaches == 0 and len(robot.ids) == 40
    assert len(robot.got) == 40  # one message each: two robots take 40 a minute
    assert {url for _, url, _ in robot.got} == {"http://127.0.0.1:1/robot/send?access_token=a",
                                                "http://127.0.0.1:1/robot/send?access_token=b"}


def test_a_throttled_robot_is_left_alone_for_its_throttle_time(tmp_path: Path) -> None:
    clock = [T0]
    robot = DingTalk(clock)
    robot.throttled_until = T0 + 3 * MIN  # throttled by other traffic on the same robot
    cfg = _cfg(tmp_path)
    svc = AlertingService(cfg, CAT, Store(tmp_path / "a.db"), {
        "dingtalk": robot, "feishu": never, "webhook": never, "wecom": never, "email": never,
        "sms": never})
    feed(svc, warning(3), T0)
    for t in range(T0, T0 + 12 * MIN, S):
        clock[0] = t
        svc.step(t)
    assert [t for t, _ in robot.calls] == [T0, T0 + 10 * MIN]  # one try, then 10 min quiet
    assert len(robot.got) == 1


def test_a_digest_fits_the_body_limit_with_a_link_to_the_full_list(tmp_path: Path) -> None:
    clock = [T0]
    robot = DingTalk(clock)
    svc = AlertingService(_cfg(tmp_path), CAT, Store(tmp_path / "a.db"), {
        "dingtalk": robot, "feishu": never, "webhook": never, "wecom": never, "email": never,
        "sms": never})
    with svc.store.tx():
        for i in range(300):  # one site: one group, far more than 20,000 bytes
            svc.on_warning(warning(3, sensor=f"S{i}", started=T0 + i), T0)
    svc.step(T0)
    assert len(robot.got) == 1
    m = robot.got[0][2]
    assert len(m.markdown.encode()) <= 20_000 and "另有" in m.markdown
    assert "http://127.0.0.1:18090/list/" in m.markdown and len(m.data["warnings"]) == 300


@pytest.mark.parametrize(("send", "field", "code", "raised"), [
    (robots.send_feishu, "code", 9499, Throttled),  # "too many request" inside an HTTP 200
    (robots.send_feishu, "code", 19021, Permanent),
    (robots.send_dingtalk, "errcode", 130101, Throttled),
    (robots.send_dingtalk, "errcode", -1, Retryable),
    (robots.send_dingtalk, "errcode", 310000, Permanent),
    (robots.send_dingtalk, "errcode", 460101, Permanent),
    (robots.send_wecom, "errcode", 45009, Throttled),
    (robots.send_wecom, "errcode", 93000, Permanent),
])
def test_error_codes_in_a_200_answer_are_classified(
        monkeypatch: pytest.MonkeyPatch, send: Any, field: str, code: int,
        raised: type[Exception]) -> None:
    monkeypatch.setattr(robots, "post_json", lambda *_a, **_k: {field: code, "msg": "x"})
    with pytest.raises(raised) as exc:
        send(Channel(type="feishu", url="http://127.0.0.1:1/hook/SECRETKEY", secret="s"),
             Message("d", "t", "x", "x", {}))
    assert "SECRETKEY" not in str(exc.value)


def test_feishu_9499_in_a_200_is_retried_not_logged_as_sent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [{"code": 9499, "msg": "too many request"}, {"code": 0}]
    posted: list[int] = []

    def post(*_a: Any, **_k: Any) -> Any:
        posted.append(1)
        return answers.pop(0)

    monkeypatch.setattr(robots, "post_json", post)
    cfg = _cfg(tmp_path, extra="  routes: [{name: lead, match: {level_max: 3}, escalation: "
                                "[{after_s: 0, receivers: [lead]}]}]\n")
    events: list[dict[str, Any]] = []
    svc = AlertingService(cfg, CAT, Store(tmp_path / "a.db"), {
        "dingtalk": never, "feishu": robots.send_feishu, "webhook": never, "wecom": never,
        "email": never, "sms": never}, events.append)
    feed(svc, warning(3), T0)
    svc.step(T0)
    assert [e["action"] for e in events] == []  # not "notified": it was refused
    for t in range(T0 + S, T0 + 3 * MIN, S):
        svc.step(t)
    assert len(posted) == 2 and [e["action"] for e in events] == ["notified"]
