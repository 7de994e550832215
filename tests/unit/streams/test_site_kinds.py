"""Every site rule is a kind module registered in one table (streams/rules/kinds/); the
engine only routes: a made-up kind added to the table is compiled and fed as the others."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hazardwatch.contracts.catalog import Catalog, load_catalog
from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.records import InputRecord, PointRecord, TelemetryRecord
from hazardwatch.contracts.rules import Level
from hazardwatch.streams import kinds as registry
from hazardwatch.streams.rules import engine as engine_module
from hazardwatch.streams.rules import kinds as site_kinds
from hazardwatch.streams.rules.config import RulesConfig, load_rules
from hazardwatch.streams.rules.episode import Change
from hazardwatch.streams.rules.kinds.base import (
    DeviceInputs,
    DeviceRules,
    Devices,
    Fired,
    PerSensor,
    SensorCheck,
    SensorSubject,
)
from hazardwatch.streams.rules.state import SensorState, SiteState

T0 = 1_795_000_000_000
SITE, GW, LT = "tf-hohhot-01", "dcs-gw-01", "T101-LT"  # level, range 0..20 m
KINDS_DIR = Path(site_kinds.__file__).parent


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog("deploy/catalog/demo.yaml")


def test_every_kind_module_has_its_line_in_the_table() -> None:
    names = [n for s, n in registry.kind_names() if s == "site"]
    assert names[:4] == ["compile_faults", "compile_power_feed", "compile_rate",
                         "compile_thresholds"]
    assert {"compile_combinations", "compile_counting", "compile_cameras",
            "compile_offline", "compile_clock"} <= set(names)
    modules = {p.stem for p in KINDS_DIR.glob("*.py")} - {"__init__", "base"}
    table = ast.parse((KINDS_DIR / "__init__.py").read_text(encoding="utf-8"))
    imported = {n.module.rsplit(".", 1)[-1] for n in ast.walk(table)
                if isinstance(n, ast.ImportFrom) and n.module}
    assert modules <= imported, modules - imported


def test_the_engine_names_no_rule() -> None:
    src = Path(engine_module.__file__).read_text(encoding="utf-8")
    for word in ("RuleId", "rule_ids", "step(", "Policy", "setpoints", "offline_timeout"):
        assert word not in src, word


@dataclass(frozen=True, slots=True)
class Seen:
    """A made-up per-sensor kind: raises on every valid value above 15 (its own record)."""

    sub: SensorSubject
    calls: list[tuple[float, float | None]] = field(default_factory=list)

    def on_value(self, st: SiteState, s: SensorState, v: float, ts: int,
                 prev_v: float | None, prev_ts: int, fired: list[Fired]) -> bool:
        self.calls.append((v, prev_v))
        if v > 15:
            fired.append(Fired(Change("raised", Level.YELLOW, ts), ts, "made.up", "made_up",
                               None, v, 15.0, "m", f"{self.sub.where} made up", False,
                               self.sub.device.id, sensor=self.sub.sensor.id))
        return False

    def wake_at(self, s: SensorState) -> int | None:
        return None

    def on_wake(self, s: SensorState, now: int, fired: list[Fired]) -> None:
        pass

    def busy(self, s: SensorState) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Heard(DeviceInputs):
    """A made-up device kind: notes every record of a device and wakes at a fixed time."""

    got: list[tuple[str, str]]

    def on_data(self, st: SiteState, device_id: str, ts: int, drill: bool, now: int | None,
                fired: list[Fired]) -> None:
        self.got.append(("data", device_id))

    def on_heard(self, st: SiteState, device_id: str, rec: InputRecord,
                 fired: list[Fired]) -> None:
        self.got.append(("heard", device_id))

    def wake_at(self, st: SiteState, now: int, offline_not_before: int,
                started: int | None) -> int | None:
        return T0 + 7_000


def test_a_made_up_kind_added_to_the_table_is_compiled_and_fed(
        cat: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Seen] = {}
    got: list[tuple[str, str]] = []

    def compile_seen(sub: SensorSubject, rules: RulesConfig) -> SensorCheck | None:
        if sub.sensor.id != LT:
            return None
        made[sub.sensor.id] = Seen(sub)
        return made[sub.sensor.id]

    def compile_heard(site: Site, rules: RulesConfig) -> DeviceRules | None:
        return Heard(got) if site.id == SITE else None

    monkeypatch.setattr(engine_module, "KINDS",
                        (*site_kinds.KINDS, PerSensor(compile_seen), Devices(compile_heard)))
    e, st = engine_module.Engine(cat, load_rules()), SiteState()
    assert list(made) == [LT]
    out = []
    for i, (v, q) in enumerate([(10.0, "good"), (16.0, "good"), (25.0, "good"),
                                (17.0, "bad"), (16.5, "good")]):
        ts = T0 + i * 1000
        out += e.on_record(st, TelemetryRecord(site_id=SITE, device_id=GW, ts=ts,
                                               points=[PointRecord(LT, v, ts, q)],
                                               received_at=ts))
    # valid values only (25 is out of range, 17 bad quality), with the reading before
    assert made[LT].calls == [(10.0, None), (16.0, 10.0), (16.5, 17.0)]
    mine = [w for w in out if w.rule == "made.up"]
    assert [(w.value, w.sensor, w.device_id, w.level, w.kind) for w in mine] == [
        (16.0, LT, GW, 3, "made_up"), (16.5, LT, GW, 3, "made_up")]
    assert got[:2] == [("data", GW), ("heard", GW)] and len(got) == 10
    assert e.on_tick(st, SITE, T0 + 6_000) == [] and st.wake_at <= T0 + 7_000


def test_each_per_sensor_kind_is_compiled_only_where_it_applies(cat: Catalog) -> None:
    from hazardwatch.streams.rules.kinds.fault import SensorFaults, compile_faults
    from hazardwatch.streams.rules.kinds.rate import compile_rate
    from hazardwatch.streams.rules.kinds.threshold import Thresholds, compile_thresholds

    rules = load_rules()
    e = engine_module.Engine(cat, rules)
    subs = {sid: r.subject for routes in e.site_sensors.values() for sid, r in routes.items()}
    # every sensor has its fault screen; the level of the tank has a rate and stages
    assert all(compile_faults(s, rules) is not None for s in subs.values())
    assert compile_rate(subs[LT], rules) is not None
    assert compile_rate(subs["T101-TT"], rules) is None  # (no rate_per_min)
    ch4 = compile_thresholds(subs["WF3102-T1"], rules)
    assert isinstance(ch4, Thresholds) and ch4.kind == "coal_ch4" and ch4.stages
    assert ch4.rule == "coal_mine.ch4.threshold"
    coal, tank = compile_faults(subs["WF3102-T1"], rules), compile_faults(subs[LT], rules)
    assert isinstance(coal, SensorFaults) and coal.level == rules.fault.level_coal_ch4
    assert isinstance(tank, SensorFaults) and tank.level == rules.fault.level != coal.level
    # the routes: the tank level's valid values go to rate before thresholds
    lt = e.site_sensors[SITE][LT]
    assert [type(c).__name__ for c in lt.checks] == ["Rate", "Thresholds"]
    assert [type(w).__name__ for w in lt.wakers] == ["Rate", "Thresholds", "SensorFaults"]
