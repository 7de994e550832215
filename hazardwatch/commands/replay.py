"""`hazardwatch replay`: the engine offline over recorded MQTT messages, deterministic."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.timestamps import to_epoch_ms
from hazardwatch.ingest.decode import Limits, MessageDecoder
from hazardwatch.stack.settings import default_catalog
from hazardwatch.streams.replay import Replayer, encode_jsonl, summary_lines
from hazardwatch.streams.rules.config import DEFAULT_RULES, load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.vehicles.config import DEFAULT_VEHICLE_RULES, load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("replay", help="run recorded MQTT messages through the rule engine")
    p.add_argument("input", type=Path,
                   help='JSON lines {"topic": …, "payload": …, "received_at": epoch ms '
                        '(optional: the receive time; without it the input\'s own time is '
                        'the clock)}; - for stdin')
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--rules", type=Path, default=DEFAULT_RULES)
    p.add_argument("--vehicle-rules", type=Path, default=DEFAULT_VEHICLE_RULES)
    p.add_argument("--until", help="flush timers up to this time (epoch ms or RFC 3339)")
    p.add_argument("--max-rejected-share", type=float, default=0.5, metavar="FRACTION",
                   help="exit 3 when more than this share of lines is rejected (default 0.5)")
    p.add_argument("--clock-tolerance", action="append", default=[], metavar="KIND=SECONDS",
                   help="how far a device clock may run ahead, per device kind (gateway, "
                        "sensor, camera, vehicle; default 300 s); repeatable")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Warnings as JSON lines on stdout; rejected lines and a summary on stderr."""
    catalog = load_catalog(args.catalog)
    replayer = Replayer(MessageDecoder(catalog, Limits(clock_tolerance_ms=clock_tolerances(
                            args.clock_tolerance))), Engine(catalog, load_rules(args.rules)),
                        VehicleEngine(catalog, load_vehicle_rules(args.vehicle_rules)))
    until = None
    if args.until:
        until = to_epoch_ms(int(args.until) if args.until.isdigit() else args.until, "--until")
    fh = sys.stdin if str(args.input) == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    out = sys.stdout
    try:
        for w in replayer.run(fh, until):
            out.write(encode_jsonl(w) + "\n")
    finally:
        if fh is not sys.stdin:
            fh.close()
    for err in replayer.summary.errors:
        print(err, file=sys.stderr)
    for line in summary_lines(replayer.summary):
        print(line, file=sys.stderr)
    share = replayer.summary.rejected_share
    if share > args.max_rejected_share:
        print(f"replay: {share:.0%} of the lines were rejected (more than "
              f"--max-rejected-share {args.max_rejected_share:.0%}): failed", file=sys.stderr)
        return 3
    return 0


def clock_tolerances(items: list[str]) -> dict[str, int]:
    """{device kind: ms} from KIND=SECONDS options; ValueError naming a bad one."""
    out = {}
    for item in items:
        kind, _, secs = item.partition("=")
        if kind not in ("gateway", "sensor", "camera", "vehicle") or not secs.isdigit():
            raise ValueError(f"--clock-tolerance {item!r}: want KIND=SECONDS with KIND one of "
                             "gateway, sensor, camera, vehicle")
        out[kind] = int(secs) * 1000
    return out
