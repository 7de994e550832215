"""Frozen values are faults only where the value is expected to move (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hazardwatch.contracts.catalog import Catalog, load_catalog
from hazardwatch.contracts.records import PointRecord, TelemetryRecord
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.rules.state import SiteState

T0 = 1_795_000_000_000
MIN = 60_000
DEMO = Path("deploy/catalog/demo.yaml")


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The demo catalog with a flow meter on tank T101's inlet."""
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    dcs = next(d for d in doc["sites"][0]["devices"] if d["id"] == "dcs-gw-01")
    dcs["sensors"].append({"id": "T101-FT", "metric": "flow", "unit": "m3/h",
                           "plant_unit": "T101", "range": [0, 300]})
    path = tmp_path_factory.mktemp("cat") / "demo-flow.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_catalog(path)


def run(cat: Catalog, device: str, minutes: int,
        values: dict[str, object]) -> list[WarningRecord]:
    """A device reporting every minute; a value may be a function of the minute."""
    e, st, out = Engine(cat, load_rules()), SiteState(), []
    for m in range(minutes):
        pts = [PointRecord(k, float(v(m) if callable(v) else v), T0 + m * MIN)  # type: ignore[arg-type]
               for k, v in values.items()]
        out += e.on_record(st, TelemetryRecord(site_id="tf-hohhot-01", device_id=device,
                                               ts=T0 + m * MIN, points=pts,
                                               received_at=T0 + m * MIN))
        out += e.on_tick(st, "tf-hohhot-01", T0 + m * MIN + 1)
    return out


def faults(out: list[WarningRecord]) -> list[tuple[str | None, str]]:
    return [(w.sensor, w.transition) for w in out if w.rule == "sensor.fault"]


def test_zero_gas_readings_for_eight_hours_raise_nothing(cat: Catalog) -> None:
    out = run(cat, "gds-01", 480, {"T101-GAS1": 0.0, "T101-GAS2": 2.0, "T102-NH3": 0.0})
    assert out == []


def test_a_gas_reading_stuck_outside_the_dead_band_is_a_fault(cat: Catalog) -> None:
    out = run(cat, "gds-01", 40, {"T101-GAS1": 11.0, "T101-GAS2": 0.0, "T102-NH3": 0.0})
    assert faults(out) == [("T101-GAS1", "raised")]


def test_a_resting_tank_raises_nothing(cat: Catalog) -> None:
    rest = {"T101-LT": 8.42, "T101-TT": 18.3, "T101-PT": 1.2, "T101-FT": 0.0,
            "T102-LT": 6.1, "T102-TT": 12.0, "T102-PT": 0.84}
    assert run(cat, "dcs-gw-01", 480, rest) == []


def test_frozen_level_while_filling_is_a_fault(cat: Catalog) -> None:
    filling = {"T101-LT": 8.42, "T101-FT": lambda m: 120.0 + (m % 3),  # the pump runs
               "T101-TT": lambda m: 18.0 + (m % 2) / 10, "T101-PT": lambda m: 1.2 + (m % 2) / 10}
    assert faults(run(cat, "dcs-gw-01", 40, filling)) == [("T101-LT", "raised")]


def test_frozen_pressure_while_the_level_moves_is_a_fault(cat: Catalog) -> None:
    moving = {"T101-LT": lambda m: 8.0 + 0.05 * m, "T101-PT": 1.2,
              "T101-TT": lambda m: 18.0 + (m % 2) / 10}
    assert faults(run(cat, "dcs-gw-01", 40, moving)) == [("T101-PT", "raised")]
    # the same pressure after the transfer stopped 15 min before it froze: nothing
    stopped = {"T101-LT": lambda m: 8.0 + 0.05 * min(m, 5), "T101-PT": lambda m: 1.2 if m > 20
               else 1.0 + m / 100, "T101-TT": lambda m: 18.0 + (m % 2) / 10}
    assert faults(run(cat, "dcs-gw-01", 90, stopped)) == []
