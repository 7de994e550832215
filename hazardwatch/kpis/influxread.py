"""Read one period's inputs of the figures from InfluxDB (the adapter of compute.Observed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import requests

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.daily import VehicleDayRecord
from hazardwatch.kpis.compute import Observed
from hazardwatch.kpis.handling import Handling, handling_start, verdict_of
from hazardwatch.kpis.online import Seen
from hazardwatch.kpis.periods import Period
from hazardwatch.kpis.seenread import any_tallies, read_seen, whole_hours
from hazardwatch.streams.sinks.line_protocol import RP_BY_SITE_KIND, RP_EVENTS

SOURCES = ("auto", "tallies", "readings")


class InfluxReader:
    """InfluxQL over HTTP (v1 /query), times as epoch ms; drill selects drill or real data.

    source: where points and devices come from: "tallies" (the worker's hourly records,
    seen_hourly: a few rows per point), "readings" (every value), "auto" (the tallies for a
    period of whole hours that has any, else the readings).
    only: the warnings to count (a drill run passes its own, so that earlier runs and other
    drills of the same period do not mix in); acted_from: people's actions from then on (a
    drill passes its wall start; default: the period's start).
    """

    def __init__(self, url: str, db: str, catalog: Catalog, drill: bool = False,
                 session: requests.Session | None = None, timeout_s: float = 120.0,
                 source: str = "auto", only: frozenset[str] | None = None,
                 acted_from: int | None = None) -> None:
        if source not in SOURCES:
            raise ValueError(f"source {source!r}: one of {', '.join(SOURCES)}")
        self.url, self.db, self.catalog, self.drill = url, db, catalog, drill
        self.session = session or requests.Session()
        self.timeout_s, self.source = timeout_s, source
        self.only, self.acted_from = only, acted_from
        self.used: set[str] = set()  # the sources the periods were read from

    def query(self, q: str) -> Iterator[tuple[dict[str, str], list[str], list[list[Any]]]]:
        """(tags, columns, rows) of every series of one statement."""
        resp = self.session.post(f"{self.url}/query", timeout=self.timeout_s,
                                 params={"q": q, "db": self.db, "epoch": "ms"})
        resp.raise_for_status()
        for result in resp.json().get("results", []):
            if "error" in result:
                raise RuntimeError(f"InfluxDB: {q[:120]!r}: {result['error']}")
            for s in result.get("series", []):
                yield s.get("tags") or {}, s["columns"], s["values"]

    def _when(self, start: int, end: int) -> str:
        return (f"time >= {start}ms AND time < {end}ms AND drill = "
                f"{'true' if self.drill else 'false'}")

    def observed(self, p: Period, handled_until: int) -> Observed:
        """Valid values per point, refusals per site, warnings raised in p with their 签收 and
        处置 (up to handled_until), vehicle days that start in p."""
        obs = Observed()
        when = self._when(p.start, p.end)
        if self.source == "tallies" or (self.source == "auto" and whole_hours(p)
                                        and any_tallies(self.query, when)):
            obs.points, obs.devices = read_seen(self.query, self.catalog, when)
            self.used.add("tallies")
        else:
            for site in self.catalog.sites.values():
                if any(d.sensors for d in site.devices):
                    self._site_values(obs, site, when)
            self.used.add("readings")
        for _, cols, rows in self.query(
                f'SELECT "device", "topic" FROM "{RP_EVENTS}"."rejected" WHERE '
                f'time >= {p.start}ms AND time < {p.end}ms'):
            for r in rows:
                sid = _site_of(r[cols.index("device")], r[cols.index("topic")])
                if sid:
                    obs.rejected[sid] = obs.rejected.get(sid, 0) + 1
        self._handling(obs, p, handled_until)
        if whole_hours(p) and self._vehicle_hours(obs, p):
            obs.vehicle_hours = True
        elif p.kind == "day":
            self._vehicle_days(obs, p)
        return obs

    def _site_values(self, obs: Observed, site: Site, when: str) -> None:
        """First and last value, count and silences per point, silences per device: InfluxDB
        computes the differences (elapsed) and returns only those above the shortest timeout,
        so a day of a site is a few hundred rows instead of every value."""
        src = (f'"{RP_BY_SITE_KIND.get(site.kind, "chem_30d")}"."reading" WHERE '
               f"site = '{_q(site.id)}' AND {when}")
        floor = min(d.offline_timeout_s for d in site.devices if d.sensors) * 1000
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        count: dict[str, int] = {}
        for fn, into in (("first", first), ("last", last)):
            for tags, _, rows in self.query(f'SELECT {fn}("value") FROM {src} GROUP BY "sensor"'):
                into[tags["sensor"]] = int(rows[0][0])
        for tags, _, rows in self.query(f'SELECT count("value") FROM {src} GROUP BY "sensor"'):
            count[tags["sensor"]] = int(rows[0][1])
        gaps: dict[tuple[str, str], list[int]] = {}
        for key in ("sensor", "device"):
            q = (f'SELECT "e" FROM (SELECT elapsed("value", 1ms) AS "e" FROM {src} GROUP BY '
                 f'"{key}") WHERE "e" > {floor} GROUP BY "{key}"')
            for tags, _, rows in self.query(q):
                gaps[(key, tags[key])] = [int(r[1]) for r in rows]
        for dev in site.devices:
            ids = [x.id for x in dev.sensors if x.id in first]
            for sid in ids:
                obs.points[(site.id, sid)] = Seen(first[sid], last[sid], count.get(sid, 0),
                                                  _arr(gaps.get(("sensor", sid), [])))
            if ids:
                obs.devices[(site.id, dev.id)] = Seen(
                    min(first[i] for i in ids), max(last[i] for i in ids),
                    sum(count.get(i, 0) for i in ids), _arr(gaps.get(("device", dev.id), [])))

    def _handling(self, obs: Observed, p: Period, until: int) -> None:
        raised: dict[str, tuple[int, int, tuple[tuple[str, str], ...]]] = {}
        q = (f'SELECT "warning_id", "level_value", "started_at", "pushed_at" FROM '
             f'"{RP_EVENTS}"."warning" WHERE transition = \'raised\' AND '
             f'{self._when(p.start, p.end)} GROUP BY "site", "vehicle"')
        for tags, cols, rows in self.query(q):
            scopes = self._scopes(tags.get("site") or "", tags.get("vehicle") or "")
            pushed = cols.index("pushed_at") if "pushed_at" in cols else None
            for r in rows:
                wid = r[cols.index("warning_id")]
                if self.only is None or wid in self.only:
                    at = r[pushed] if pushed is not None else None
                    raised[wid] = (int(r[cols.index("level_value")]), handling_start(
                        int(r[cols.index("started_at")]), None if at is None else int(at)),
                        scopes)
        if not raised:
            return
        acts: dict[str, dict[str, tuple[int, str, str]]] = {}
        # "drill" is selected because every action has it: a row whose selected fields are
        # all empty is not returned (an ack has no cause or verdict)
        q = (f'SELECT "drill", "cause", "verdict" FROM "{RP_EVENTS}"."alert_action" WHERE '
             f"(action = 'ack' OR action = 'verify' OR action = 'resolve') AND "
             f"{self._when(p.start if self.acted_from is None else self.acted_from, until)} "
             'GROUP BY "warning_id", "action"')
        for tags, _, rows in self.query(q):
            if tags.get("warning_id") in raised:
                first = min(rows, key=lambda r: r[0])
                acts.setdefault(tags["warning_id"], {})[tags["action"]] = (
                    first[0], first[2] or "", first[3] or "")
        for wid, (level, at, scopes) in raised.items():
            a = acts.get(wid, {})
            res, ver = a.get("resolve"), a.get("verify")
            took = [x[0] for x in a.values()]  # a 核查 or a 处置 acknowledges too
            verdict = verdict_of(res[2], res[1]) if res else None
            if verdict is None and ver and res:  # the 核查 step's verdict, the 处置 silent
                verdict = verdict_of(ver[2], "")
            obs.handling.append((scopes, Handling(
                wid, level, at, min(took) if took else None, res[0] if res else None,
                verdict)))

    def _scopes(self, site_id: str, vehicle_id: str) -> tuple[tuple[str, str], ...]:
        site = self.catalog.sites.get(site_id)
        if site:
            return (("site", site.id), ("region", site.region))
        v = self.catalog.vehicles.get(vehicle_id)
        if v:
            c = self.catalog.companies.get(v.company)
            return (("company", v.company),) + ((("region", c.region),) if c else ())
        return ()

    def _vehicle_hours(self, obs: Observed, p: Period) -> bool:
        """Each vehicle's hourly counters of the period summed (InfluxDB sums them); False
        when the store has none (data from before hw.vehicle-hourly)."""
        q = ('SELECT sum("positions") AS positions, sum("drift") AS drift, sum("gaps") AS gaps, '
             'sum("complete_m") AS complete_m, sum("incomplete_m") AS incomplete_m FROM '
             f'"{RP_EVENTS}"."vehicle_hourly" WHERE {self._when(p.start, p.end)} '
             'GROUP BY "vehicle", "company", "class"')
        n = len(obs.vehicle_days)
        for tags, cols, rows in self.query(q):
            for r in rows:
                v = dict(zip(cols, r, strict=True))
                obs.vehicle_days.append(VehicleDayRecord(
                    vehicle_id=tags["vehicle"], company=tags["company"],
                    vehicle_class=tags["class"], day=p.label, ts=p.start,
                    positions=int(v["positions"] or 0), drift=int(v["drift"] or 0),
                    gaps=int(v["gaps"] or 0), overspeed=0, fatigue_s=0.0, online_s=0.0,
                    complete_m=float(v["complete_m"] or 0), drill=self.drill,
                    incomplete_m=float(v["incomplete_m"] or 0)))
        return len(obs.vehicle_days) > n

    def _vehicle_days(self, obs: Observed, p: Period) -> None:
        q = (f'SELECT "positions", "drift", "gaps", "complete_m", "incomplete_m" FROM '
             f'"{RP_EVENTS}"."vehicle_daily" WHERE {self._when(p.start, p.end)} '
             'GROUP BY "vehicle", "company", "class", "day"')
        for tags, cols, rows in self.query(q):
            for r in rows:
                v = dict(zip(cols, r, strict=True))
                obs.vehicle_days.append(VehicleDayRecord(
                    vehicle_id=tags["vehicle"], company=tags["company"],
                    vehicle_class=tags["class"], day=tags["day"], ts=int(v["time"]),
                    positions=int(v["positions"] or 0), drift=int(v["drift"] or 0),
                    gaps=int(v["gaps"] or 0), overspeed=0, fatigue_s=0.0, online_s=0.0,
                    complete_m=float(v["complete_m"] or 0), drill=self.drill,
                    incomplete_m=float(v["incomplete_m"] or 0)))


def _arr(v: list[int]) -> npt.NDArray[np.int64]:
    return np.array(v, dtype=np.int64)


def _q(v: str) -> str:
    return v.replace("\\", "\\\\").replace("'", "\\'")


def _site_of(device: str | None, topic: str | None) -> str | None:
    """The sender's site: the record's site/device, else hw/v1/sites/<site>/… of its topic."""
    if device:
        return device.split("/", 1)[0] or None
    parts = (topic or "").split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "sites" else None
