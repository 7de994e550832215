"""Decisions re-checked at send time (group flush and every retry), with an injected clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hazardwatch.alerting.channels.base import Retryable
from hazardwatch.alerting.pipeline import View, decide
from hazardwatch.alerting.stages.ratelimit import take
from hazardwatch.alerting.stages.reason import Reason
from hazardwatch.alerting.state import Alert, Silence, acknowledge, apply_warning, handle
from tests.unit.alerting.test_service import MIN, T0, S, feed, service, warning


def _ids(box: Any) -> list[str]:
    return [w["warning_id"] for _, _, m in box.sent for w in m.data["warnings"]]


def test_acknowledged_during_the_group_window_sends_nothing_and_never_repeats(
        tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    w = warning(3)  # root route: grouped for 30 s, repeated every 10 min
    feed(svc, w, T0)
    svc.step(T0)
    svc.act("ack", w.warning_id, "值班员", T0 + 5 * S)
    for t in (30 * S, 11 * MIN, 25 * MIN):
        svc.step(T0 + t)
    assert box.sent == []


def test_silenced_during_the_group_window_sends_nothing(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    svc, box = service(tmp_path)
    svc.emit = events.append
    w = warning(3)
    feed(svc, w, T0)
    svc.step(T0)
    svc.silence(Silence("s1", T0 + 5 * S, T0 + 60 * MIN, "管理员", "检修", site="tf-hohhot-01"))
    svc.step(T0 + 30 * S)
    svc.step(T0 + 11 * MIN)
    assert box.sent == []
    assert {e.get("reason") for e in events if e["action"] == "suppressed"} == {"silenced"}


def test_inhibited_by_a_new_red_during_a_retry_is_not_sent(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    svc, box = service(tmp_path)
    svc.emit = events.append
    orange = warning(2, sensor="T101-GAS2")
    feed(svc, orange, T0)
    svc.step(T0)
    box.fail["dingtalk"] = Retryable("HTTP 503")
    svc.step(T0 + 10 * S)  # group flushed; DingTalk fails, retry in 1 s
    del box.fail["dingtalk"]
    red = warning(1, sensor="T101-GAS1", rule="combo", ts=T0 + 10 * S + 500)
    feed(svc, red, T0 + 10 * S + 500)
    svc.step(T0 + 10 * S + 500)
    svc.step(T0 + 12 * S)
    dingtalk = [w["warning_id"] for c, _, m in box.sent if c == "dingtalk"
                for w in m.data["warnings"]]
    assert red.warning_id in dingtalk and orange.warning_id not in dingtalk
    assert any(e["action"] == "suppressed" and e["warning_id"] == orange.warning_id
               and e["reason"] == "inhibited_level1" and e["channel"] == "dingtalk"
               for e in events)


def test_resolved_notice_only_to_people_actually_told(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    svc.silence(Silence("s1", T0, T0 + 60 * MIN, "管理员", "检修", site="tf-hohhot-01"))
    w = warning(3)
    feed(svc, w, T0)
    svc.step(T0 + 30 * S)
    feed(svc, warning(3, "cleared", ts=T0 + MIN), T0 + MIN)
    svc.step(T0 + MIN)
    svc.step(T0 + 2 * MIN)
    assert box.sent == [] and list(svc.alerts) == [w.warning_id]  # kept until its 销号


def test_resolved_notice_goes_to_the_person_told_even_after_the_shift_changed(
        tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    evening = T0 + 50 * MIN  # 19:56 local: the day shift is on duty
    feed(svc, warning(1, started=evening, ts=evening), evening)
    svc.step(evening)
    day = {to for c, to, _ in box.sent if c == "dingtalk"}
    box.sent.clear()
    later = evening + 10 * MIN  # 20:06: the night shift is on duty now
    feed(svc, warning(1, "cleared", started=evening, ts=later), later)
    svc.step(later)
    assert {to for c, to, _ in box.sent if c == "dingtalk"} == day
    assert "wecom" not in {c for c, _, _ in box.sent}  # the night officer was never told


def _alert(level: int, **kw: Any) -> Alert:
    return apply_warning(None, warning(level, **kw), "r", T0)


def test_each_stage_gives_its_reason_in_pipeline_order() -> None:
    a = _alert(2, sensor="T101-GAS2")
    red = _alert(1, sensor="T101-GAS1", rule="combo")
    quiet = Silence("s", T0, T0 + MIN, "x", "y", site="tf-hohhot-01")
    view = View({"a": a}, [], lambda _d: False)
    assert decide("d", a, "alert", view, T0) is None
    assert decide("d", a, "alert", View({"a": a, "r": red}, [], lambda _d: False),
                  T0) is Reason.INHIBITED_LEVEL1
    assert decide("d", a, "alert", View({"a": a}, [quiet], lambda _d: False),
                  T0) is Reason.SILENCED
    assert decide("d", a, "alert", View({"a": a}, [quiet], lambda _d: False),
                  T0 + MIN) is None  # the silence ended
    assert decide("d", a, "alert", View({"a": a}, [], lambda _d: True), T0) is Reason.DELIVERED
    acknowledge(a, "x", T0)
    assert decide("d", a, "repeat", View({"a": a, "r": red}, [quiet], lambda _d: False),
                  T0) is Reason.ACKNOWLEDGED  # first stage wins
    assert decide("d", a, "reminder", view, T0) is None
    handle(a, "x", "c", "t", T0)
    assert decide("d", a, "reminder", view, T0) is Reason.HANDLED
    a.cleared_at = T0
    assert decide("d", a, "repeat", view, T0) is Reason.CLEARED
    assert decide("d", a, "resolved", View({"a": a}, [quiet], lambda _d: False), T0) is None


def test_token_bucket_refills_with_time() -> None:
    ok, b = take(None, 2, T0)
    ok2, b = take(b, 2, T0)
    ok3, b = take(b, 2, T0 + 1)
    assert (ok, ok2, ok3) == (True, True, False)
    ok4, _ = take(b, 2, T0 + 30 * S)
    assert ok4 and not Reason.RATE_LIMITED.final and Reason.SILENCED.final
