"""The service runs the workflow's deadlines: a 一级 warning nobody acknowledges gets a county
督办 at 5 min, pushed to the city when unanswered at 35 min; the 处置 answers it and stops
the push; every 督办 is an event on hw.alert-actions (injected clock: `step(now)`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hazardwatch.streams.sinks.line_protocol import alert_action
from tests.unit.alerting.test_service import T0, feed, service, warning

MIN = 60_000


def test_deadline_missed_then_pushed_to_the_city_then_answered(tmp_path: Path) -> None:
    svc, _ = service(tmp_path)
    events: list[dict[str, Any]] = []
    svc.emit = events.append
    w = warning(1)
    feed(svc, w, T0)
    svc.step(T0 + 5 * MIN - 1)
    assert [e for e in events if e["action"] == "supervise"] == []
    svc.step(T0 + 5 * MIN)
    a = svc.alerts[w.warning_id]
    assert [(s.admin, s.to_region, s.from_region) for s in a.supervisions] == [
        ("county", "site:tf-hohhot-01", "region:150104")]
    svc.step(T0 + 35 * MIN)
    assert [s.admin for s in a.supervisions] == ["county", "city"]
    sup = [e for e in events if e["action"] == "supervise"]
    assert [e["kind"] for e in sup] == ["county", "city"] and "市级督办" in sup[1]["reason"]
    assert alert_action(sup[1]).startswith("alert_action,action=supervise,level=1,kind=city")
    assert f"deadline={sup[1]['deadline']}i" in alert_action(sup[1])
    svc.act("resolve", w.warning_id, "张三", T0 + 40 * MIN, "探头故障", "更换探头")
    assert all(not s.pending for s in a.supervisions)
    assert a.supervisions[1].answer == "探头故障;更换探头"
    svc.step(T0 + 500 * MIN)
    assert len([e for e in events if e["action"] == "supervise"]) == 2  # no further push


def test_acknowledged_and_handled_in_time_no_supervision(tmp_path: Path) -> None:
    svc, _ = service(tmp_path)
    w = warning(2)
    feed(svc, w, T0)
    svc.act("ack", w.warning_id, "张三", T0 + 2 * MIN)
    svc.act("resolve", w.warning_id, "张三", T0 + 20 * MIN, "误报", "复位", "false_alarm")
    svc.step(T0 + 1000 * MIN)
    assert svc.alerts[w.warning_id].supervisions == []
