"""The rule engine, table-driven per rule kind, with controlled event time (no broker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hazardwatch.contracts.catalog import Catalog, load_catalog
from hazardwatch.contracts.records import (
    MediaRecord,
    PointRecord,
    StatusRecord,
    TelemetryRecord,
    VideoEventRecord,
)
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.rules.state import SiteState, dump_state, load_state

T0 = 1_795_000_000_000
S = 1000
CAT = load_catalog("deploy/catalog/demo.yaml")
RULES = load_rules()


def engine(cat: Catalog = CAT) -> Engine:
    return Engine(cat, RULES)


def tel(site: str, dev: str, ts: int, **values: float) -> TelemetryRecord:
    pts = [PointRecord(k.replace("_", "-"), v, ts) for k, v in values.items()]
    return TelemetryRecord(site_id=site, device_id=dev, ts=ts, points=pts, received_at=ts)


def feed(e: Engine, site: str, dev: str, series: list[tuple[int, dict[str, float]]],
         st: SiteState | None = None) -> list[WarningRecord]:
    st = st if st is not None else SiteState()
    out = []
    for ts, values in series:
        out += e.on_tick(st, site, ts)
        out += e.on_record(st, tel(site, dev, ts, **values))
    return out


def brief(ws: list[WarningRecord]) -> list[tuple[int, str, int, str]]:
    return [((w.ts - T0) // S, w.transition, w.level, w.rule) for w in ws]


GAS = "tank_farm.gas_combustible.threshold"


@pytest.mark.parametrize(("values", "expected"), [
    # combustible gas, GB/T 50493: 25 %LEL → 三级, 50 %LEL → 二级; persistence 10 s
    ([10, 26, 26, 26], [(20, "raised", 3, GAS)]),  # seen at 10 s, held 10 s
    ([10, 26], []),  # not yet 10 s
    ([10, 25, 25, 25], [(20, "raised", 3, GAS)]),  # exactly at the set-point counts
    ([10, 24.99, 24.99, 24.99], []),
    ([30, 30, 51, 51], [(10, "raised", 3, GAS), (20, "upgraded", 2, GAS)]),
])
def test_gas_threshold_levels_and_persistence(values: list[float],
                                              expected: list[tuple[int, str, int, str]]) -> None:
    series = [(T0 + i * 10 * S, {"T101_GAS1": v}) for i, v in enumerate(values)]
    assert brief(feed(engine(), "tf-hohhot-01", "gds-01", series)) == expected


def test_hysteresis_holds_until_the_restore_value_then_clear_delay() -> None:
    vals = [30, 30, 22, 21, 20.5, 19.9, 19, 19, 19, 19]  # restore_h 20; clear delay 30 s
    series = [(T0 + i * 10 * S, {"T101_GAS1": v}) for i, v in enumerate(vals)]
    got = brief(feed(engine(), "tf-hohhot-01", "gds-01", series))
    assert got == [(10, "raised", 3, GAS), (80, "cleared", 3, GAS)]


def test_coal_ch4_alarm_cut_and_restore_by_location() -> None:
    rule = "coal_mine.ch4.threshold"
    # T1: alarm 1.0 → 黄, cut 1.5 → 橙, restore below 1.0 (persist 0, clear delay 10 s)
    vals = [0.4, 1.0, 1.6, 1.2, 0.99, 0.5]
    series = [(T0 + i * 10 * S, {"WF3102_T1": v}) for i, v in enumerate(vals)]
    got = brief(feed(engine(), "cm-ordos-01", "kj-sub-01", series))
    assert got == [(10, "raised", 3, rule), (20, "upgraded", 2, rule),
                   (50, "cleared", 2, rule)]  # 1.2: still 断电 (cut holds until < 1.0)
    # T2 (return airway): alarm = cut = 1.0 → straight to 橙
    got2 = brief(feed(engine(), "cm-ordos-01", "kj-sub-01", [(T0, {"WF3102_T2": 1.0})]))
    assert got2 == [(0, "raised", 2, rule)]


def test_wind_speed_range_and_co() -> None:
    got = feed(engine(), "cm-ordos-01", "kj-sub-01",
               [(T0 + i * 10 * S, {"WF3102_WS": 0.2, "WF3102_CO": 30}) for i in range(3)])
    rules = {(w.rule, w.level, w.threshold) for w in got}
    assert ("coal_mine.wind_speed.threshold", 3, 0.25) in rules
    assert ("coal_mine.co.threshold", 3, 24.0) in rules


def test_sensor_faults_out_of_range_bad_quality_frozen() -> None:
    e = engine()
    st = SiteState()
    out: list[WarningRecord] = []
    # out of range (0..100 %LEL) for 30 s → fault, and no threshold warning from it
    for i in range(4):
        out += e.on_record(st, tel("tf-hohhot-01", "gds-01", T0 + i * 10 * S, T101_GAS1=140))
    assert [(w.rule, w.transition) for w in out] == [("sensor.fault", "raised")]
    assert "超出量程" in out[0].message and out[0].level == 4
    # bad quality
    bad = TelemetryRecord(site_id="tf-hohhot-01", device_id="gds-01", ts=T0, received_at=T0,
                          points=[PointRecord("T101-GAS2", 3.0, T0, "bad")])
    st2 = SiteState()
    e.on_record(st2, bad)
    assert st2.sensors["T101-GAS2"].fault_reason == "bad_quality"
    # frozen: the same value for 30 min, outside the detector's zero dead band (5 %LEL)
    series = [(T0 + i * 60 * S, {"T101_GAS2": 12.0}) for i in range(32)]
    frozen = feed(engine(), "tf-hohhot-01", "gds-01", series)
    assert any(w.rule == "sensor.fault" and "冻结" in w.message for w in frozen)


def test_rate_of_change() -> None:
    # T101-LT rate limit 0.5 m/min: +1 m in 1 min
    got = feed(engine(), "tf-hohhot-01", "dcs-gw-01",
               [(T0, {"T101_LT": 8.0}), (T0 + 60 * S, {"T101_LT": 9.0})])
    assert [(w.rule, w.transition, w.value) for w in got] == [
        ("tank_farm.level.rate", "raised", 1.0)]


def test_offline_by_timeout_status_and_back_online_with_grace() -> None:
    e, st = engine(), SiteState()
    e.on_record(st, tel("tf-hohhot-01", "gds-01", T0, T101_GAS1=3))
    assert e.on_tick(st, "tf-hohhot-01", T0 + 59 * S) == []
    w = e.on_tick(st, "tf-hohhot-01", T0 + 200 * S)
    assert brief(w) == [(60, "raised", 4, "device.offline")]  # at the due time, not the tick
    back = e.on_record(st, tel("tf-hohhot-01", "gds-01", T0 + 210 * S, T101_GAS1=3))
    assert brief(back) == [(210, "cleared", 4, "device.offline")]
    # a restarted worker with a grace period: nothing before it ends
    st3 = SiteState()
    e.on_record(st3, tel("tf-hohhot-01", "gds-01", T0, T101_GAS1=3))
    assert e.on_tick(st3, "tf-hohhot-01", T0 + 100 * S, offline_not_before=T0 + 150 * S) == []
    # last will: offline status raises after 30 s unless back
    st4 = SiteState()
    e.on_record(st4, StatusRecord(status="offline", ts=T0, received_at=T0,
                                  site_id="cm-ordos-01", device_id="kj-sub-01"))
    w4 = e.on_tick(st4, "cm-ordos-01", T0 + 31 * S)
    assert brief(w4) == [(30, "raised", 3, "device.offline")]  # coal: 三级


def test_a_buffered_upload_does_not_make_offline_flap() -> None:
    # 断点续传: gds-01 (timeout 60 s) is back at +600 s and uploads what it stored since +5 s,
    # five readings between ticks. The offline warning ends once, by the first reading within
    # the timeout of the latest tick, instead of flapping with every upload and tick.
    e, st = engine(), SiteState()
    e.on_record(st, tel("tf-hohhot-01", "gds-01", T0, T101_GAS1=3))
    out = e.on_tick(st, "tf-hohhot-01", T0 + 200 * S)
    now = T0 + 600 * S
    for i, ts in enumerate(range(T0 + 5 * S, T0 + 620 * S, 5 * S)):
        if i % 5 == 0:
            now = max(now + S, ts)
            out += e.on_tick(st, "tf-hohhot-01", now)
        out += e.on_record(st, tel("tf-hohhot-01", "gds-01", ts, T101_GAS1=3), now)
    assert brief(out) == [(60, "raised", 4, "device.offline"),
                          (565, "cleared", 4, "device.offline")]  # (the tick: +623 s)


def test_combination_in_one_unit_raises_red() -> None:
    e, st = engine(), SiteState()
    out = e.on_record(st, tel("tf-hohhot-01", "gds-01", T0, T101_GAS1=55))
    out += e.on_record(st, tel("tf-hohhot-01", "dcs-gw-01", T0 + S, T101_TT=50))
    combo = [w for w in out if w.kind == "combination"]
    assert [(w.transition, w.level, w.plant_unit) for w in combo] == [("raised", 1, "T101")]
    # gas in T101 and heat in T102 is no combination
    st2 = SiteState()
    out2 = e.on_record(st2, tel("tf-hohhot-01", "gds-01", T0, T101_GAS1=55))
    out2 += e.on_record(st2, tel("tf-hohhot-01", "dcs-gw-01", T0 + S, T102_TT=95))
    assert not [w for w in out2 if w.kind == "combination"]


def test_tailings_counting_rule(tmp_path: Path) -> None:
    sensors = "\n".join(
        f"          - {{id: PZ{i}, metric: phreatic_line, unit: m, plant_unit: S1, thresholds: "
        f"{{blue: 6, yellow: 5, orange: 4.4, red: 4, direction: low}}}}" for i in range(5))
    (tmp_path / "c.yaml").write_text(f"""version: 1
