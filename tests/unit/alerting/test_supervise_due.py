"""The service looks at an alert's workflow deadlines only when the next one is due or the alert
changed (`AlertingService.due`, `Case.next_deadline`), so thousands of kept warnings cost a
dict look-up each per step; the 督办 it opens are exactly those of looking at every alert on
every step (a random timeline of warnings, clears and actions, compared step by step)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgspec

from hazardwatch.alerting.changelog import ChangelogStore
from hazardwatch.alerting.service import AlertingService
from hazardwatch.alerting.workflow.case import Case
from hazardwatch.alerting.workflow.config import WorkflowConfig
from tests.unit.alerting.test_service import CAT, MIN, T0, Outbox, feed, service, warning
from tests.unit.alerting.test_service import CFG as ALERTING

CFG = WorkflowConfig()


class Forgetful(dict[str, int]):
    """`due` switched off: every alert looked at on every step (the former way)."""

    def __setitem__(self, key: str, value: int) -> None:
        pass


def test_tick_does_nothing_before_the_next_deadline_and_something_at_it() -> None:
    """Each state of a case along its life: nothing happens at next_deadline − 1 ms, a step
    is missed or a 督办 opened or pushed at it; none after the 销号."""
    c = Case("W1", 2, "150104", T0, site_id="tf-hohhot-01")
    seen = []
    for _ in range(8):
        due = c.next_deadline(CFG)
        if due is None:
            break
        before = (set(c.missed), len(c.supervisions))
        assert c.tick(due - 1, CFG) == [] and (set(c.missed), len(c.supervisions)) == before
        c.tick(due, CFG)
        assert (set(c.missed), len(c.supervisions)) != before, due
        seen.append((due - T0) // MIN)
    # 签收 10 min (county 督办), 核查 30, 处置 60, the county's 30 min → city, city 60 → province
    assert seen == [10, 30, 40, 60, 100] and c.next_deadline(CFG) is None
    c.acked = ("张三", T0 + 101 * MIN)
    c.verified = ("张三", T0 + 102 * MIN, "real", "")
    c.handle("张三", "泄漏", "堵漏", T0 + 103 * MIN)
    c.clear(T0 + 110 * MIN)
    assert c.next_deadline(CFG) == T0 + 110 * MIN + 2 * 3600_000  # 二级: 销号 within 2 h
    c.close("李四", CFG.close_roles[0], T0 + 111 * MIN, CFG)
    assert c.next_deadline(CFG) is None


class Nowhere:
    """A changelog producer that keeps nothing (the service's state stays in memory)."""

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                partition: int = 0) -> None:
        pass


def _run(forget: bool, seed: int) -> list[tuple[int, str, str, str]]:
    box = Outbox()
    svc = AlertingService(ALERTING, CAT, ChangelogStore(Nowhere(), "t", 4), {
        k: box.sender(k) for k in ("webhook", "dingtalk", "wecom", "feishu", "email", "sms",
                                   "voice")})
    if forget:
        svc.due = Forgetful()
    events: list[dict[str, Any]] = []
    svc.emit = events.append
    rnd = random.Random(seed)
    ws = [warning(1 + i % 4, sensor=f"S{i}", started=T0 + i * 7_000, ts=T0 + i * 7_000,
                  site=("tf-hohhot-01", "cm-ordos-01", "td-baotou-01")[i % 3]) for i in range(24)]
    plan: list[tuple[int, str, int]] = []  # (at, what, which)
    for i, w in enumerate(ws):
        plan.append((w.ts, "raise", i))
        if rnd.random() < 0.7:
            plan.append((w.ts + rnd.randrange(1, 90) * MIN, "clear", i))
        t = w.ts
        for what in ("ack", "verify", "resolve", "close"):
            if rnd.random() < 0.5:
                break
            t += rnd.randrange(1, 50) * MIN
            plan.append((t, what, i))
    plan.sort()
    k = 0
    for now in range(T0, T0 + 30 * 3600_000, 30_000):  # a step every 30 s for 30 h
        while k < len(plan) and plan[k][0] <= now:
            at, what, i = plan[k]
            k += 1
            w = ws[i]
            if what == "raise":
                feed(svc, w, at)
            elif what == "clear":
                feed(svc, msgspec.structs.replace(w, transition="cleared", ts=at), at)
            else:
                svc.act(what, w.warning_id, "张三", at, "原因", "措施",
                        "real" if what in ("verify", "resolve") else "")
        svc.step(now)
    return [(int(str(e["at"])), str(e["warning_id"]), str(e["kind"]), str(e["reason"]))
            for e in events if e["action"] == "supervise"]


def test_the_service_opens_the_same_supervisions_as_when_it_looked_at_every_alert() -> None:
    for seed in (1, 2):
        remembered = _run(False, seed)
        every = _run(True, seed)
        assert remembered == every and len(every) > 10, seed
        kinds = {k for _, _, k, _ in every}
        assert {"county", "city"} <= kinds, kinds


def test_an_alert_is_not_looked_at_between_its_deadlines(tmp_path: Path) -> None:
    svc, _ = service(tmp_path)
    w = warning(2)
    feed(svc, w, T0)
    svc.step(T0)
    assert svc.due[w.warning_id] == T0 + 10 * MIN  # 二级: 签收 within 10 min
    calls = []
    real = AlertingService._supervise

    import hazardwatch.alerting.service as mod
    orig = mod.track_due

    def counting(*args: Any) -> Any:
        calls.append(args[3])
        return orig(*args)

    mod.track_due = counting  # type: ignore[assignment]
    try:
        for t in range(T0 + 1000, T0 + 10 * MIN, 30_000):
            real(svc, t)
        assert calls == []
        svc.act("ack", w.warning_id, "张三", T0 + 5 * MIN)  # a change: looked at again
        real(svc, T0 + 5 * MIN)
        assert calls == [T0 + 5 * MIN] and svc.due[w.warning_id] == T0 + 30 * MIN  # 核查
    finally:
        mod.track_due = orig  # type: ignore[assignment]
