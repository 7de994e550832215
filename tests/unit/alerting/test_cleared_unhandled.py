"""A warning that clears by itself before anyone takes it up keeps its workflow deadlines
(injected clock): its missed 签收 gets a county 督办 and is pushed to the city as for an
active one, its missed 处置 likewise, also after a restart of the alerting service that reads
the shared changelog back; only its 销号 ends it (before, it was dropped once its resolved
notice was out, and nobody was ever asked about it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hazardwatch.alerting.changelog import ChangelogStore
from hazardwatch.alerting.service import AlertingService
from tests.unit.alerting.test_changelog import Log
from tests.unit.alerting.test_service import CAT, CFG, MIN, T0, Outbox, feed, service, warning


def _supervised(events: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in events if e["action"] == "supervise"]


def test_a_cleared_warning_nobody_took_up_is_supervised_and_pushed_to_the_city(
        tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    events: list[dict[str, Any]] = []
    svc.emit = events.append
    w = warning(1)
    feed(svc, w, T0)
    svc.step(T0)
    feed(svc, warning(1, "cleared", ts=T0 + MIN), T0 + MIN)  # cleared by itself after 1 min
    for t in (T0 + MIN, T0 + 2 * MIN, T0 + 5 * MIN - 1):
        svc.step(t)  # the resolved notice goes out; nothing is due yet
    assert any(m.data["kind"] == "resolved" for _, _, m in box.sent)
    assert _supervised(events) == [] and w.warning_id in svc.alerts
    svc.step(T0 + 5 * MIN)  # its 签收 deadline (一级: 5 min)
    assert _supervised(events) == ["county"]
    assert "超时未签收" in box.supervised[-1][2].text
    svc.step(T0 + 35 * MIN)  # the county's 督办 unanswered for 30 min
    assert _supervised(events) == ["county", "city"]
    svc.act("ack", w.warning_id, "张三", T0 + 36 * MIN)
    svc.act("verify", w.warning_id, "张三", T0 + 37 * MIN, verdict="false_alarm", note="波动")
    svc.act("resolve", w.warning_id, "张三", T0 + 38 * MIN, "短时波动", "复核确认误报")
    a = svc.alerts[w.warning_id]
    assert all(not s.pending for s in a.supervisions)
    svc.act("close", w.warning_id, "李四", T0 + 39 * MIN)
    svc.step(T0 + 500 * MIN)
    assert _supervised(events) == ["county", "city"] and w.warning_id not in svc.alerts


def test_a_cleared_warning_acknowledged_but_not_handled_is_supervised_for_its_handling(
        tmp_path: Path) -> None:
    svc, _ = service(tmp_path)
    events: list[dict[str, Any]] = []
    svc.emit = events.append
    w = warning(2)
    feed(svc, w, T0)
    svc.act("ack", w.warning_id, "张三", T0 + MIN)
    svc.act("verify", w.warning_id, "张三", T0 + 2 * MIN, verdict="real")
    feed(svc, warning(2, "cleared", ts=T0 + 3 * MIN), T0 + 3 * MIN)
    svc.step(T0 + 60 * MIN - 1)
    assert _supervised(events) == []
    svc.step(T0 + 60 * MIN)  # 二级: 处置 within 60 min
    assert _supervised(events) == ["county"]
    assert svc.alerts[w.warning_id].missed == ["handle"]


def _changelog_service(log: Log) -> tuple[AlertingService, ChangelogStore, Outbox]:
    box = Outbox()
    store = ChangelogStore(log, "t", 4)
    senders = {k: box.sender(k) for k in ("webhook", "dingtalk", "wecom", "feishu", "email",
                                          "sms", "voice")}
    return AlertingService(CFG, CAT, store, senders), store, box


def test_a_cleared_unhandled_warning_keeps_its_deadlines_across_a_restart() -> None:
    """The first instance sees the warning raised and cleared and sends the resolved notice,
    then stops; a new one reads the changelog back, adopts the alert and opens the 督办 when
    the 签收 deadline passes (before, the first instance had written the alert's tombstone)."""
    log = Log()
    first, _, _ = _changelog_service(log)
    w = warning(1)
    feed(first, w, T0)
    first.step(T0)
    feed(first, warning(1, "cleared", ts=T0 + MIN), T0 + MIN)
    for t in (T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN):
        first.step(t)
    assert first.alerts[w.warning_id].done  # the resolved notice is out
    second, store, box = _changelog_service(log)
    log.replay(store)
    second.adopt(store.owned_by({0, 1, 2, 3}))
    assert list(second.alerts) == [w.warning_id]
    events: list[dict[str, Any]] = []
    second.emit = events.append
    second.step(T0 + 4 * MIN)
    assert _supervised(events) == [] and box.sent == []  # nothing told twice
    second.step(T0 + 5 * MIN)
    assert _supervised(events) == ["county"]
    assert [s.admin for s in second.alerts[w.warning_id].supervisions] == ["county"]
