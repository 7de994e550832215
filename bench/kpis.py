"""Assessment-figure benchmark: one day of 1,000 sites × 40 points and 5,000 vehicles.

Two measurements, both on one core:
- compute: `hazardwatch.kpis.compute` over the day (and its two shifts) from the inputs as the
  InfluxDB reader hands them over (sorted value times per point, refusals per site, warnings
  with their 签收/处置, vehicle day records); values every 60 s with a few silences.
- store: the same day of a few sites written to a bench database of the local InfluxDB, read
  back by the reader (`InfluxReader.observed`), timed per site and scaled to 1,000 sites.
`day_s` is the compute time of the full day; `from_influx_day_s_est` adds the read time
scaled from the sites read. --quick: 100 sites, 500 vehicles, 2 sites read (< 2 min).
The last line printed is JSON.
Usage: python bench/kpis.py [--quick] [--read-sites N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import msgspec
import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, running_stack
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.catalog.model import Company, Site, Vehicle
from hazardwatch.contracts.daily import VehicleDayRecord
from hazardwatch.kpis.compute import Observed, compute
from hazardwatch.kpis.handling import Handling
from hazardwatch.kpis.influxread import InfluxReader
from hazardwatch.kpis.periods import parse_time, periods
from hazardwatch.stack.influx import ensure_database, influxql

DAY0 = parse_time("2026-11-30T00:00:00")
MIN = 60_000


def catalog(sites: int, vehicles: int) -> Catalog:
    """sites × (4 gateways × 10 points), vehicles in companies of 100."""
    cat = Catalog()
    for i in range(sites):
        cat.add_site(msgspec.convert({
            "id": f"s{i:04d}", "name": f"场所{i}", "kind": "tank_farm", "grade": 2,
            "region": f"15{i % 12:02d}{i % 7:02d}", "location": {"lat": 40.0, "lon": 111.0},
            "people": {"principal": {"name": "张伟"}},
            "devices": [{"id": f"d{d}", "offline_timeout_s": 300, "sensors": [
                {"id": f"d{d}-p{p}", "metric": "temperature", "unit": "°C"}
                for p in range(10)]} for d in range(4)]}, Site))
    for c in range(max(1, vehicles // 100)):
        cat.companies[f"c{c:03d}"] = msgspec.convert(
            {"id": f"c{c:03d}", "name": f"运输公司{c}", "region": f"15{c % 12:02d}00"}, Company)
    for v in range(vehicles):
        cat.vehicles[f"v{v:05d}"] = msgspec.convert(
            {"id": f"v{v:05d}", "plate": f"蒙A{v:05d}", "class": "hazmat",
             "company": f"c{v // 100:03d}"}, Vehicle)
    return cat


def observed(cat: Catalog, rng: random.Random
             ) -> tuple[Observed, dict[tuple[str, str], np.ndarray]]:
    """A day: a value each minute per point; 1 % of points with a silence of 10–120 min."""
    values = {}
    grid = np.arange(DAY0, DAY0 + 1440 * MIN, MIN, dtype=np.int64)
    for site in cat.sites.values():
        for dev in site.devices:
            for s in dev.sensors:
                if rng.random() < 0.01:
                    a = rng.randrange(1300)
                    arr = np.concatenate([grid[:a], grid[a + rng.randrange(10, 120):]])
                else:
                    arr = grid.copy()
                values[(site.id, s.id)] = arr
    obs = Observed.from_times(cat, values)
    for site in cat.sites.values():
        obs.rejected[site.id] = rng.randrange(5)
    ids = list(cat.sites.values())
    for i in range(len(ids) * 4 + len(cat.vehicles)):  # ~0.01 warnings per point, 1 per vehicle
        site = ids[i % len(ids)]
        raised = DAY0 + rng.randrange(1440) * MIN
        ack = raised + rng.randrange(60, 1800) * 1000 if rng.random() < 0.95 else None
        done = ack + rng.randrange(60, 7200) * 1000 if ack and rng.random() < 0.9 else None
        obs.handling.append(((("site", site.id), ("region", site.region)), Handling(
            f"w{i}", rng.randint(1, 4), raised, ack, done,
            "false_alarm" if rng.random() < 0.1 else "real")))
    for vid, v in cat.vehicles.items():
        if rng.random() < 0.98:
            obs.vehicle_days.append(VehicleDayRecord(
                vehicle_id=vid, company=v.company, vehicle_class="hazmat", day="2026-11-30",
                ts=DAY0, positions=2880, drift=rng.randrange(30), gaps=rng.randrange(3),
                overspeed=0, fatigue_s=0.0, online_s=80_000.0,
                complete_m=rng.uniform(200e3, 400e3), incomplete_m=rng.uniform(0, 8e3)))
    return obs, values


def store_read(cat: Catalog, obs: Observed, values: dict[tuple[str, str], np.ndarray],
               n_sites: int) -> tuple[float, int]:
    """Write n_sites' readings into a bench database, read them back; (seconds, values)."""
    stack = running_stack()
    url, db = stack.settings.influx_url, "bench_kpis"
    influxql(url, f'DROP DATABASE "{db}"')
    ensure_database(url, db)
    sub = Catalog()
    n_values = 0
    for site in list(cat.sites.values())[:n_sites]:
        sub.add_site(site)
        lines = []
        for dev in site.devices:
            for s in dev.sensors:
                ts = values[(site.id, s.id)]
                n_values += ts.size
                head = f"reading,site={site.id},device={dev.id},sensor={s.id} value=1.5,"
                lines += [f'{head}q="good",drill=false {t}' for t in ts.tolist()]
        for i in range(0, len(lines), 20_000):
            r = requests.post(f"{url}/write", params={"db": db, "rp": "chem_30d",
                                                      "precision": "ms"},
                              data="\n".join(lines[i:i + 20_000]).encode(), timeout=120)
            r.raise_for_status()
    (day,) = periods(DAY0, DAY0 + 1, "day")
    t = time.perf_counter()
    got = InfluxReader(url, db, sub).observed(day, DAY0 + 2 * 1440 * MIN)
    took = time.perf_counter() - t
    assert sum(a.count for a in got.points.values()) == n_values, "read back fewer values"
    for k, a in got.devices.items():  # the store's silences are the ones computed here
        b = obs.devices[k]
        assert (a.first, a.last, a.count) == (b.first, b.last, b.count), k
        assert a.gaps.tolist() == b.gaps[b.gaps > 300_000].tolist(), k
    influxql(url, f'DROP DATABASE "{db}"')
    return took, n_values


