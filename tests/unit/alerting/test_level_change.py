"""A downgrade is told as 级别变更 to exactly the people told, never as a resolved notice; a
second downgrade is told again; a clear then sends the one resolved notice."""

from __future__ import annotations

import msgspec

from hazardwatch.alerting.config import Step
from hazardwatch.alerting.plan import plan, record
from hazardwatch.alerting.routing import RouteSettings
from hazardwatch.alerting.stages.ack import stale
from hazardwatch.alerting.state import Alert, Told, apply_warning
from hazardwatch.alerting.texts import body
from hazardwatch.contracts.warnings import WarningRecord

T0 = 1_795_000_000_000
ROUTE = RouteSettings("r", (Step(after_s=0, receivers=["desk"]),), 300, 1800, 0, 60)


def w(transition: str, level: int, ts: int) -> WarningRecord:
    return WarningRecord(warning_id="W1", transition=transition, ts=ts, level=level,  # type: ignore[arg-type]
                         colour="red", rule="tank_farm.gas_combustible.threshold",
                         kind="threshold", site_id="tf-hohhot-01", device_id="gds-01",
                         sensor="T101-GAS1", vehicle_id=None, value=30.0, threshold=25.0,
                         unit="%LEL", started_at=T0, message="可燃气体浓度 30%LEL")


def told() -> Alert:
    a = apply_warning(None, w("raised", 1, T0), "r", T0)
    for p in plan(a, ROUTE, T0):
        record(a, p, T0)
    a.told.append(msgspec.convert({"receiver": "desk", "person": "张三",
                                   "channel": {"type": "webhook", "url": "http://x"}}, Told))
    return a


def kinds(a: Alert, now: int) -> list[str]:
    return [p.kind for p in plan(a, ROUTE, now)]


def test_downgrade_is_told_as_a_level_change_to_the_people_told() -> None:
    a = told()
    a.acked_at, a.acked_by = T0 + 1000, "张三"
    apply_warning(a, w("downgraded", 3, T0 + 60_000), "r", T0 + 60_000)
    (p,) = plan(a, ROUTE, T0 + 60_000)
    assert (p.kind, p.receivers, p.nid) == ("level_change", ("desk",), "W1:level_change:1")
    assert stale(a, "level_change") is None  # acknowledged people are told too
    text = body("level_change", [a], ["http://ack"], "Asia/Shanghai", markdown=False)
    assert text.startswith("【级别变更】三级(黄色)") and "解除】" not in text
    assert "级别已变更为三级(黄色)，预警尚未解除，仍需处置" in text
    record(a, p, T0 + 60_000)
    assert kinds(a, T0 + 61_000) == []
    apply_warning(a, w("downgraded", 4, T0 + 120_000), "r", T0 + 120_000)
    assert [p.nid for p in plan(a, ROUTE, T0 + 120_000)] == ["W1:level_change:2"]


def test_a_clear_after_a_downgrade_sends_only_the_resolved_notice() -> None:
    a = told()
    apply_warning(a, w("downgraded", 2, T0 + 60_000), "r", T0 + 60_000)
    apply_warning(a, w("cleared", 2, T0 + 90_000), "r", T0 + 90_000)
    assert kinds(a, T0 + 90_000) == ["resolved"]


def test_nobody_told_nobody_to_tell() -> None:
    a = apply_warning(None, w("raised", 1, T0), "r", T0)
    apply_warning(a, w("downgraded", 3, T0 + 60_000), "r", T0 + 60_000)
    assert "level_change" not in kinds(a, T0 + 60_000)
