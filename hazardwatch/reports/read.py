"""Assemble a shift report from InfluxDB (warnings, 签收/处置, the figures of the shift)."""

from __future__ import annotations

from collections.abc import Mapping

from hazardwatch.alerting.workflow.chain import ADMIN_ZH
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.kpis.compute import compute
from hazardwatch.kpis.handling import DEFAULT_HANDLE_DEADLINE_S
from hazardwatch.kpis.influxread import InfluxReader
from hazardwatch.kpis.periods import DAY_MS, Period
from hazardwatch.reports.shift import ShiftReport, WarningLine, local
from hazardwatch.streams.sinks.line_protocol import RP_EVENTS

LOOKBACK_MS = 7 * DAY_MS  # warnings raised up to a week before the shift can still be open


def in_scope(catalog: Catalog, scope: str, site_id: str, vehicle_id: str) -> bool:
    """scope: all, site:ID, company:ID, region:CODE (a prefix: 15 province, 1501 city)."""
    if scope == "all":
        return True
    kind, _, ident = scope.partition(":")
    site = catalog.sites.get(site_id)
    vehicle = catalog.vehicles.get(vehicle_id)
    if kind == "site":
        return site_id == ident
    if kind == "company":
        return vehicle is not None and vehicle.company == ident
    if kind == "region":
        company = catalog.companies.get(vehicle.company) if vehicle else None
        region = site.region if site else (company.region if company else "")
        return region.startswith(ident)
    raise ValueError(f"scope {scope!r}: all, site:ID, company:ID or region:CODE")


def scope_zh(scope: str) -> str:
    """The scope as a heading."""
    kind, _, ident = scope.partition(":")
    return {"all": "全部", "site": f"场所 {ident}", "company": f"企业 {ident}",
            "region": f"地区 {ident}"}.get(kind, scope)


def shift_report(reader: InfluxReader, start: int, end: int, scope: str = "all",
                 acted_until: int | None = None, acted_from: int | None = None,
                 deadline_s: Mapping[int, int] = DEFAULT_HANDLE_DEADLINE_S) -> ShiftReport:
    """The report of [start, end) for a scope, with what people did (签收, 核查, 处置, 督办) up
    to acted_until (default: the end; a drill played on a past scenario clock passes the wall
    clock, since its participants act in wall time) and from acted_from (default: a lookback
    before the start; a drill passes its wall start, so that an earlier run of the same
    scenario, whose warnings have the same ids, does not count); deadline_s: the 处置
    deadline per level of 及时处置率 (a drill passes its workflow's)."""
    cat = reader.catalog
    acted = end if acted_until is None else max(end, acted_until)
    since = start - LOOKBACK_MS if acted_from is None else acted_from
    flag = "true" if reader.drill else "false"
    eps: dict[str, dict[str, object]] = {}
    q = (f'SELECT "warning_id", "level_value", "transition", "message", "started_at", '
         f'"pushed_at" FROM '
         f'"{RP_EVENTS}"."warning" WHERE time >= {start - LOOKBACK_MS}ms AND time < {end}ms '
         f'AND drill = {flag} GROUP BY "site", "vehicle"')
    for tags, cols, rows in reader.query(q):
        site, vehicle = tags.get("site") or "", tags.get("vehicle") or ""
        if not in_scope(cat, scope, site, vehicle):
            continue
        for r in rows:
            v = dict(zip(cols, r, strict=True))
            if reader.only is not None and v["warning_id"] not in reader.only:
                continue  # not this drill run's
            e = eps.setdefault(str(v["warning_id"]), {"where": site or vehicle,
                                                      "raised": int(v["started_at"])})
            e["level"], e["message"] = int(v["level_value"]), str(v["message"])
            if v["transition"] == "raised" and v.get("pushed_at") is not None:
                e["pushed"] = int(v["pushed_at"])  # rows written before it have none
            if v["transition"] == "cleared":
                e["cleared"] = int(v["time"])
    acts: dict[tuple[str, str], int] = {}
    verdicts: dict[str, str] = {}  # the 处置's verdict over the 核查's
    q = (f'SELECT "drill", "verdict" FROM "{RP_EVENTS}"."alert_action" WHERE (action = \'ack\' '
         f"OR action = 'verify' OR action = 'resolve' OR action = 'close') AND time >= {since}ms "
         f'AND time < {acted}ms GROUP BY "warning_id", "action"')
    for tags, _, rows in reader.query(q):
        wid = tags.get("warning_id", "")
        if wid in eps:
            first = min(rows, key=lambda r: int(r[0]))
            acts[(wid, tags["action"])] = int(first[0])
            if first[2] and tags["action"] != "close" and (
                    tags["action"] == "resolve" or wid not in verdicts):
                verdicts[wid] = str(first[2])
    report = ShiftReport(scope_zh(scope), start, end, drill=reader.drill)
    for wid, e in sorted(eps.items(), key=lambda kv: int(str(kv[1]["raised"]))):
        w = WarningLine(wid, int(str(e["level"])), str(e["message"]), str(e["where"]),
                        int(str(e["raised"])),
                        int(str(e["cleared"])) if "cleared" in e else None,
                        acts.get((wid, "ack")), acts.get((wid, "resolve")),
                        acts.get((wid, "verify")), verdicts.get(wid),
                        int(str(e["pushed"])) if "pushed" in e else None)
        if start <= w.raised_at < end:
            report.warnings.append(w)
        if w.raised_at < end and (w.cleared_at is None or w.handled_at is None):
            report.still_open.append(w)
    q = (f'SELECT "delivery_id", "receiver", "who", "deadline" FROM "{RP_EVENTS}"."alert_action" '
         f"WHERE action = 'supervise' AND time >= {since}ms AND time < {acted}ms "
         f'AND drill = {flag} GROUP BY "warning_id", "kind"')
    for tags, cols, rows in reader.query(q):
        wid = tags.get("warning_id", "")
        handled = acts.get((wid, "resolve"))
        if wid not in eps or (wid, "close") in acts:
            continue  # out of scope, or closed (销号 answers a 督办 for a late 销号)
        for r in rows:
            v = dict(zip(cols, r, strict=True))
            if handled is not None and int(v["time"]) <= handled:
                continue  # answered by the 处置
            report.supervision.append(
                f"{v['delivery_id']}:{ADMIN_ZH.get(tags.get('kind', ''), '')}督办,"
                f"{v['who']} → {v['receiver']},期限 {local(int(v['deadline'] or 0))},"
                f"{eps[wid]['message']}")
    p = Period("shift", start, end)
    kind, _, ident = scope.partition(":")
    want = ("all", "all") if kind == "all" else (kind, ident)
    report.figures = [r for r in compute(cat, reader.observed(p, acted), p, False, deadline_s)
                      if (r.scope, r.id) == want]
    return report
