"""销号 and 督办 by hand through the API: 销号 refused with the reason before the 处置, before
the warning cleared, for a 值班员 or a read-only account (403), done once by the 指挥长
afterwards, the handled and cleared warning listed as awaiting its 销号 until then; a 督办 by
hand (refused to a 值班员) with its own deadline, answered by the 处置."""

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
from hazardwatch.stack.process import free_port
from tests.unit.alerting.test_service import feed, service, warning
from tests.unit.alerting.test_web import login

PW = "pw-0123456789abcdef"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    svc, _ = service(tmp_path)
    users = UserFile(tmp_path / "users.json")
    now = int(time.time() * 1000)
    for name, role in (("值班员甲", Role.DUTY), ("指挥长乙", Role.COMMANDER),
                       ("只读丙", Role.READONLY)):
        users.add(name, role, Scope(), PW, now)
    server = serve(svc, "127.0.0.1", free_port(), ConsoleOptions(users=tmp_path / "users.json"))
    try:
        yield svc, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def test_close_only_after_handling_and_clearance_and_by_the_commander(api: Any) -> None:
    svc, base = api
    now = int(time.time() * 1000)
    w = warning(2, started=now, ts=now)
    feed(svc, w, now)
    url = f"{base}/api/warnings/{w.warning_id}"
    duty, boss, ro = (login(base, n, PW) for n in ("值班员甲", "指挥长乙", "只读丙"))
    r = boss.post(f"{url}/close", json={}, timeout=5)
    assert (r.status_code, r.json()["error"]) == (409, "预警尚未处置,不能销号")
    assert duty.post(f"{url}/resolve", json={"cause": "阀门密封失效", "action": "更换密封",
                                             "verdict": "real"}, timeout=5).status_code == 200
    r = boss.post(f"{url}/close", json={}, timeout=5)
    assert (r.status_code, r.json()["error"]) == (409, "预警尚未解除,不能销号")
    feed(svc, warning(2, transition="cleared", started=now, ts=now + 1), now + 1)
    r = duty.post(f"{url}/close", json={}, timeout=5)
    assert r.status_code == 403 and "值班员 无权" in r.json()["error"]
    assert ro.post(f"{url}/close", json={}, timeout=5).status_code == 403
    for t in (now + 2, now + 60_000):  # the resolved notice is out: a handled warning waits
        svc.step(t)  # for its 销号 (it used to be archived here)
    assert w.warning_id in svc.alerts
    closing = boss.get(f"{base}/api/warnings?state=closing", timeout=5).json()
    assert [r["warning"]["warning_id"] for r in closing] == [w.warning_id]
    assert boss.get(f"{base}/api/warnings", timeout=5).json() == []
    r = boss.post(f"{url}/close", json={}, timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["closed_by"] == "指挥长乙" and svc.alerts[w.warning_id].closed_at
    r = boss.post(f"{url}/close", json={}, timeout=5)
    assert (r.status_code, r.json()["error"]) == (409, "该预警已销号")
    assert boss.get(f"{base}/api/warnings?state=closing", timeout=5).json() == []
    svc.step(now + 61_000)
    assert w.warning_id not in svc.alerts  # closed: archived


def test_supervision_by_hand_through_the_api_is_answered_by_the_handling(api: Any) -> None:
    svc, base = api
    now = int(time.time() * 1000)
    w = warning(3, started=now, ts=now)
    feed(svc, w, now)
    url = f"{base}/api/warnings/{w.warning_id}"
    boss, duty = login(base, "指挥长乙", PW), login(base, "值班员甲", PW)
    r = duty.post(f"{url}/supervise", json={"admin": "city"}, timeout=5)
    assert r.status_code == 403 and svc.alerts[w.warning_id].supervisions == []
    assert boss.post(f"{url}/supervise", json={"admin": "town"}, timeout=5).status_code == 400
    assert boss.post(f"{url}/supervise", json={"admin": "city", "deadline_s": -1},
                     timeout=5).status_code == 400
    r = boss.post(f"{url}/supervise", json={"admin": "city", "deadline_s": 600}, timeout=5)
    assert r.status_code == 200, r.text
    (s,) = svc.alerts[w.warning_id].supervisions
    assert (s.admin, s.by_hand, s.opened_by, s.from_region, s.to_region) == (
        "city", True, "指挥长乙", "region:150100", "region:150104")
    assert 599_000 <= s.deadline - s.opened_at <= 600_000 and s.pending
    assert boss.post(f"{url}/resolve", json={"cause": "探头进水", "action": "更换探头"},
                     timeout=5).status_code == 200
    assert s.answered_at is not None and s.answer == "探头进水;更换探头"
    r = boss.post(f"{url}/supervise", json={"admin": "province"}, timeout=5)
    assert (r.status_code, r.json()["error"]) == (409, "该预警已处置,无需督办")


def test_a_warning_that_clears_between_its_ack_and_its_handling_is_still_handled_and_closed(
        api: Any) -> None:
    """签收 and 核查, then the warning clears before the 处置 (as in a fast drill, or a short
    excursion): the service keeps it for its 处置 and 销号 instead of forgetting it (before,
    a cleared warning without a 处置 was dropped and the 处置 got 404)."""
    svc, base = api
    now = int(time.time() * 1000)
    w = warning(3, started=now, ts=now)
    feed(svc, w, now)
    url = f"{base}/api/warnings/{w.warning_id}"
    duty, boss = (login(base, n, PW) for n in ("值班员甲", "指挥长乙"))
    assert duty.post(f"{url}/ack", json={}, timeout=5).status_code == 200
    assert duty.post(f"{url}/verify", json={"verdict": "real", "note": "现场确认"},
                     timeout=5).status_code == 200
    feed(svc, warning(3, "cleared", started=now, ts=now + 1000), int(time.time() * 1000))
    for t in (now + 2000, now + 60_000):  # steps before and after any notice could be due
        svc.step(t)
    assert w.warning_id in svc.alerts
    assert duty.post(f"{url}/resolve", json={"cause": "短时波动", "action": "复核后恢复"},
                     timeout=5).status_code == 200
    r = duty.post(f"{url}/close", json={}, timeout=5)
    assert r.status_code == 403  # a 值班员 may not 销号
    assert boss.post(f"{url}/close", json={}, timeout=5).status_code == 200
    svc.step(now + 120_000)
    assert w.warning_id not in svc.alerts  # closed: now forgotten
