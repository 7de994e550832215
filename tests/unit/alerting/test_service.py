"""The alerting pipeline with an injected clock and recording channels (no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from hazardwatch.alerting.channels.base import Message, Permanent, Retryable
from hazardwatch.alerting.config import AlertingConfig, Channel, load_alerting
from hazardwatch.alerting.links import make_token, verify
from hazardwatch.alerting.service import AlertingService
from hazardwatch.alerting.state import Silence
from hazardwatch.alerting.store import Store
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.warnings import WarningRecord, warning_id

CAT = load_catalog("deploy/catalog/demo.yaml")
CFG = load_alerting()
T0 = 1_795_000_000_000  # 2026-11-19 08:26 local: the day shift is on duty
S, MIN = 1000, 60_000


def warning(level: int, transition: str = "raised", site: str = "tf-hohhot-01",
            sensor: str | None = "T101-GAS1", rule: str = "tank_farm.gas.threshold",
            started: int = T0, ts: int = T0, drill: bool = False, device: str = "gds-01",
            vehicle: str | None = None) -> WarningRecord:
    subject = f"vehicle:{vehicle}" if vehicle else f"sensor:{site}/{sensor}" if sensor else \
        f"device:{site}/{device}"
    return WarningRecord(
        warning_id=warning_id(rule, subject, started), transition=transition,  # type: ignore[arg-type]
        ts=ts, level=level, colour="red", rule=rule, kind="threshold",
        site_id=None if vehicle else site, device_id=None if vehicle else device, sensor=sensor,
        vehicle_id=vehicle, value=1.0, threshold=1.0, unit="%", started_at=started,
        message=f"测试预警 {rule}", drill=drill)


class Outbox:
    """Records every message per channel type (【督办】 texts apart); can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Message]] = []
        self.supervised: list[tuple[str, str, Message]] = []  # the 督办 texts (workflow)
        self.fail: dict[str, Exception] = {}

    def sender(self, kind: str) -> Any:
        def send(ch: Channel, m: Message) -> None:
            if kind in self.fail:
                raise self.fail[kind]
            out = self.supervised if m.data.get("kind") == "supervise" else self.sent
            out.append((kind, ch.to or ch.url or "", m))
        return send

    def kinds(self) -> list[tuple[str, str]]:
        """(channel, kind) of the routed notices (not the SMS/voice fallbacks)."""
        return [(c, m.data["kind"]) for c, _, m in self.sent if ":fallback@" not in m.delivery_id]


def service(tmp_path: Path, cfg: AlertingConfig = CFG) -> tuple[AlertingService, Outbox]:
    box = Outbox()
    senders = {k: box.sender(k) for k in ("webhook", "dingtalk", "wecom", "feishu", "email",
                                          "sms", "voice")}
    return AlertingService(cfg, CAT, Store(tmp_path / "a.db"), senders), box


def feed(svc: AlertingService, w: WarningRecord, now: int) -> None:
    with svc.store.tx():
        svc.on_warning(w, now)


