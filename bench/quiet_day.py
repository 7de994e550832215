"""Quiet-day benchmark: a realistic normal day of the demo catalog must raise NO warning, and
the built-in drills' incidents played on top of it must all still be detected.

The day (simulators/quiet.py, seeded): detectors at zero inside their dead band, a tank at rest
and in transfer, gateways reporting by exception, coal sensors with their real small values,
slow tailings signals, vehicles parked and driving legally. It is replayed through the same
validation and engine as the live pipeline. Printed: the warnings of the day under the rule
pack and under the former frozen-value policy (every metric but rainfall), each drill on the
quiet day, and the de-noising ratio of the drills: raw set-point crossings (and readings past
a set-point, what a system alarming on every sample would send) against warnings raised and
notifications (raised and upgraded transitions, what pages people before the alerting
service's grouping); the ratio is readings past a set-point / notifications.
The last line printed is JSON.
Usage: python bench/quiet_day.py [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.simulators.evaluate import evaluate
from hazardwatch.simulators.player import start_ms
from hazardwatch.simulators.quiet import quiet_day
from hazardwatch.simulators.quiet_replay import crossings, replay_player
from hazardwatch.simulators.scenario import SCENARIOS, load_scenario
from hazardwatch.streams.rules.config import FaultConfig, FrozenPolicy, load_rules
from hazardwatch.streams.vehicles.config import load_vehicle_rules

NOW = 1_795_400_000_000


def main() -> None:
    """Play, replay, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cat = load_catalog("deploy/catalog/demo.yaml")
    rules, vrules = load_rules(), load_vehicle_rules()
    old = msgspec.structs.replace(rules, fault=FaultConfig(
        level=rules.fault.level, level_coal_ch4=rules.fault.level_coal_ch4,
        frozen_s=rules.fault.frozen_s, frozen={"rainfall": FrozenPolicy(when="never")}))
    day = quiet_day(args.seed)
    start = start_ms(day, NOW)
    t = time.perf_counter()
    _, warnings, summary = replay_player(day, cat, rules, vrules, start)
    took = time.perf_counter() - t
    _, old_warnings, _ = replay_player(day, cat, old, vrules, start)
    print(f"quiet day: {summary.lines} messages, {summary.readings} readings/positions, "
          f"{len(warnings)} warning records (former frozen policy: {len(old_warnings)}: "
          f"{sorted({w.rule + ' ' + str(w.sensor) for w in old_warnings})})")
    for w in warnings:
        print("  UNEXPECTED", w.message)
    drills, raw, past, raised, notified, missed, unexpected = [], 0, 0, 0, 0, 0, 0
    for path in sorted(SCENARIOS.glob("*.yaml")):
        sc = load_scenario(path.stem, cat)
        s0 = start_ms(sc, NOW)
        d_lines, d_warn, _ = replay_player(sc, cat, rules, vrules, s0, quiet=True)
        ev = evaluate(sc, s0, d_warn)
        bad = [(o.incident, o.rule) for o in ev.outcomes if not o.ok]
        c, p = crossings(d_lines, cat, rules, vrules)
        played = [w for w in d_warn if not w.rule.endswith(".never_connected")]  # (of sites
        r = sum(w.transition == "raised" for w in played)  # and vehicles a drill leaves out)
        n = sum(w.transition in ("raised", "upgraded") for w in played)
        raw, past, raised, notified = raw + c, past + p, raised + r, notified + n
        missed, unexpected = missed + len(bad), unexpected + len(ev.unexpected)
        drills.append({"drill": sc.name, "expected": len(ev.outcomes),
                       "missed": len(bad), "unexpected": len(ev.unexpected),
                       "raw_crossings": c, "raw_readings_past_setpoint": p, "raised": r,
                       "notifications": n})
        print(f"drill {sc.name} on the quiet day: {len(ev.outcomes) - len(bad)}/"
              f"{len(ev.outcomes)} detected, {len(ev.unexpected)} unexpected, raw crossings "
              f"{c} (readings past a set-point {p}), raised {r}, notifications {n}"
              + (f"; MISSED {bad}" if bad else ""))
    print(json.dumps({
        "bench": "quiet_day", **machine(), "seed": args.seed,
        "quiet_day_messages": summary.lines, "quiet_day_readings": summary.readings,
        "quiet_day_warning_records": len(warnings),
        "quiet_day_warning_records_former_frozen_policy": len(old_warnings),
        "quiet_day_replay_s": round(took, 2),
        "drills_missed": missed, "drills_unexpected": unexpected,
        "raw_threshold_crossings": raw, "raw_readings_past_setpoint": past,
        "warnings_raised": raised, "notifications": notified,
        "denoising_ratio": round(past / notified, 1) if notified else None,
        "drills": drills}, ensure_ascii=False))


if __name__ == "__main__":
    main()
