"""`hazardwatch drill SCENARIO`: play a scenario on the local real stack and write a report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hazardwatch.contracts.catalog import Catalog, load_catalog
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.settings import StackSettings, default_catalog
from hazardwatch.streams.rules.config import DEFAULT_RULES, load_rules
from hazardwatch.streams.vehicles.config import DEFAULT_VEHICLE_RULES, load_vehicle_rules


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("drill", help="run a drill scenario end to end and write its report")
    p.add_argument("scenario", help="a built-in name (combined, tank_farm, coal_mine, "
                                    "tailings_dam, vehicles) or a YAML path")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--rules", type=Path, default=DEFAULT_RULES)
    p.add_argument("--vehicle-rules", type=Path, default=DEFAULT_VEHICLE_RULES)
    p.add_argument("--alerting-config", type=Path, default=None,
                   help="routing config (default deploy/alerting/alerting.yaml)")
    p.add_argument("--out", type=Path, default=None, help="report folder (default .run/drills/…)")
    p.add_argument("--check", action="store_true", help="validate the scenario and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate, bring up the stack, play, report; exit 1 when an expectation failed."""
    from hazardwatch.simulators.drill import DrillRunner
    from hazardwatch.simulators.report import write_report
    from hazardwatch.simulators.scenario import load_scenario

    catalog = load_catalog(args.catalog)
    rules, vrules = load_rules(args.rules), load_vehicle_rules(args.vehicle_rules)
    try:
        sc = load_scenario(args.scenario, catalog)
    except ValueError as exc:
        print(f"drill: invalid scenario:\n{exc}")
        return 2
    if args.check:
        print(f"drill: {sc.name} is valid ({len(sc.incidents)} incidents)")
        return 0
    settings = StackSettings.from_env()
    Stack(settings).up()  # reuses what is running
    out = args.out or settings.run_dir / "drills" / f"{sc.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    from hazardwatch.alerting.config import DEFAULT_ALERTING, load_alerting

    alerting_cfg = args.alerting_config or DEFAULT_ALERTING
    load_alerting(alerting_cfg)  # a bad routing config stops the drill before it starts
    out.mkdir(parents=True, exist_ok=True)
    began = int(time.time() * 1000)
    run_ = DrillRunner(settings, catalog, rules, vrules, args.catalog.resolve(),
                       alerting_cfg).run(sc, out)
    md = write_report(run_, sc, catalog, rules, vrules, out)
    _shift_report(settings, catalog, run_.start, run_.start + int(sc.duration_min * 60_000), out,
                  began, frozenset(w.warning_id for w in run_.warnings),
                  _handle_deadlines(sc.workflow))
    ev = run_.evaluation
    print(f"drill {'PASSED' if ev.ok else 'FAILED'}: "
          f"{sum(o.ok for o in ev.outcomes)}/{len(ev.outcomes)} expected warnings at the "
          f"right level, {len(ev.unexpected)} unexpected")
    print(f"report: {md}")
    return 0 if ev.ok else 1


def _handle_deadlines(workflow: str | None) -> dict[int, int]:
    """The 处置 deadline per level the drill report scores against (the scenario's workflow
    file, else the defaults): the drill figures' 及时处置率 uses the same."""
    from hazardwatch.alerting.workflow.config import WorkflowConfig, load_workflow

    cfg = load_workflow(Path(workflow)) if workflow else WorkflowConfig()
    return {level: d.handle_s for level, d in cfg.steps.items()}


def _shift_report(settings: StackSettings, catalog: Catalog, start: int, end: int,
                  out: Path, began: int, warnings: frozenset[str],
                  deadline_s: dict[int, int]) -> None:
    """The figures of the drill period into InfluxDB (`kpi`, drill=true: every day and shift
    it overlaps) and the shift report of the period next to the drill report (which links to
    it), both of this run only: its own warnings and people's actions from its wall start
    `began` on (not an earlier run's, nor another drill's of the same period), times from
    each warning's push and 及时 by the drill's own deadlines (as the drill report); a
    failure is reported and the drill's verdict stands."""
    from hazardwatch.commands.kpis import compute_range
    from hazardwatch.kpis.influxread import InfluxReader
    from hazardwatch.kpis.rows import line
    from hazardwatch.reports.read import shift_report
    from hazardwatch.reports.render import to_html, to_pdf
    from hazardwatch.simulators.report import shift_link
    from hazardwatch.streams.sinks.influx import InfluxSink, InfluxTarget
    from hazardwatch.streams.sinks.line_protocol import RP_EVENTS

    try:
        reader = InfluxReader(settings.influx_url, settings.influx_db, catalog, drill=True,
                              only=warnings, acted_from=began)
        rows = compute_range(reader, start, end, ["day", "shift"], deadline_s=deadline_s)
        sink = InfluxSink(InfluxTarget(url=settings.influx_url, db=settings.influx_db), catalog)
        sink.add_lines(RP_EVENTS, [line(r, True) for r in rows])
        sink.flush()
        print(f"figures of the drill period: {len(rows)} rows in InfluxDB (kpi, drill=true; "
              f"points from {', '.join(sorted(reader.used))})")
        report = shift_report(reader, start, end, acted_until=int(time.time() * 1000),
                              acted_from=began, deadline_s=deadline_s)
        stem = out / shift_link(start)
        stem.with_suffix(".html").write_text(to_html(report), encoding="utf-8")
        to_pdf(report, stem.with_suffix(".pdf"))
        print(f"shift report: {stem.with_suffix('.html')}")
    except Exception as exc:
        print(f"drill: no shift report of the drill period: {exc}")