def main() -> None:
    """Run and print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--read-sites", type=int, default=None)
    args = ap.parse_args()
    n_sites, n_veh = (100, 500) if args.quick else (1000, 5000)
    read_sites = args.read_sites or (2 if args.quick else 10)
    rng = random.Random(17)
    t = time.perf_counter()
    cat = catalog(n_sites, n_veh)
    obs, values = observed(cat, rng)
    gen_s = time.perf_counter() - t
    (day,) = periods(DAY0, DAY0 + 1, "day")
    t = time.perf_counter()
    rows = compute(cat, obs, day)
    day_s = time.perf_counter() - t
    shifts = [p for p in periods(DAY0, DAY0 + 1440 * MIN, "shift") if p.start >= DAY0 - 1]
    t = time.perf_counter()
    for p in shifts:
        compute(cat, obs, p, points=False)
    shift_s = (time.perf_counter() - t) / max(1, len(shifts))
    read_s, read_values = store_read(cat, obs, values, read_sites)
    per_site = read_s / read_sites
    out = {"bench": "kpis", **machine(), "sites": n_sites, "points": n_sites * 40,
           "vehicles": n_veh, "values": int(sum(a.count for a in obs.points.values())),
           "warnings": len(obs.handling), "rows": len(rows), "generate_s": round(gen_s, 2),
           "day_s": round(day_s, 2), "shift_s": round(shift_s, 2),
           "store": "InfluxDB 1.x /query: first/last/count and elapsed() silences per site",
           "read_sites": read_sites, "read_values": read_values,
           "read_s_per_site": round(per_site, 3),
           "from_influx_day_s_est_1000_sites": round(per_site * 1000 + day_s * 1000 / n_sites,
                                                     1)}
    print(f"{n_sites} sites × 40 points, {n_veh} vehicles: day {day_s:.2f} s, shift "
          f"{shift_s:.2f} s (compute); InfluxDB read {per_site:.2f} s per site")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