def test_level_1_goes_to_officer_principal_and_park_at_once_then_repeats_then_leader(
        tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    feed(svc, warning(1), T0)
    svc.step(T0)
    # day shift officer: DingTalk + SMS; 主要负责人 张伟: SMS + e-mail; park centre: webhook
    assert sorted(box.kinds()) == sorted([("dingtalk", "alert"), ("sms", "alert"),
                                          ("sms", "alert"), ("email", "alert"),
                                          ("webhook", "alert")])
    assert "+86 13900000001" in [to for _, to, _ in box.sent]  # from the catalog
    box.sent.clear()
    svc.step(T0 + 4 * MIN)
    assert box.sent == []
    svc.step(T0 + 5 * MIN)
    assert {k for _, k in box.kinds()} == {"repeat"} and len(box.sent) == 5
    box.sent.clear()
    svc.step(T0 + 15 * MIN)  # leader step due; repeats of step 0 too (every 5 min)
    assert sorted(box.kinds()) == sorted([("feishu", "alert"), ("email", "alert"),
                                          *[(c, "repeat") for c in ("dingtalk", "sms", "sms",
                                                                    "email", "webhook")]])


def test_acknowledgement_stops_escalation_and_a_reminder_follows_if_not_handled(
        tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    w = warning(1)
    feed(svc, w, T0)
    svc.step(T0)
    svc.act("ack", w.warning_id, "值班员", T0 + MIN)
    box.sent.clear()
    svc.step(T0 + 20 * MIN)
    assert box.sent == []  # no repeat, no leader
    svc.step(T0 + 31 * MIN)  # reminder_s 1800 after the ack
    assert {k for _, k in box.kinds()} == {"reminder"}
    assert "已由值班员确认" in box.sent[0][2].text
    box.sent.clear()
    svc.act("resolve", w.warning_id, "值班员", T0 + 32 * MIN, "阀门密封失效", "关闭阀门并堵漏")
    svc.step(T0 + 70 * MIN)
    assert box.sent == []
    assert svc.stats()["ack.level1"]["mean_s"] == 60.0
    assert svc.stats()["handle.level1"]["mean_s"] == 32 * 60.0


def test_resolved_notice_goes_to_everyone_notified_and_the_alert_archived_once_closed(
        tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    w = warning(1)
    feed(svc, w, T0)
    svc.step(T0)
    n = len(box.sent)
    box.sent.clear()
    feed(svc, warning(1, "cleared", ts=T0 + 2 * MIN), T0 + 2 * MIN)
    svc.step(T0 + 2 * MIN)
    assert {k for _, k in box.kinds()} == {"resolved"} and len(box.sent) == n
    assert "预警解除" in box.sent[0][2].title
    svc.step(T0 + 3 * MIN)  # nobody handled it: kept for its deadlines until its 销号
    assert set(svc.alerts) == set(svc.store.alerts()) == {w.warning_id}
    svc.act("resolve", w.warning_id, "张三", T0 + 4 * MIN, "短时波动", "复核")
    svc.act("close", w.warning_id, "李四", T0 + 5 * MIN)
    svc.step(T0 + 6 * MIN)
    assert svc.alerts == {} and svc.store.alerts() == {}


def test_a_repeated_record_does_not_notify_twice_and_a_restart_resumes_without_repeats(
        tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    w = warning(1)
    feed(svc, w, T0)
    svc.step(T0)
    feed(svc, w, T0 + 10 * S)  # at-least-once redelivery
    svc.step(T0 + 10 * S)
    first = len(box.sent)
    again, box2 = service(tmp_path)  # a new process on the same state
    again.step(T0 + 20 * S)
    assert len(box.sent) == first and box2.sent == []
    again.step(T0 + 5 * MIN)
    assert len(box2.sent) == first and {k for _, k in box2.kinds()} == {"repeat"}


def test_storm_control_groups_one_sites_transitions_into_one_message(tmp_path: Path) -> None:
    svc, box = service(tmp_path)  # level 2: group_wait 10 s
    for i, sensor in enumerate(["T101-GAS1", "T101-GAS2", "T102-NH3"]):
        feed(svc, warning(2, sensor=sensor, ts=T0 + i * S, started=T0 + i * S), T0 + i * S)
        svc.step(T0 + i * S)
    assert box.sent == []
    svc.step(T0 + 10 * S)
    dingtalk = [m for c, _, m in box.sent if c == "dingtalk"]
    assert len(dingtalk) == 1 and len(dingtalk[0].data["warnings"]) == 3
    assert "等3条" in dingtalk[0].title


def test_a_level_1_warning_joining_a_waiting_group_is_sent_at_once(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    feed(svc, warning(2, sensor="T101-GAS2"), T0)
    svc.step(T0)  # level 2: waits 10 s for more of this site
    feed(svc, warning(1, sensor="T101-GAS1", rule="combo"), T0 + S)
    svc.step(T0 + S)
    officer = [m for c, _, m in box.sent if c == "dingtalk"]  # in both routes
    # the group goes at once; the waiting 橙 is inhibited at send time by the site's new 红
    assert len(officer) == 1 and [w["level"] for w in officer[0].data["warnings"]] == [1]


def test_inhibition_by_a_level_1_site_and_by_an_offline_device(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    feed(svc, warning(1, sensor="T101-GAS2", rule="combo"), T0)
    feed(svc, warning(3, sensor="T101-GAS1"), T0)
    svc.step(T0 + MIN)
    assert all(len(m.data["warnings"]) == 1 and m.data["warnings"][0]["level"] == 1
               for _, _, m in box.sent)
    svc2, box2 = service(tmp_path / "b")
    feed(svc2, warning(4, sensor=None, rule="device.offline"), T0)
    feed(svc2, warning(3, sensor="T101-GAS1"), T0)
    svc2.step(T0 + MIN)
    svc2.step(T0 + 2 * MIN)  # level 4: the root route groups for 30 s
    rules = {m.data["warnings"][0]["rule"] for _, _, m in box2.sent}
    assert rules == {"device.offline"}


def test_silence_holds_back_matching_notifications(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    svc.silence(Silence("s1", T0, T0 + 60 * MIN, "管理员", "检修", site="tf-hohhot-01"))
    feed(svc, warning(2), T0)
    svc.step(T0 + MIN)
    svc.step(T0 + 2 * MIN)
    assert box.sent == []
    feed(svc, warning(2, site="cm-ordos-01", sensor="WF3102-T1", device="kj-sub-01"), T0)
    svc.step(T0 + 3 * MIN)
    svc.step(T0 + 4 * MIN)
    assert {m.data["warnings"][0]["site_id"] for _, _, m in box.sent} == {"cm-ordos-01"}


@pytest.mark.parametrize("route_level", [1, 2, 3])
def test_drill_warnings_reach_only_drill_receivers_under_any_route(
        tmp_path: Path, route_level: int) -> None:
    svc, box = service(tmp_path)
    feed(svc, warning(route_level, drill=True), T0)
    svc.step(T0 + MIN)
    svc.step(T0 + 2 * MIN)  # after any group window
    assert [(c, to) for c, to, _ in box.sent] == [("webhook",
                                                    "http://127.0.0.1:18095/drill-desk")]
    assert box.sent[0][2].title.startswith("【演练】")


def test_misconfigured_drill_receiver_in_a_route_still_gets_no_drill_traffic(
        tmp_path: Path) -> None:
    cfg = msgspec.structs.replace(CFG, route=msgspec.structs.replace(CFG.route, routes=[]))
    svc, box = service(tmp_path, cfg)
    feed(svc, warning(3, drill=False), T0)
    svc.step(T0 + MIN)
    assert all("drill-desk" not in to for _, to, _ in box.sent)


def test_retryable_failures_back_off_and_permanent_ones_are_not_retried(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    box.fail["dingtalk"] = Retryable("HTTP 503")
    box.fail["sms"] = Permanent("HTTP 400")
    feed(svc, warning(2), T0)
    svc.step(T0)  # level 2: grouped for 10 s
    svc.step(T0 + 10 * S)  # day shift officer: DingTalk fails (retryable), SMS (permanent)
    assert box.sent == []
    del box.fail["dingtalk"]
    svc.step(T0 + 10 * S + 500)
    assert box.sent == []  # backing off
    svc.step(T0 + 11 * S)  # backoff 1 s
    assert [c for c, _, _ in box.sent] == ["dingtalk"]
    svc.step(T0 + 60 * S)
    assert [c for c, _, _ in box.sent] == ["dingtalk"]  # sms failed for good


def test_per_receiver_rate_limit_delays_the_excess(tmp_path: Path) -> None:
    cfg = msgspec.structs.replace(CFG, route=msgspec.structs.replace(
        CFG.route, routes=[], group_wait_s=0, rate_per_min=1))
    svc, box = service(tmp_path, cfg)
    for i, site in enumerate(["tf-hohhot-01", "cm-ordos-01", "td-baotou-01"]):
        feed(svc, warning(3, site=site, sensor=f"S{i}", started=T0 + i), T0)

    def dingtalk() -> int:
        return len([c for c, _, _ in box.sent if c == "dingtalk"])

    svc.step(T0)
    assert dingtalk() == 1
    svc.step(T0 + 30 * S)
    assert dingtalk() == 1
    svc.step(T0 + 60 * S)
    svc.step(T0 + 120 * S)
    assert dingtalk() == 3


def test_one_time_links_verify_and_expire() -> None:
    token = make_token("k", "W1", "张伟", T0)
    assert verify("k", token, T0 + MIN) == ("W1", "张伟")
    assert verify("other", token, T0) is None
    assert verify("k", token, T0 + 25 * 3600 * 1000) is None
    assert verify("k", token.split(".")[0] + "." + "0" * 32, T0) is None
