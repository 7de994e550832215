"""The drill's console accounts are scoped to the scenario's region (a 值班员 to the counties
of its incidents, a 指挥长 to their cities), through the real API: the loop works inside the
scope (签收, 核查, 处置 by the 值班员, 销号 by the 指挥长) and an action on a warning outside it
is refused (403), as are the lists."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest

from hazardwatch.alerting.accounts import Role, Scope
from hazardwatch.alerting.api import serve
from hazardwatch.alerting.web.context import ConsoleOptions
from hazardwatch.simulators.drill_accounts import console_account, regions, scope_for
from hazardwatch.simulators.scenario import Participant, load_scenario
from hazardwatch.stack.process import free_port
from tests.unit.alerting.test_service import CAT, feed, service, warning
from tests.unit.alerting.test_web import login


def test_scopes_of_the_scenarios() -> None:
    combined = regions(load_scenario("combined", CAT), CAT)
    assert combined == ("150102", "150104", "150207", "150602")  # sites and companies
    assert scope_for(Role.DUTY, combined) == Scope(regions=combined)
    assert scope_for(Role.COMMANDER, combined) == Scope(regions=("1501", "1502", "1506"))
    assert regions(load_scenario("tank_farm", CAT), CAT) == ("150104",)


def test_no_region_means_no_drill_account_not_an_unrestricted_one(tmp_path: Path) -> None:
    """An empty scope is every region: a scenario whose incidents resolve to no region gets
    a clear error instead of all-seeing drill accounts."""
    sc = load_scenario("tank_farm", CAT)
    nowhere = msgspec.structs.replace(sc, incidents=[])
    with pytest.raises(ValueError, match="行政区划"):
        console_account(tmp_path, nowhere, CAT)
    assert not (tmp_path / "console-users.json").exists()


def test_the_loop_inside_the_scope_and_an_action_outside_refused(tmp_path: Path) -> None:
    sc = msgspec.structs.replace(load_scenario("tank_farm", CAT), participants=[
        Participant("王磊", "企业值班员", access=Role.DUTY),
        Participant("赵刚", "带班领导", access=Role.COMMANDER)])
    path, desk, desk_pw, pws = console_account(tmp_path, sc, CAT)
    svc, _ = service(tmp_path)
    server = serve(svc, "127.0.0.1", free_port(), ConsoleOptions(users=path))
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        now = int(time.time() * 1000)
        inside = warning(2, started=now, ts=now)  # tf-hohhot-01, 150104
        outside = warning(2, site="cm-ordos-01", sensor="WF3102-T1", started=now, ts=now)
        for w in (inside, outside):
            feed(svc, w, now)
        duty, boss, console = (login(base, "王磊", pws["王磊"]), login(base, "赵刚", pws["赵刚"]),
                               login(base, desk, desk_pw))
        for s in (duty, boss, console):
            listed = {r["warning"]["warning_id"] for r in s.get(
                f"{base}/api/warnings", timeout=5).json()}
            assert listed == {inside.warning_id}
        out = f"{base}/api/warnings/{outside.warning_id}"
        for s, what in ((duty, "ack"), (console, "ack"), (boss, "ack"), (boss, "supervise")):
            r = s.post(f"{out}/{what}", json={"admin": "city"} if what == "supervise" else {},
                       timeout=5)
            assert r.status_code == 403 and "管辖范围" in r.json()["error"], (what, r.text)
        assert svc.alerts[outside.warning_id].acked_at is None
        url = f"{base}/api/warnings/{inside.warning_id}"
        assert duty.post(f"{url}/ack", json={}, timeout=5).status_code == 200
        assert duty.post(f"{url}/verify", json={"verdict": "real"}, timeout=5).status_code == 200
        assert duty.post(f"{url}/resolve", json={"cause": "阀门泄漏", "action": "关阀"},
                         timeout=5).status_code == 200
        feed(svc, warning(2, "cleared", started=now, ts=now + 1), now + 1)
        r = boss.post(f"{url}/close", json={}, timeout=5)
        assert r.status_code == 200 and r.json()["closed_by"] == "赵刚", r.text
    finally:
        server.shutdown()
