"""A synthetic catalog of many sites and realistic readings for them (benchmarks, load tests).

Seeded numpy generators; values are noisy around plausible means with rare excursions, so the
engine sees mostly normal data and occasional warnings, as in real plants.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np

TANK_SENSORS = [("LT", "level", "m", 8.0, 0.05, [0, 20]), ("TT", "temperature", "°C", 25, 0.3,
                [-40, 120]), ("PT", "pressure", "kPa", 10, 0.2, [-5, 50]),
                ("GAS", "gas_combustible", "%LEL", 2, 0.5, [0, 100])]
MINE_SENSORS = [("T0", "ch4", "%CH4", 0.3, 0.05, None), ("T1", "ch4", "%CH4", 0.3, 0.05, None),
                ("T2", "ch4", "%CH4", 0.25, 0.05, None), ("CO", "co", "ppm", 3, 1, None),
                ("WS", "wind_speed", "m/s", 1.5, 0.1, None)]


def fleet_catalog(tank_farms: int, mines: int, tanks_per_farm: int = 10,
                  faces_per_mine: int = 8) -> str:
    """Catalog YAML: gateways of 40 points per farm/mine, as DCS/KJ substations batch."""
    sites = []
    for f in range(tank_farms):
        sensors: list[dict[str, object]] = []
        units = []
        for t in range(tanks_per_farm):
            units.append({"id": f"T{t}", "name": f"{t + 1}号储罐", "kind": "tank"})
            for code, metric, unit, _m, _s, rng in TANK_SENSORS:
                s: dict[str, object] = {"id": f"T{t}-{code}", "metric": metric, "unit": unit,
                                        "plant_unit": f"T{t}"}
                if rng:
                    s["range"] = rng
                sensors.append(s)
        sites.append({"id": f"tf-{f:04d}", "name": f"储罐区{f}", "kind": "tank_farm", "grade": 2,
                      "region": "150104", "location": {"lat": 40.8, "lon": 111.6},
                      "people": {"principal": {"name": "张伟"}}, "units": units,
                      "devices": [{"id": "gw", "offline_timeout_s": 60, "sensors": sensors}]})
    for m in range(mines):
        sensors, units = [], []
        for w in range(faces_per_mine):
            units.append({"id": f"WF{w}", "name": f"{w}号工作面", "kind": "working_face"})
            for code, metric, unit, _m, _s, _r in MINE_SENSORS:
                s = {"id": f"WF{w}-{code}", "metric": metric, "unit": unit, "plant_unit": f"WF{w}"}
                s["location"] = code if metric == "ch4" else "longwall_face"
                sensors.append(s)
        sites.append({"id": f"cm-{m:04d}", "name": f"煤矿{m}", "kind": "coal_mine", "grade": 3,
                      "region": "150602", "gas_class": "high",
                      "location": {"lat": 39.6, "lon": 109.8},
                      "people": {"principal": {"name": "高峰"}}, "units": units,
                      "devices": [{"id": "kj", "offline_timeout_s": 30, "sensors": sensors}]})
    return json.dumps({"version": 1, "sites": sites}, ensure_ascii=False)


def fleet_lines(tank_farms: int, mines: int, readings: int, *, t0: int, period_ms: int = 1000,
                seed: int = 7, tanks_per_farm: int = 10,
                faces_per_mine: int = 8) -> Iterator[str]:
    """Replay lines (one telemetry message per site per period) until `readings` points."""
    rng = np.random.default_rng(seed)
    layouts = []
    for f in range(tank_farms):
        layouts.append((f"tf-{f:04d}", "gw", [(f"T{t}-{c}", m, s) for t in range(tanks_per_farm)
                                               for c, _, _, m, s, _ in TANK_SENSORS]))
    for k in range(mines):
        layouts.append((f"cm-{k:04d}", "kj", [(f"WF{w}-{c}", m, s) for w in range(faces_per_mine)
                                               for c, _, _, m, s, _ in MINE_SENSORS]))
    done, tick = 0, 0
    while done < readings:
        ts = t0 + tick * period_ms
        for site, dev, sensors in layouts:
            n = len(sensors)
            means = np.array([m for _, m, _ in sensors])
            sds = np.array([s for _, _, s in sensors])
            values = means + rng.standard_normal(n) * sds
            spikes = rng.random(n) < 0.0005  # rare excursions: gas, CH4 and CO above set-points
            values = np.where(spikes, means * 20 + 30 * sds, values)
            pts = ",".join(f'{{"sensor":"{sid}","value":{v:.3f}}}'
                           for (sid, _, _), v in zip(sensors, values, strict=True))
            yield (f'{{"topic":"hw/v1/sites/{site}/devices/{dev}/telemetry",'
                   f'"payload":{{"ts":{ts},"seq":{tick},"points":[{pts}]}}}}')
            done += n
            if done >= readings:
                return
        tick += 1


def vehicle_catalog(n: int) -> str:
    """Catalog YAML of n 两客一危 vehicles in companies of 100, all three classes."""
    classes = ("hazmat", "coach", "tour_bus")
    companies = [{"id": f"co-{c:03d}", "name": f"运输公司{c}", "region": "150100"}
                 for c in range((n + 99) // 100)]
    vehicles = [{"id": f"v-{i:05d}", "plate": f"蒙A·{i:05d}", "class": classes[i % 3],
                 "company": f"co-{i // 100:03d}"} for i in range(n)]
    return json.dumps({"version": 1, "companies": companies, "vehicles": vehicles},
                      ensure_ascii=False)


def vehicle_lines(n: int, positions: int, *, t0: int, period_ms: int = 30_000,
                  seed: int = 7) -> Iterator[str]:
    """Replay lines: each vehicle drives east at 40–95 km/h with stops and GNSS noise."""
    rng = np.random.default_rng(seed)
    lat = 41.0 + rng.random(n) * 2  # away from the demo zones
    lon = 112.0 + rng.random(n) * 2
    cruise = np.clip(rng.normal(52, 6, n), 30, 75)  # a few drive over their limits
    stopped = np.zeros(n, dtype=bool)
    done, k = 0, 0
    while done < positions:
        ts = t0 + k * period_ms
        stopped = np.where(stopped, rng.random(n) > 0.1, rng.random(n) < 0.005)  # stops
        speed = np.where(stopped, 0.0, np.clip(cruise + rng.normal(0, 4, n), 0, 120))
        lon = lon + speed * period_ms / 3_600_000 / (111.32 * np.cos(np.radians(lat)))
        jitter = rng.normal(0, 0.00005, n)  # ~5 m
        for i in range(min(n, positions - done)):
            yield (f'{{"topic":"hw/v1/vehicles/v-{i:05d}/position","payload":{{"ts":{ts},'
                   f'"lat":{lat[i] + jitter[i]:.6f},"lon":{lon[i]:.6f},'
                   f'"speed_kmh":{speed[i]:.1f},"heading":90,"alarm_flags":0}}}}')
        done += min(n, positions - done)
        k += 1