sites:
  - id: td
    name: 尾矿库
    kind: tailings_dam
    grade: 2
    region: "150207"
    location: {{lat: 40, lon: 110}}
    people: {{principal: {{name: 周涛}}}}
    units: [{{id: S1, name: 断面1, kind: dam_section}}]
    devices:
      - id: rtu
        sensors:
{sensors}
""", encoding="utf-8")
    e, st = engine(load_catalog(tmp_path / "c.yaml")), SiteState()
    out: list[WarningRecord] = []
    t = T0
    for i in range(4):  # four blue points (burial depth 5.5 m)
        for _k in range(3):
            t += 30 * S
            out += e.on_tick(st, "td", t)
            out += e.on_record(st, tel("td", "rtu", t, **{f"PZ{j}": 5.5 for j in range(i + 1)}))
    items = [w for w in out if w.kind == "counting"]
    assert [(w.transition, w.level) for w in items] == [("raised", 3)]  # 4 蓝 → 黄
    points = {w.sensor for w in out if w.rule == "tailings_dam.phreatic_line.threshold"}
    assert points == {"PZ0", "PZ1", "PZ2", "PZ3"}


def test_camera_event_with_evidence_then_clears() -> None:
    e, st = engine(), SiteState()
    ev = VideoEventRecord(ts=T0, event_id="e1", family="fire", type="fire", received_at=T0,
                          site_id="tf-hohhot-01", device_id="cam-01",
                          media=[MediaRecord("image", "https://files.example/1.jpg")])
    out = e.on_record(st, ev)
    assert [(w.transition, w.level, w.evidence[0].uri) for w in out] == [
        ("raised", 2, "https://files.example/1.jpg")]
    assert brief(e.on_tick(st, "tf-hohhot-01", T0 + 400 * S)) == [
        (300, "cleared", 2, "camera.fire")]


def test_ids_are_deterministic_and_stable_within_an_episode() -> None:
    series = [(T0 + i * 10 * S, {"T101_GAS1": v}) for i, v in enumerate([30, 30, 55, 10, 10,
                                                                         10, 10, 10])]
    a = feed(engine(), "tf-hohhot-01", "gds-01", series)
    b = feed(engine(), "tf-hohhot-01", "gds-01", series)
    assert a == b
    assert len({w.warning_id for w in a}) == 1 and len(a) == 3


def test_state_survives_serialisation_mid_episode() -> None:
    e = engine()
    st = SiteState()
    out = feed(e, "tf-hohhot-01", "gds-01", [(T0 + i * 10 * S, {"T101_GAS1": 30})
                                             for i in range(3)], st)
    restored = load_state(dump_state(st))  # as a restarted worker would read its table
    later = feed(e, "tf-hohhot-01", "gds-01", [(T0 + 30 * S, {"T101_GAS1": 30})] +
                 [(T0 + (4 + i) * 10 * S, {"T101_GAS1": 5}) for i in range(5)], restored)
    assert [w.transition for w in out] == ["raised"]
    assert [w.transition for w in later] == ["cleared"]  # no second raise, the clear arrives
    assert later[0].warning_id == out[0].warning_id


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=60))
def test_no_clear_above_restore_and_higher_severity_never_lower_level(values: list[float]) -> None:
    e, st = engine(), SiteState()
    for i, v in enumerate(values):
        ts = T0 + i * 10 * S
        for w in e.on_record(st, tel("tf-hohhot-01", "gds-01", ts, T101_GAS1=v)):
            if w.rule != GAS:
                continue
            if w.transition == "cleared":  # h 25, restore_h 20, clear delay 30 s
                assert v < 25
                assert any(x < 20 for x in values[max(0, i - 3):i + 1])
            if w.transition in ("raised", "upgraded", "downgraded"):
                if v >= 50:  # 二级报警 set-point: never below 二级 (no escalation in 10 min)
                    assert w.level == 2
                elif v < 45:  # below its restore value: back to 三级
                    assert w.level == 3
