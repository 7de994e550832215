"""`hazardwatch report shift`: the shift hand-over report (交接班报告) as HTML and PDF."""

from __future__ import annotations

import argparse
from pathlib import Path

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.kpis.influxread import InfluxReader
from hazardwatch.kpis.periods import parse_time
from hazardwatch.reports.shift import shift_name
from hazardwatch.stack.settings import StackSettings, default_catalog


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("report", help="reports for people: the shift hand-over report")
    p.add_argument("kind", choices=["shift"])
    p.add_argument("--from", dest="start", required=True,
                   help="ISO time; without a zone Beijing time, e.g. 2026-11-30T08:00")
    p.add_argument("--to", dest="end", required=True)
    p.add_argument("--scope", default="all", help="all, site:ID, company:ID, region:CODE "
                   "(a prefix: 15 province, 1501 city, 150104 county)")
    p.add_argument("--drill", action="store_true", help="the drill traffic of the period")
    p.add_argument("--out", type=Path, default=Path("reports"),
                   help="folder for shift-<from>.html and .pdf")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--influx-url", default=None, help="default: the local stack")
    p.add_argument("--db", default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read, render both, print the paths."""
    from hazardwatch.reports.read import shift_report
    from hazardwatch.reports.render import to_html, to_pdf

    settings = StackSettings.from_env()
    reader = InfluxReader(args.influx_url or settings.influx_url, args.db or settings.influx_db,
                          load_catalog(args.catalog), drill=args.drill)
    start, end = parse_time(args.start), parse_time(args.end)
    if end <= start:
        raise ValueError("--to must be after --from")
    report = shift_report(reader, start, end, args.scope)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / shift_name(start, args.scope, args.drill)
    stem.with_suffix(".html").write_text(to_html(report), encoding="utf-8")
    to_pdf(report, stem.with_suffix(".pdf"))
    print(f"交接班报告: {stem.with_suffix('.html')} {stem.with_suffix('.pdf')} "
          f"(预警 {len(report.warnings)},未闭环 {len(report.still_open)})")
    return 0
