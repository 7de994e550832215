"""The 销号 deadline (injected clock): `close_after_s` after the 销号 became possible (the
later of the clear and the 处置), a missed 销号 opens a county 督办 (超时未销号), pushed to
the city when unanswered; the 销号 answers it; validated configuration with our defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from hazardwatch.alerting.accounts import Role
from hazardwatch.alerting.workflow.case import Case
from hazardwatch.alerting.workflow.config import StepDeadlines, WorkflowConfig, load_workflow
from tests.unit.alerting.test_service import T0, feed, service, warning

CFG = WorkflowConfig()
MIN = 60_000
HOUR = 60 * MIN


def handled(level: int, at: int) -> Case:
    c = Case("W1", level, "150104", T0, site_id="tf-hohhot-01")
    c.ack("张三", T0)
    c.verify("张三", "real", "现场确认", T0)
    c.handle("张三", "阀门泄漏", "关阀更换密封", at)
    return c


@pytest.mark.parametrize(("level", "hours"), [(1, 1), (2, 2), (3, 8), (4, 24)])
@pytest.mark.parametrize(("cleared", "handled_at"), [(10 * MIN, 2 * MIN), (MIN, 20 * MIN)])
def test_a_late_close_opens_a_county_supervision_from_the_later_of_clear_and_handling(
        level: int, hours: int, cleared: int, handled_at: int) -> None:
    c = handled(level, T0 + handled_at)
    assert c.tick(T0 + 10_000 * HOUR, CFG) == []  # not cleared: the 销号 is not due
    c.clear(T0 + cleared)
    due = T0 + max(cleared, handled_at) + hours * HOUR
    assert c.close_deadline(CFG) == due
    assert c.tick(due - 1, CFG) == []
    (n,) = c.tick(due, CFG)
    assert n.kind == "督办" and "县级督办" in n.text and "超时未销号" in n.text
    (s,) = c.supervisions
    assert (s.admin, s.to_region, s.deadline) == ("county", "site:tf-hohhot-01", due + 30 * MIN)
    assert c.tick(due + 1, CFG) == []  # once


def test_an_unanswered_close_supervision_is_pushed_up_and_answered_by_the_close() -> None:
    c = handled(1, T0 + 2 * MIN)
    c.clear(T0 + 3 * MIN)
    due = T0 + 3 * MIN + HOUR
    assert len(c.tick(due, CFG)) == 1
    (city,) = c.tick(due + 30 * MIN, CFG)
    assert "市级督办" in city.text and [s.admin for s in c.supervisions] == ["county", "city"]
    c.close("李四", Role.COMMANDER, due + 40 * MIN, CFG)
    assert all(not s.pending and s.answer == "已销号" for s in c.supervisions)
    assert c.tick(due + 1000 * MIN, CFG) == []


def test_a_close_supervision_after_earlier_ones_answered_by_the_handling() -> None:
    """The 签收 was late (county 督办, answered by the 处置); the 销号 is late too: a new
    county 督办 for it, since the earlier one is no longer pending."""
    c = Case("W1", 1, "150104", T0, site_id="tf-hohhot-01")
    assert len(c.tick(T0 + 5 * MIN, CFG)) == 1
    c.ack("张三", T0 + 6 * MIN)
    c.verify("张三", "real", "", T0 + 7 * MIN)
    c.handle("张三", "原因", "措施", T0 + 8 * MIN)
    c.clear(T0 + 9 * MIN)
    assert c.tick(T0 + 9 * MIN + HOUR - 1, CFG) == []
    (n,) = c.tick(T0 + 9 * MIN + HOUR, CFG)
    assert "超时未销号" in n.text and [s.pending for s in c.supervisions] == [False, True]


def test_the_service_supervises_a_late_close_and_the_close_answers_it(tmp_path: Path) -> None:
    svc, box = service(tmp_path)
    events: list[dict[str, Any]] = []
    svc.emit = events.append
    w = warning(2)
    feed(svc, w, T0)
    svc.act("resolve", w.warning_id, "张三", T0 + 5 * MIN, "原因", "措施", "real")
    feed(svc, warning(2, "cleared", ts=T0 + 6 * MIN), T0 + 6 * MIN)
    due = T0 + 6 * MIN + 2 * HOUR
    svc.step(due - 1)
    assert [e for e in events if e["action"] == "supervise"] == []
    svc.step(due)
    (sup,) = [e for e in events if e["action"] == "supervise"]
    assert sup["kind"] == "county" and "超时未销号" in sup["reason"]
    assert "超时未销号" in box.supervised[-1][2].text
    a = svc.alerts[w.warning_id]
    assert a.missed == ["close"]
    svc.act("close", w.warning_id, "李四", due + MIN)
    assert [(s.pending, s.answer) for s in a.supervisions] == [(False, "已销号")]
    svc.step(due + 100 * HOUR)
    assert len([e for e in events if e["action"] == "supervise"]) == 1
    assert w.warning_id not in svc.alerts


def test_close_after_is_validated_with_a_default(tmp_path: Path) -> None:
    assert [CFG.steps[lv].close_after_s for lv in (1, 2, 3, 4)] == [
        3600, 7200, 8 * 3600, 24 * 3600]
    f = tmp_path / "wf.yaml"
    f.write_text("steps:\n" + "".join(
        f"  {lv}: {{ack_s: 10, verify_s: 15, handle_s: 20}}\n" for lv in (1, 2, 3)) +
        "  4: {ack_s: 10, verify_s: 15, handle_s: 20, close_after_s: 30}\n", encoding="utf-8")
    wf = load_workflow(f)
    assert [wf.steps[lv].close_after_s for lv in (1, 2, 3, 4)] == [86400, 86400, 86400, 30]
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"ack_s": 1, "verify_s": 1, "handle_s": 1, "close_after_s": 0},
                        StepDeadlines)
