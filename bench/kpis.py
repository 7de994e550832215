"""Assessment-figure benchmark: one day of 1,000 sites × 40 points and 5,000 vehicles.

The day (values every 60 s with a few silences, ~0.01 warnings per point with their 签收/处置,
vehicle day records) is written into a bench database of the local InfluxDB as the pipeline
writes it: the worker's hourly tallies (`seen_hourly`, one row per site and hour, made here
by a vectorised copy of `hazardwatch.streams.seen`, checked against it on a few points),
warnings, alert actions, refusals and vehicle days. Then, on one core:
- `day_s`: the figures of the day from InfluxDB, read (`InfluxReader`, source tallies) and
  computed (`hazardwatch.kpis.compute`); they must equal the figures computed from every value.
- `compute_s` / `shift_s`: the computation alone from the values in memory.
- `readings_s_per_site`: the former way, every value of a few sites read back (first/last/
  count and elapsed() silences), for comparison (`readings_day_s_est` scales it to all sites).
--quick: 100 sites, 500 vehicles, 2 sites read from the readings (< 2 min).
The last line printed is JSON.
Usage: python bench/kpis.py [--quick] [--read-sites N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import msgspec
import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, running_stack
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.catalog.model import Company, Site, Vehicle
from hazardwatch.contracts.daily import VehicleDayRecord
from hazardwatch.contracts.seen import SeenEntry, SeenRecord
from hazardwatch.kpis.compute import Observed, compute
from hazardwatch.kpis.handling import Handling
from hazardwatch.kpis.influxread import InfluxReader
from hazardwatch.kpis.periods import Period, parse_time, periods
from hazardwatch.kpis.rows import KpiRow
from hazardwatch.stack.influx import ensure_database, influxql
from hazardwatch.streams.seen import HOUR_MS, Ledger, due, observe
from hazardwatch.streams.sinks import line_protocol as lp

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


DB = "bench_kpis"


def post(url: str, rp: str, lines: list[str]) -> None:
    """Write lines in batches of 20,000."""
    for i in range(0, len(lines), 20_000):
        r = requests.post(f"{url}/write", params={"db": DB, "rp": rp, "precision": "ms"},
                          data="\n".join(lines[i:i + 20_000]).encode(), timeout=300)
        r.raise_for_status()


def tallies(key: str, ts: np.ndarray, timeout_ms: int) -> list[tuple[int, SeenEntry]]:
    """(hour, entry) of the worker's hourly tallies of sorted unique value times (a vectorised
    hazardwatch.streams.seen for a point or device alone)."""
    hour = ts - ts % HOUR_MS
    starts = np.flatnonzero(np.concatenate([[True], hour[1:] != hour[:-1]]))
    ends = np.append(starts[1:], ts.size)
    over = np.concatenate([[0], np.maximum(0, np.diff(ts) - timeout_ms)])
    off = np.add.reduceat(over, starts)
    prev = np.where(starts > 0, ts[np.maximum(starts - 1, 0)], 0)
    return [(int(hour[a]), SeenEntry(key, int(ts[a]), int(ts[b - 1]), int(b - a), int(pv),
                                     int(o)))
            for a, b, pv, o in zip(starts.tolist(), ends.tolist(), prev.tolist(), off.tolist(),
                                   strict=True)]


def check_tallies(ts: np.ndarray, timeout_ms: int) -> None:
    """The vectorised copy agrees with the worker's code on one point."""
    ledger, got = Ledger(), []
    for t in ts.tolist():
        rec = observe(ledger, "s", "d/p", t, timeout_ms, False)
        got += [rec] if rec else []
    got += due(ledger, "s", int(ts[-1]) + 2 * HOUR_MS)
    assert [(r.hour, e) for r in got for e in r.entries] == tallies("d/p", ts, timeout_ms), \
        "vectorised tallies differ"


def write_day(url: str, cat: Catalog, obs: Observed, values: dict[tuple[str, str], np.ndarray]
              ) -> int:
    """The day as the sink writes it (tallies, warnings, actions, vehicle days); lines."""
    influxql(url, f'DROP DATABASE "{DB}"')
    ensure_database(url, DB)
    lines: list[str] = []
    for site in cat.sites.values():
        by_hour: dict[int, list[SeenEntry]] = defaultdict(list)
        for dev in site.devices:
            t_ms = dev.offline_timeout_s * 1000
            parts = [values[(site.id, s.id)] for s in dev.sensors]
            for s, ts in zip(dev.sensors, parts, strict=True):
                for h, e in tallies(f"{dev.id}/{s.id}", ts, t_ms):
                    by_hour[h].append(e)
            for h, e in tallies(dev.id, np.unique(np.concatenate(parts)), t_ms):
                by_hour[h].append(e)
        lines += [lp.seen(SeenRecord(site.id, h, es)) for h, es in sorted(by_hour.items())]
    for scopes, h in obs.handling:
        lines.append(f"warning,transition=raised,site={dict(scopes)['site']},"
                     f"subject={h.warning_id} "
                     f'warning_id="{h.warning_id}",level_value={h.level}i,'
                     f"started_at={h.raised_at}i,drill=false {h.raised_at}")
        for action, at in (("ack", h.acked_at), ("resolve", h.handled_at)):
            if at is not None:
                verdict = f',verdict="{h.verdict}"' if action == "resolve" else ""
                lines.append(f"alert_action,action={action},warning_id={h.warning_id} "
                             f"drill=false{verdict} {at}")
    lines += [lp.vehicle_day(d) for d in obs.vehicle_days]
    for site_id, n in obs.rejected.items():
        lines += [f'rejected,reason=out_of_range,device={site_id}/d0 topic="t",size=1i '
                  f"{DAY0 + i * MIN}" for i in range(n)]
    post(url, lp.RP_EVENTS, lines)
    return len(lines)


