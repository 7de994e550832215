"""A realistic normal day raises nothing; the drills' incidents on top of it are all detected."""

from __future__ import annotations

import json

import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.simulators.evaluate import evaluate
from hazardwatch.simulators.player import start_ms
from hazardwatch.simulators.quiet import quiet_day
from hazardwatch.simulators.quiet_replay import replay_player
from hazardwatch.simulators.scenario import SCENARIOS, load_scenario
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.vehicles.config import load_vehicle_rules

CAT = load_catalog("deploy/catalog/demo.yaml")
RULES, VRULES = load_rules(), load_vehicle_rules()
NOW = 1_795_400_000_000


def test_the_quiet_day_raises_no_warning() -> None:
    day = quiet_day()
    lines, warnings, summary = replay_player(day, CAT, RULES, VRULES, start_ms(day, NOW))
    assert not summary.rejected and summary.readings > 100_000
    assert [w.message for w in warnings] == []
    # it is the flat day it claims to be: zero gas, a resting tank, report by exception
    points = [p for x in lines if "/telemetry" in x
              for p in json.loads(json.loads(x)["payload"])["points"]]
    assert sum(p == {"sensor": "T101-GAS1", "value": 0.0} for p in points) > 2000
    assert {p["value"] for p in points if p["sensor"] == "T102-LT"} == {7.35}
    assert sum(p["sensor"] == "T102-LT" for p in points) < 86_400 / 30 + 10  # by exception


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_every_drill_on_top_of_the_quiet_day_is_detected(name: str) -> None:
    sc = load_scenario(name, CAT)
    start = start_ms(sc, NOW)
    _, warnings, summary = replay_player(sc, CAT, RULES, VRULES, start)
    assert not summary.rejected
    ev = evaluate(sc, start, warnings)
    assert [(o.incident, o.rule) for o in ev.outcomes if not o.ok] == []
    assert [w.message for w in ev.unexpected] == []
