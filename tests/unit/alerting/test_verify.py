"""The separate 核查 step (POST …/verify): verdict and note through the real HTTP API, kept on
the alert and in the detail, emitted on hw.alert-actions and written by the sink, a precise
400 for an unknown verdict, 409 once given or after the 处置; its deadline no longer missed
once it is given (the workflow's verify_s); the 处置 keeps its verdict; 误报占比 and the
shift report read it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hazardwatch.alerting.accounts import Role, Scope
from hazardwatch.alerting.api import serve
from hazardwatch.alerting.users import UserFile
from hazardwatch.alerting.web.context import ConsoleOptions
from hazardwatch.alerting.workflow.config import WorkflowConfig
from hazardwatch.alerting.workflow.track import case_of, track
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.reports.shift import WarningLine
from hazardwatch.stack.process import free_port
from hazardwatch.streams.sinks.line_protocol import alert_action
from tests.unit.alerting.test_service import feed, service, warning
from tests.unit.alerting.test_web import login

PW = "pw-0123456789abcdef"
CAT = load_catalog("deploy/catalog/demo.yaml")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Any, str, list[dict[str, Any]]]]:
    svc, _ = service(tmp_path)
    events: list[dict[str, Any]] = []
    svc.emit = events.append
    users = UserFile(tmp_path / "users.json")
    users.add("值班员甲", Role.DUTY, Scope(), PW, int(time.time() * 1000))
    users.add("只读丙", Role.READONLY, Scope(), PW, int(time.time() * 1000))
    server = serve(svc, "127.0.0.1", free_port(), ConsoleOptions(users=tmp_path / "users.json"))
    try:
        yield svc, f"http://127.0.0.1:{server.server_port}", events
    finally:
        server.shutdown()


def test_verify_through_the_api_then_the_handling_keeps_its_verdict(api: Any) -> None:
    svc, base, events = api
    now = int(time.time() * 1000)
    w = warning(2, started=now, ts=now)
    feed(svc, w, now)
    url = f"{base}/api/warnings/{w.warning_id}"
    duty, ro = login(base, "值班员甲", PW), login(base, "只读丙", PW)
    r = duty.post(f"{url}/verify", json={"verdict": "maybe"}, timeout=5)
    assert r.status_code == 400 and "verdict" in r.json()["error"]
    assert ro.post(f"{url}/verify", json={"verdict": "real"}, timeout=5).status_code == 403
    r = duty.post(f"{url}/verify", json={"verdict": "sensor_fault", "note": "探头进水"},
                  timeout=5)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["verdict"], got["verify_note"], got["verified_by"]) == (
        "sensor_fault", "探头进水", "值班员甲")
    assert got["acked_at"] == got["verified_at"]  # a 核查 acknowledges too
    detail = duty.get(url, timeout=5).json()
    assert detail["verified_at"] == got["verified_at"]
    r = duty.post(f"{url}/verify", json={"verdict": "real"}, timeout=5)
    assert (r.status_code, r.json()["error"]) == (409, "该预警已核查反馈(值班员甲)")
    (ev,) = [e for e in events if e["action"] == "verify"]
    assert (ev["verdict"], ev["note"], ev["who"]) == ("sensor_fault", "探头进水", "值班员甲")
    line = alert_action(ev)
    assert line.startswith(f"alert_action,action=verify,level=2,warning_id={w.warning_id} ")
    assert 'verdict="sensor_fault"' in line and 'note="探头进水"' in line
    r = duty.post(f"{url}/resolve", json={"cause": "探头进水", "action": "更换探头"}, timeout=5)
    assert r.status_code == 200 and r.json()["verdict"] == "sensor_fault"  # kept
    (res,) = [e for e in events if e["action"] == "resolve"]
    assert res["verdict"] == "sensor_fault"
    r = duty.post(f"{url}/verify", json={"verdict": "real"}, timeout=5)
    assert (r.status_code, r.json()["error"]) == (409, "该预警已处置,核查反馈随处置给出")


def test_a_verified_warning_does_not_miss_its_verify_deadline(api: Any) -> None:
    svc, _, _ = api
    cfg = WorkflowConfig()
    now = int(time.time() * 1000)
    w = warning(1, started=now, ts=now)  # level 1: 签收 5 min, 核查 15 min, 处置 30 min
    feed(svc, w, now)
    svc.act("verify", w.warning_id, "值班员甲", now + 60_000, verdict="real", note="现场确认")
    a = svc.alerts[w.warning_id]
    c = case_of(a, CAT)
    assert c.verified == ("值班员甲", now + 60_000, "real", "现场确认")
    assert track(a, CAT, cfg, now + 16 * 60_000) == [] and a.missed == []
    notices = track(a, CAT, cfg, now + 31 * 60_000)  # 处置 still missing: a 督办
    assert a.missed == ["handle"] and len(notices) >= 1


def test_the_shift_report_shows_the_verdict() -> None:
    line = WarningLine("w", 1, "m", "tf", 0, verified_at=5, verdict="false_alarm", acked_at=5)
    assert line.state == "已核查·误报"
    done = WarningLine("w", 1, "m", "tf", 0, cleared_at=9, handled_at=8, verdict="real")
    assert done.state == "已处置·属实"
