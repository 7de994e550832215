"""A warning's surroundings from InfluxDB as the sink writes them: its transitions (`warning`),
every alerting event about it (`alert_action`: notified, failed, suppressed, ack, 处置, audit),
the readings of its sensor (the site kind's retention policy) or the track of its vehicle,
from 30 minutes before it started until now (at most two hours). InfluxQL built here; values
are quoted, never interpolated raw."""

from __future__ import annotations

from typing import Any

import requests

from hazardwatch.alerting.state import Alert
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.streams.sinks.line_protocol import RP_BY_SITE_KIND, RP_EVENTS, RP_VEHICLE

BEFORE_MS = 30 * 60_000
SPAN_MS = 2 * 3600_000


def _q(v: str) -> str:
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def queries(a: Alert, now: int, cat: Catalog) -> dict[str, str]:
    """InfluxQL per part of the detail view."""
    w = a.warning
    t0 = w.started_at - BEFORE_MS
    t1 = min(now, t0 + SPAN_MS)
    span = f"time >= {t0}ms AND time <= {t1}ms"
    out = {"transitions": f'SELECT transition, level_value, value, threshold, message FROM '
                          f'"{RP_EVENTS}"."warning" WHERE subject = {_q(w.subject)} AND '
                          f"rule = {_q(w.rule)} AND {span} ORDER BY time LIMIT 200",
           "events": f"SELECT action, channel, person, receiver, who, reason, cause, taken, "
                     f'verdict FROM "{RP_EVENTS}"."alert_action" WHERE warning_id = '
                     f"{_q(w.warning_id)} "
                     f"AND time >= {t0}ms ORDER BY time LIMIT 500"}
    site = cat.sites.get(w.site_id or "")
    if w.vehicle_id:
        out["track"] = (f'SELECT lat, lon, speed_kmh FROM "{RP_VEHICLE}"."position" WHERE '
                        f"vehicle = {_q(w.vehicle_id)} AND {span} ORDER BY time LIMIT 2000")
    elif w.sensor and site is not None:
        out["readings"] = (f'SELECT value FROM "{RP_BY_SITE_KIND[site.kind]}"."reading" WHERE '
                           f"site = {_q(site.id)} AND sensor = {_q(w.sensor)} AND {span} "
                           "ORDER BY time LIMIT 2000")
    return out


def fetch(url: str, db: str, a: Alert, now: int, cat: Catalog) -> dict[str, Any]:
    """{part: [[ms, …values], …]} plus `columns`; `error` when InfluxDB could not answer."""
    out: dict[str, Any] = {"columns": {}}
    if not url:
        return {**out, "error": "未配置 InfluxDB"}
    for part, q in queries(a, now, cat).items():
        try:
            r = requests.get(f"{url}/query", params={"db": db, "q": q, "epoch": "ms"},
                             timeout=3)
            r.raise_for_status()
            series = (r.json().get("results") or [{}])[0].get("series") or []
        except (requests.RequestException, ValueError) as exc:
            return {**out, "error": f"InfluxDB 查询失败: {exc.__class__.__name__}"}
        out[part] = series[0]["values"] if series else []
        out["columns"][part] = series[0]["columns"] if series else []
    return out


def last_positions(url: str, db: str, vehicles: list[str]) -> dict[str, tuple[float, float]]:
    """The last known position of each vehicle over the past day ({} when InfluxDB is away)."""
    if not url or not vehicles:
        return {}
    where = " OR ".join(f"vehicle = {_q(v)}" for v in vehicles[:500])
    q = (f'SELECT last(lat), last(lon) FROM "{RP_VEHICLE}"."position" WHERE ({where}) '
         "AND time > now() - 1d GROUP BY vehicle")
    try:
        r = requests.get(f"{url}/query", params={"db": db, "q": q}, timeout=3)
        r.raise_for_status()
        series = (r.json().get("results") or [{}])[0].get("series") or []
    except (requests.RequestException, ValueError):
        return {}
    out: dict[str, tuple[float, float]] = {}
    for s in series:
        vals = s["values"][0]
        if vals[1] is not None and vals[2] is not None:
            out[s["tags"]["vehicle"]] = (float(vals[1]), float(vals[2]))
    return out