def from_store(url: str, cat: Catalog, day: Period) -> tuple[float, list[KpiRow]]:
    """(seconds, rows) of the day's figures read from InfluxDB's tallies and computed."""
    t = time.perf_counter()
    reader = InfluxReader(url, DB, cat, source="tallies")
    rows = compute(cat, reader.observed(day, DAY0 + 2 * 1440 * MIN), day)
    return time.perf_counter() - t, rows


def readings_read(url: str, cat: Catalog, obs: Observed,
                  values: dict[tuple[str, str], np.ndarray], n_sites: int) -> float:
    """Every value of n_sites written and read back the former way; seconds per site."""
    sub = Catalog()
    for site in list(cat.sites.values())[:n_sites]:
        sub.add_site(site)
        lines = []
        for dev in site.devices:
            for s in dev.sensors:
                head = f"reading,site={site.id},device={dev.id},sensor={s.id} value=1.5,"
                lines += [f'{head}q="good",drill=false {t}'
                          for t in values[(site.id, s.id)].tolist()]
        post(url, "chem_30d", lines)
    (day,) = periods(DAY0, DAY0 + 1, "day")
    t = time.perf_counter()
    got = InfluxReader(url, DB, sub, source="readings").observed(day, DAY0 + 2 * 1440 * MIN)
    took = time.perf_counter() - t
    for k, a in got.devices.items():  # the store's silences are the ones computed here
        b = obs.devices[k]
        assert (a.first, a.last, a.count) == (b.first, b.last, b.count), k
        assert a.gaps.tolist() == b.gaps[b.gaps > 300_000].tolist(), k
    return took / n_sites


def same(a: list[KpiRow], b: list[KpiRow]) -> None:
    """The figures from the store are the figures from the values (handling and vehicles too)."""
    ka = {(r.figure, r.scope, r.id, r.level): round(r.value, 9) for r in a}
    kb = {(r.figure, r.scope, r.id, r.level): round(r.value, 9) for r in b}
    diff = [k for k in ka.keys() | kb.keys() if ka.get(k) != kb.get(k)]
    assert not diff, f"{len(diff)} figures differ, e.g. {diff[:3]}"


def main() -> None:
    """Run and print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--read-sites", type=int, default=None)
    args = ap.parse_args()
    n_sites, n_veh = (100, 500) if args.quick else (1000, 5000)
    read_sites = args.read_sites or (2 if args.quick else 5)
    rng = random.Random(17)
    t = time.perf_counter()
    cat = catalog(n_sites, n_veh)
    obs, values = observed(cat, rng)
    gen_s = time.perf_counter() - t
    for k in list(values)[:50:10]:
        check_tallies(values[k], 300_000)
    (day,) = periods(DAY0, DAY0 + 1, "day")
    t = time.perf_counter()
    rows = compute(cat, obs, day)
    compute_s = time.perf_counter() - t
    shifts = [p for p in periods(DAY0, DAY0 + 1440 * MIN, "shift") if p.start >= DAY0 - 1]
    t = time.perf_counter()
    for p in shifts:
        compute(cat, obs, p, points=False)
    shift_s = (time.perf_counter() - t) / max(1, len(shifts))
    url = running_stack().settings.influx_url
    t = time.perf_counter()
    n_lines = write_day(url, cat, obs, values)
    write_s = time.perf_counter() - t
    day_s, stored = from_store(url, cat, day)
    same(stored, rows)
    per_site = readings_read(url, cat, obs, values, read_sites)
    influxql(url, f'DROP DATABASE "{DB}"')
    out = {"bench": "kpis", **machine(), "sites": n_sites, "points": n_sites * 40,
           "vehicles": n_veh, "values": int(sum(a.count for a in obs.points.values())),
           "warnings": len(obs.handling), "rows": len(rows), "generate_s": round(gen_s, 2),
           "day_s": round(day_s, 2),
           "store": "InfluxDB 1.8: seen_hourly (the worker's hourly tallies per site), "
                    "warning, alert_action, rejected, vehicle_daily",
           "stored_lines": n_lines, "write_s": round(write_s, 1),
           "compute_s": round(compute_s, 2), "shift_s": round(shift_s, 2),
           "readings_sites": read_sites, "readings_s_per_site": round(per_site, 3),
           "readings_day_s_est": round(per_site * n_sites + compute_s, 1)}
    print(f"{n_sites} sites × 40 points, {n_veh} vehicles: day from InfluxDB {day_s:.2f} s "
          f"(tallies; same figures as from every value); compute alone {compute_s:.2f} s, "
          f"shift {shift_s:.2f} s; every value: {per_site:.2f} s per site")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
