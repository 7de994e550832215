"""Rule identity and levels as types (hazardwatch/contracts/rules.py)."""

from __future__ import annotations

import json
from pathlib import Path

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.rules import Level, RuleId

GOLDEN = Path("tests/fixtures/differential/golden")


def test_a_lower_level_number_is_more_severe() -> None:
    assert Level.RED.more_severe_than(Level.ORANGE) and not Level.BLUE.more_severe_than(3)
    assert Level.worst(3, 1, 4) is Level.RED and Level(2) == 2


def test_every_rule_the_engines_emit_is_registered_or_built_by_a_family() -> None:
    emitted = {json.loads(line)["rule"] for p in GOLDEN.glob("*.out")
               for line in p.read_text(encoding="utf-8").splitlines()}
    fixed = {r.value for r in RuleId}
    assert {r for r in emitted if not rule_ids.known(r)} == set()
    assert not rule_ids.known("device.offlin") and not rule_ids.known("vehicle.jt808.x")
    assert {"device.offline", "sensor.fault", "vehicle.offline"} <= emitted & fixed


def test_builders_make_the_ids_the_engines_always_made() -> None:
    assert rule_ids.threshold("tank_farm", "gas_combustible") == \
        "tank_farm.gas_combustible.threshold"
    assert rule_ids.vehicle_jt808(11) == "vehicle.jt808.11"
    assert RuleId.DEVICE_OFFLINE == "device.offline" and f"{RuleId.SENSOR_FAULT}" == "sensor.fault"


def test_a_scenario_expecting_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    import pytest

    from hazardwatch.contracts.catalog import load_catalog
    from hazardwatch.simulators.scenario import load_scenario

    text = Path("deploy/scenarios/tank_farm.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("rule: sensor.fault", "rule: sensor.faults", 1),
                   encoding="utf-8")
    cat = load_catalog("deploy/catalog/demo.yaml")
    load_scenario("deploy/scenarios/tank_farm.yaml", cat)
    with pytest.raises(ValueError, match=r"unknown rule 'sensor\.faults'"):
        load_scenario(bad, cat)
