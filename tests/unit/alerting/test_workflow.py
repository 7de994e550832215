"""The handling workflow with an injected clock: every deadline, the push county → city →
province, 督办 by hand and answered, 销号 refused before clearance or by the wrong role,
级别变更 to everyone notified (never a resolved notice), validated configuration."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from hazardwatch.alerting.accounts import Role
from hazardwatch.alerting.workflow.case import Case, WorkflowError
from hazardwatch.alerting.workflow.chain import duty_of, next_admin
from hazardwatch.alerting.workflow.config import StepDeadlines, WorkflowConfig, load_workflow

CFG = WorkflowConfig()
T0 = 1_795_000_000_000
MIN = 60_000


def case(level: int = 1) -> Case:
    return Case("W1", level, "150104", T0, site_id="tf-hohhot-01")


def upto(c: Case, step: str, at: int = T0) -> None:
    """Take every step before `step`."""
    if step in ("verify", "handle"):
        c.ack("张三", at)
    if step == "handle":
        c.verify("张三", "real", "现场确认泄漏", at)


@pytest.mark.parametrize(("level", "step", "minutes"), [
    (1, "ack", 5), (1, "verify", 15), (1, "handle", 30),
    (2, "ack", 10), (2, "verify", 30), (2, "handle", 60),
    (3, "ack", 30), (3, "verify", 60), (3, "handle", 240),
    (4, "ack", 60), (4, "verify", 240), (4, "handle", 1440)])
def test_each_deadline_opens_a_county_supervision_exactly_when_missed(
        level: int, step: str, minutes: int) -> None:
    c = case(level)
    upto(c, step)
    assert c.tick(T0 + minutes * MIN - 1, CFG) == []
    (n,) = c.tick(T0 + minutes * MIN, CFG)
    assert n.kind == "督办" and "县级督办" in n.text and step in c.missed
    (s,) = c.supervisions
    assert (s.admin, s.to_region, s.from_region) == ("county", "site:tf-hohhot-01",
                                                      "region:150104")
    assert s.deadline == T0 + minutes * MIN + 30 * MIN and s.pending
    assert c.tick(T0 + minutes * MIN + 1, CFG) == []  # once


def test_unanswered_supervision_is_pushed_to_the_city_then_the_province() -> None:
    c = case(1)
    assert len(c.tick(T0 + 5 * MIN, CFG)) == 1  # 签收 missed → county 督办, due +30 min
    assert c.tick(T0 + 35 * MIN - 1, CFG) == []
    (city,) = c.tick(T0 + 35 * MIN, CFG)
    assert "市级督办" in city.text and "县级督办逾期未办结" in city.text
    assert (c.supervisions[1].to_region, c.supervisions[1].from_region) == (
        "region:150104", "region:150100")
    (prov,) = c.tick(T0 + 95 * MIN, CFG)  # city's 60 min
    assert c.supervisions[2].from_region == "region:150000" and "省级督办" in prov.text
    assert c.tick(T0 + 10_000 * MIN, CFG) == []  # nothing above the province
    assert {"site:tf-hohhot-01", "region:150104", "region:150100", "region:150000"} <= \
        c.notified


def test_supervision_by_hand_is_answered_by_the_handling_and_stops_the_push() -> None:
    c = case(3)
    n = c.supervise_by_hand("city", "市应急局 李四", T0 + 2 * MIN, CFG, deadline_s=600)
    s = c.supervisions[0]
    assert s.by_hand and s.opened_by == "市应急局 李四" and s.deadline == T0 + 12 * MIN
    assert s.to_region == "region:150104" and "人工督办" in n.text
    c.ack("张三", T0 + 3 * MIN)
    c.verify("张三", "sensor_fault", "探头进水", T0 + 4 * MIN)
    c.handle("张三", "探头进水", "更换探头", T0 + 8 * MIN)
    assert s.answered_at == T0 + 8 * MIN and s.answer == "探头进水;更换探头"
    assert c.tick(T0 + 10_000 * MIN, CFG) == []


def test_unanswered_supervision_by_hand_is_pushed_on_its_own_deadline() -> None:
    c = case(4)
    c.supervise_by_hand("county", "县应急局", T0, CFG, deadline_s=120)
    (n,) = c.tick(T0 + 2 * MIN, CFG)
    assert c.supervisions[-1].admin == "city" and "市级督办" in n.text


@pytest.mark.parametrize(("role", "handled", "cleared", "reason"), [
    (Role.COMMANDER, False, True, "尚未处置"),
    (Role.COMMANDER, True, False, "尚未解除"),
    (Role.DUTY, True, True, "值班员无权销号"),
    (Role.READONLY, True, True, "只读无权销号")])
def test_closing_is_refused(role: Role, handled: bool, cleared: bool, reason: str) -> None:
    c = case(2)
    if handled:
        upto(c, "handle")
        c.handle("张三", "阀门密封失效", "关阀更换密封", T0 + MIN)
    if cleared:
        c.clear(T0 + 2 * MIN)
    with pytest.raises(WorkflowError, match=reason):
        c.close("王五", role, T0 + 3 * MIN, CFG)
    assert c.closed is None


def test_closing_by_the_commander_after_clearance_ends_the_case() -> None:
    c = case(2)
    upto(c, "handle")
    c.handle("张三", "阀门密封失效", "关阀更换密封", T0 + MIN)
    c.clear(T0 + 2 * MIN)
    c.close("王五", Role.COMMANDER, T0 + 3 * MIN, CFG)
    assert c.closed == ("王五", T0 + 3 * MIN)
    with pytest.raises(WorkflowError, match="已销号"):
        c.ack("张三", T0 + 4 * MIN)
    assert c.level_change(1, T0 + 5 * MIN) is None


@pytest.mark.parametrize(("step", "reason"), [("verify", "先签收"), ("handle", "先核查")])
def test_steps_in_order(step: str, reason: str) -> None:
    c = case()
    if step == "handle":
        c.ack("张三", T0)
    with pytest.raises(WorkflowError, match=reason):
        if step == "verify":
            c.verify("张三", "real", "", T0)
        else:
            c.handle("张三", "a", "b", T0)


def test_handling_needs_cause_and_action_and_a_known_verdict() -> None:
    c = case()
    c.ack("张三", T0)
    with pytest.raises(WorkflowError, match="核查结论"):
        c.verify("张三", "maybe", "", T0)  # type: ignore[arg-type]
    c.verify("张三", "false_alarm", "现场无泄漏", T0)
    with pytest.raises(WorkflowError, match="原因和措施"):
        c.handle("张三", " ", "复位", T0)


def test_downgrade_is_a_level_change_to_everyone_notified_never_a_resolve() -> None:
    c = case(1)
    c.notified.update({"site:tf-hohhot-01", "person:张三"})
    c.tick(T0 + 5 * MIN, CFG)  # the county duty is notified too
    n = c.level_change(3, T0 + 6 * MIN)
    assert n is not None and n.kind == "级别变更" and c.level == 3
    assert set(n.to) == c.notified and "region:150104" in n.to
    assert "由一级(红色)降级为三级(黄色)" in n.text and "解除" not in n.text
    up = c.level_change(2, T0 + 7 * MIN)
    assert up is not None and "升级" in up.text
    assert c.level_change(2, T0 + 8 * MIN) is None


@pytest.mark.parametrize(("region", "admin", "code"), [
    ("150104", "county", "150104"), ("150104", "city", "150100"),
    ("150104", "province", "150000")])
def test_chain(region: str, admin: str, code: str) -> None:
    assert duty_of(region, admin) == code


def test_chain_order() -> None:
    assert [next_admin(a) for a in ("enterprise", "county", "city", "province")] == [
        "county", "city", "province", None]


def test_configuration_is_validated(tmp_path: Path) -> None:
    with pytest.raises(msgspec.ValidationError, match="ack_s ≤ verify_s ≤ handle_s"):
        WorkflowConfig(steps={**CFG.steps, 1: StepDeadlines(600, 300, 900)})
    with pytest.raises(msgspec.ValidationError, match=r"1\.\.4"):
        WorkflowConfig(steps={1: CFG.steps[1]})
    f = tmp_path / "wf.yaml"
    f.write_text("supervision_s: {county: 600, city: 1200, province: 2400}\n"
                 "close_roles: [管理员]\n", encoding="utf-8")
    cfg = load_workflow(f)
    assert cfg.supervision_s["county"] == 600 and cfg.close_roles == [Role.ADMIN]
    f.write_text("steps: {1: {ack_s: 0, verify_s: 1, handle_s: 2}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"wf\.yaml"):
        load_workflow(f)


def test_the_service_refuses_a_bad_workflow_file_at_start(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "wf.yaml"
    bad.write_text("supervision_s: {county: 600}\n", encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "hazardwatch", "alerting", "--workflow",
                          str(bad), "--check"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "county, city and province" in res.stderr
