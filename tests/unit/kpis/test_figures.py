"""Each assessment figure on hand-made days; the expected values are worked out by hand here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.daily import VehicleDayRecord
from hazardwatch.contracts.records import PositionRecord
from hazardwatch.kpis.compute import Observed, compute
from hazardwatch.kpis.figures import FIGURES, nearest_rank
from hazardwatch.kpis.handling import Handling, handling_figures, verdict_of
from hazardwatch.kpis.online import offline_ms, online_rate
from hazardwatch.kpis.periods import parse_time, periods
from hazardwatch.kpis.rows import line
from hazardwatch.kpis.vehicles import stretch_complete, vehicle_figures
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.vehicles.state import VehicleState

MIN = 60_000
DAY = 24 * 60 * MIN
T0 = parse_time("2026-11-30T00:00:00")  # a Beijing midnight
TIMEOUT = 5 * MIN


def every_minute(*silences: tuple[int, int]) -> np.ndarray:
    """A value each minute of the day except in the (from, to) minute ranges."""
    minutes = [m for m in range(1440) if not any(a <= m < b for a, b in silences)]
    return np.array([T0 + m * MIN for m in minutes], dtype=np.int64)


@pytest.mark.parametrize(("ts", "before", "offline_min", "rate"), [
    # silent 41 min (values at 600 and 641): offline from 605 to 641 = 36 min → 1404/1440
    (every_minute((601, 641)), None, 36, 0.975),
    (every_minute(), None, 0, 1.0),
    (np.zeros(0, dtype=np.int64), None, 1435, 5 / 1440),  # never seen: online until the timeout
    (np.zeros(0, dtype=np.int64), T0 - DAY, 1440, 0.0),  # silent since yesterday: all day
    # last value at 23:00: offline from 23:05 to midnight = 55 min
    (every_minute((1381, 1440)), None, 55, 1 - 55 / 1440),
    # a silence of exactly the timeout (4 missing minutes → 5-minute gap) is no episode
    (every_minute((700, 704)), None, 0, 1.0),
    # first value at 01:00, last before the period 23:50 yesterday: offline 23:55 → 01:00
    (every_minute((0, 60)), T0 - 10 * MIN, 60, 1380 / 1440),
])
def test_online_rate_follows_the_offline_warning_rule(ts: np.ndarray, before: int | None,
                                                      offline_min: int, rate: float) -> None:
    assert offline_ms(ts, T0, T0 + DAY, TIMEOUT, before) == offline_min * MIN
    assert online_rate(ts, T0, T0 + DAY, TIMEOUT, before) == pytest.approx(rate)


def handling_day() -> list[Handling]:
    """Five warnings of level 1 and two of level 3, times in minutes after T0."""
    def h(i: int, level: int, ack: int | None, done: int | None, verdict: str | None = None
          ) -> Handling:
        return Handling(f"w{i}", level, T0, None if ack is None else T0 + ack * MIN,
                        None if done is None else T0 + done * MIN, verdict)  # type: ignore[arg-type]
    return [h(1, 1, 2, 20, "real"), h(2, 1, 4, 31, "false_alarm"), h(3, 1, 6, 29),
            h(4, 1, 8, None), h(5, 1, None, None),
            h(6, 3, 10, 200, "sensor_fault"), h(7, 3, 30, 300, "real")]


def test_handling_figures_by_hand() -> None:
    f = handling_figures(handling_day())  # deadlines: level 1 30 min, level 3 4 h
    assert (f.raised, f.handled) == (7, 5)
    assert f.handled_rate == pytest.approx(5 / 7)
    # in time: w1 (20 ≤ 30), w3 (29), w6 (200 ≤ 240); w2 (31) and w7 (300) late
    assert f.handled_in_time_rate == pytest.approx(3 / 7)
    assert f.false_alarm_share == pytest.approx(2 / 5)  # w2 false alarm, w6 sensor fault
    # level 1 ack times 2, 4, 6, 8 min: p50 = 2nd of 4 = 4 min, p90 = 4th = 8 min
    assert f.percentile("ack", 1, 50) == 240 and f.percentile("ack", 1, 90) == 480
    assert f.percentile("handle", 3, 50) == 200 * 60 and f.percentile("handle", 2, 50) is None
    assert handling_figures([]).handled_rate is None  # nothing raised: no figure, not 100 %


@pytest.mark.parametrize(("values", "pct", "want"), [
    ([5.0], 50, 5.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.0), ([1.0, 2.0, 3.0, 4.0], 90, 4.0),
    ([float(i) for i in range(1, 11)], 90, 9.0), ([], 50, None)])
def test_nearest_rank(values: list[float], pct: float, want: float | None) -> None:
    assert nearest_rank(values, pct) == want


@pytest.mark.parametrize(("verdict", "cause", "want"), [
    ("false_alarm", "", "false_alarm"), (None, "误报", "false_alarm"),
    (None, "传感器故障", "sensor_fault"), ("real", "关阀", "real"), (None, "关阀", None)])
def test_verdict_from_the_field_or_the_cause(verdict: str | None, cause: str,
                                             want: str | None) -> None:
    assert verdict_of(verdict, cause) == want


def day(vehicle: str, positions: int, drift: int, complete_km: float, incomplete_km: float
        ) -> VehicleDayRecord:
    return VehicleDayRecord(vehicle_id=vehicle, company="c1", vehicle_class="hazmat",
                            day="2026-11-30", ts=T0, positions=positions, drift=drift, gaps=0,
                            overspeed=0, fatigue_s=0, online_s=0, complete_m=complete_km * 1000,
                            incomplete_m=incomplete_km * 1000)


@pytest.mark.parametrize(("days", "fleet", "online", "complete", "drift"), [
    # a 12 km gap in 300 km: 288 / 300
    ([day("v1", 1000, 3, 288, 12)], 1, 1.0, 0.96, 0.003),
    # 5 catalogued, 4 reported, one of them only drift fixes: 3 / 5 on line
    ([day("v1", 100, 0, 100, 0), day("v2", 100, 1, 50, 50), day("v3", 2, 2, 0, 0),
      day("v4", 98, 1, 50, 0)], 5, 0.6, 200 / 250, 4 / 300),
])
def test_vehicle_figures_by_hand(days: list[VehicleDayRecord], fleet: int, online: float,
                                 complete: float, drift: float) -> None:
    f = vehicle_figures(days, fleet)
    assert f.online_rate == pytest.approx(online)
    assert f.track_complete_rate == pytest.approx(complete)
    assert f.drift_rate == pytest.approx(drift)


@pytest.mark.parametrize(("dt_s", "km", "complete"), [
    (30, 0.5, True), (300, 5.0, True), (301, 0.1, False), (30, 5.01, False)])
def test_stretch_rule(dt_s: int, km: float, complete: bool) -> None:
    assert stretch_complete(dt_s * 1000, km * 1000, 300_000, 5000.0) is complete


def test_vehicle_engine_counts_complete_and_incomplete_mileage() -> None:
    """288 km of 30-s fixes at 60 km/h, then a 12-minute GNSS gap over 12 km: 96 %."""
    cat = load_catalog("deploy/catalog/demo.yaml")
    engine, st = VehicleEngine(cat, load_vehicle_rules()), VehicleState()
    lat, lon, ts = 41.5, 110.0, T0 + 60 * MIN
    deg_per_km = 1 / (111.32 * math.cos(math.radians(lat)))
    for i in range(577):  # 576 stretches of 0.5 km
        engine.on_record(st, PositionRecord(vehicle_id="hz-0003", ts=ts + i * 30_000, lat=lat,
                                            lon=lon + i * 0.5 * deg_per_km, speed_kmh=60,
                                            heading=90, received_at=ts))
    end = ts + 576 * 30_000
    engine.on_record(st, PositionRecord(vehicle_id="hz-0003", ts=end + 12 * MIN, lat=lat,
                                        lon=lon + 300 * deg_per_km, speed_kmh=60, heading=90,
                                        received_at=end))
    assert st.day.complete_m / 1000 == pytest.approx(288, rel=2e-3)
    assert st.day.incomplete_m / 1000 == pytest.approx(12, rel=2e-3)
    rate = st.day.complete_m / (st.day.complete_m + st.day.incomplete_m)
    assert rate == pytest.approx(0.96, abs=1e-3)


def test_shifts_and_days_in_beijing_time() -> None:
    got = periods(T0 + 9 * 3_600_000, T0 + 21 * 3_600_000, "shift")
    assert [p.label for p in got] == ["2026-11-30 08:00", "2026-11-30 20:00"]
    assert got[1].end - got[1].start == 12 * 3_600_000
    assert [p.label for p in periods(T0, T0 + DAY, "day")] == ["2026-11-30 00:00"]


def test_compute_rolls_points_up_to_devices_sites_and_regions() -> None:
    """Every catalogued sensor of the demo's first site reports all day except one point,
    silent 41 min; another device of a second site never reports; 10 values refused."""
    cat = load_catalog("deploy/catalog/demo.yaml")
    (p,) = periods(T0, T0 + DAY, "day")
    sites = [s for s in cat.sites.values() if any(d.sensors for d in s.devices)]
    first = sites[0]
    values = {}
    silent = None
    for dev in first.devices:
        for s in dev.sensors:
            values[(first.id, s.id)] = every_minute()
            silent = silent or (dev, s)
    assert silent is not None
    dev, sensor = silent
    missing = 35 + dev.offline_timeout_s // 60  # values at 600 and 641 + … : 36 min offline
    values[(first.id, sensor.id)] = every_minute((601, 601 + missing))
    obs = Observed.from_times(cat, values)
    obs.rejected[first.id] = 10
    rows = {(r.figure, r.scope, r.id): r for r in compute(cat, obs, p)}
    n_points = sum(len(d.sensors) for d in first.devices)
    n_values = 1440 * n_points - missing
    assert rows[("online_rate_point", "point", f"{first.id}/{sensor.id}")].value == \
        pytest.approx(0.975)
    assert rows[("online_rate_point", "site", first.id)].value == \
        pytest.approx(1 - 36 / 1440 / n_points)
    assert rows[("data_valid_rate", "site", first.id)].value == \
        pytest.approx(n_values / (n_values + 10))
    assert rows[("access_rate", "site", first.id)].value == 1.0
    n_dev = sum(1 for s in sites for d in s.devices if d.sensors)
    n_first = sum(1 for d in first.devices if d.sensors)
    assert rows[("access_rate", "all", "all")].value == pytest.approx(n_first / n_dev)
    if len(sites) > 1:
        devs = [d for d in sites[1].devices if d.sensors]  # never reported: online only
        grace = sum(d.offline_timeout_s for d in devs) / len(devs)  # until its first timeout
        assert rows[("online_rate_device", "site", sites[1].id)].value == pytest.approx(
            grace / 86400)
    for r in rows.values():
        assert r.figure in FIGURES


def test_line_is_tagged_for_grafana() -> None:
    (p,) = periods(T0, T0 + DAY, "day")
    rows = compute(load_catalog("deploy/catalog/demo.yaml"), Observed(), p, points=False)
    assert rows and all(r.scope != "point" for r in rows)
    assert line(rows[0]).startswith(f"kpi,figure={rows[0].figure},scope=")
    assert line(rows[0]).endswith(f" {T0}")


def test_every_formula_is_documented() -> None:
    doc = Path("docs/kpis.md").read_text(encoding="utf-8")
    for f in FIGURES.values():
        assert f"| {f.zh} | `{f.name}` | {f.formula} |" in doc


def test_vehicle_figures_per_shift_from_the_engines_hours() -> None:
    """The 96 % day split at 20:00: 288 km of 30-s fixes from 15:12 to 20:00, then a 12-minute
    gap over 12 km. A stretch counts in the hour of the fix that ends it: shift 08–20 has
    287.5 km, all complete (100 %); shift 20–08 the last 0.5 km and the 12 km gap (0.5 / 12.5
    = 4 %). The hours (the day's counters' differences, hw.vehicle-hourly) sum to the day."""
    cat = load_catalog("deploy/catalog/demo.yaml")
    engine, st = VehicleEngine(cat, load_vehicle_rules()), VehicleState()
    lat, lon, ts = 41.5, 110.0, T0 + 20 * 60 * MIN - 576 * 30_000  # 15:12 → 20:00
    deg_per_km = 1 / (111.32 * math.cos(math.radians(lat)))
    for i in range(577):
        engine.on_record(st, PositionRecord(vehicle_id="hz-0003", ts=ts + i * 30_000, lat=lat,
                                            lon=lon + i * 0.5 * deg_per_km, speed_kmh=60,
                                            heading=90, received_at=ts))
    engine.on_record(st, PositionRecord(vehicle_id="hz-0003", ts=T0 + 20 * 60 * MIN + 12 * MIN,
                                        lat=lat, lon=lon + 300 * deg_per_km, speed_kmh=60,
                                        heading=90, received_at=ts))
    engine.on_tick(st, "hz-0003", T0 + DAY + 1)  # the day (and its last hour) closes
    (closed,) = st.closed
    hours = st.closed_hours
    assert [h for h, _ in hours] == [T0 + x * 3_600_000 for x in (15, 16, 17, 18, 19, 20)]
    for k in ("positions", "drift", "gaps", "complete_m", "incomplete_m"):
        assert sum(getattr(d, k) for _, d in hours) == pytest.approx(getattr(closed, k))
    rates = {}
    for p in periods(T0, T0 + DAY, "shift"):
        mine = [d for h, d in hours if p.start <= h < p.end]
        obs = Observed(vehicle_hours=True, vehicle_days=[VehicleDayRecord(
            vehicle_id="hz-0003", company="nm-hazmat-01", vehicle_class="hazmat", day=p.label,
            ts=p.start, positions=sum(d.positions for d in mine),
            drift=sum(d.drift for d in mine), gaps=sum(d.gaps for d in mine), overspeed=0,
            fatigue_s=0, online_s=0, complete_m=sum(d.complete_m for d in mine),
            incomplete_m=sum(d.incomplete_m for d in mine))] if mine else [])
        rates[p.label] = {r.figure: r.value for r in compute(cat, obs, p)
                               if r.scope == "company" and r.id == "nm-hazmat-01"}
    assert rates["2026-11-30 08:00"]["track_complete_rate"] == 1.0
    assert rates["2026-11-30 20:00"]["track_complete_rate"] == pytest.approx(0.5 / 12.5,
                                                                              abs=1e-3)
    assert "track_complete_rate" not in rates["2026-11-29 20:00"]  # no mileage that night
