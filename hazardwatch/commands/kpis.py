"""`hazardwatch kpis`: the assessment figures of a time range, from InfluxDB into InfluxDB."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.kpis.compute import compute
from hazardwatch.kpis.figures import FIGURES
from hazardwatch.kpis.handling import DEFAULT_HANDLE_DEADLINE_S
from hazardwatch.kpis.influxread import SOURCES, InfluxReader
from hazardwatch.kpis.periods import Period, parse_time, periods
from hazardwatch.kpis.rows import KpiRow, line
from hazardwatch.stack.settings import StackSettings, default_catalog
from hazardwatch.streams.sinks.influx import InfluxSink, InfluxTarget
from hazardwatch.streams.sinks.line_protocol import RP_EVENTS


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("kpis", help="compute the assessment figures (在线率, 处置率, 上线率 …) "
                       "of a time range and write them to InfluxDB (docs/kpis.md)")
    p.add_argument("--from", dest="start", required=True,
                   help="ISO time; without a zone Beijing time, e.g. 2026-11-30")
    p.add_argument("--to", dest="end", required=True, help="ISO time (exclusive)")
    p.add_argument("--period", choices=["day", "shift", "both"], default="both")
    p.add_argument("--drill", action="store_true", help="figures of drill data (tagged drill)")
    p.add_argument("--no-points", action="store_true", help="leave out per-point rows")
    p.add_argument("--dry-run", action="store_true", help="print, write nothing")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--influx-url", default=None, help="default: the local stack")
    p.add_argument("--db", default=None)
    p.add_argument("--source", choices=SOURCES, default="auto",
                   help="points and devices from the worker's hourly tallies (seen_hourly), "
                        "every reading, or auto: the tallies for whole hours that have them")
    p.set_defaults(func=run)


def compute_range(reader: InfluxReader, start: int, end: int, kinds: list[str],
                  points: bool = True,
                  deadline_s: Mapping[int, int] = DEFAULT_HANDLE_DEADLINE_S) -> list[KpiRow]:
    """Rows of every whole day or shift overlapping [start, end); deadline_s: the 处置
    deadline per level of 及时处置率 (a drill passes its workflow's)."""
    rows: list[KpiRow] = []
    now = int(time.time() * 1000)
    for kind in kinds:
        for p in periods(start, end, kind):
            rows += compute(reader.catalog, reader.observed(p, now), p, points, deadline_s)
    return rows


def run(args: argparse.Namespace) -> int:
    """Compute, write, print the totals of scope `all`."""
    settings = StackSettings.from_env()
    url, db = args.influx_url or settings.influx_url, args.db or settings.influx_db
    catalog = load_catalog(args.catalog)
    reader = InfluxReader(url, db, catalog, drill=args.drill, source=args.source)
    kinds = ["day", "shift"] if args.period == "both" else [args.period]
    rows = compute_range(reader, parse_time(args.start), parse_time(args.end), kinds,
                         not args.no_points)
    if not args.dry_run:
        sink = InfluxSink(InfluxTarget(url=url, db=db), catalog)
        sink.add_lines(RP_EVENTS, [line(r, args.drill) for r in rows])
        sink.flush()
    for r in rows:
        if r.scope == "all":
            lvl = f" {r.level}级" if r.level is not None else ""
            when = Period(r.period, r.start, r.start).label
            value = f"{r.value:.1f} s" if r.figure.endswith("_s") else f"{r.value * 100:.2f} %"
            print(f"{'班次' if r.period == 'shift' else '日'} {when} {FIGURES[r.figure].zh}{lvl}: "
                  f"{value}")
    print(f"{len(rows)} rows {'computed' if args.dry_run else 'written'} (points from "
          f"{', '.join(sorted(reader.used)) or 'nothing'})")
    return 0
