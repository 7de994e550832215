"""Benchmark the rule engine: readings/s on one core through `replay` (validation + engine).

Input: a synthetic fleet (simulators/fleet.py) of tank farms and coal mines whose gateways
send 40 points per message once a second, with rare excursions. Lines are generated first;
only the replay is timed. The last line printed is JSON.
Usage: python bench/engine.py [--quick] [--readings N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import best_replay, machine
from hazardwatch.simulators.fleet import fleet_catalog, fleet_lines


def main() -> None:
    """Generate, replay, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the same 1 M readings, one run")
    parser.add_argument("--readings", type=int, default=1_000_000)
    args = parser.parse_args()
    where = machine()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        cat_path = Path(tmp) / "fleet.yaml"
        cat_path.write_text(fleet_catalog(tank_farms=60, mines=40), encoding="utf-8")
        t0 = 1_795_000_000_000
        lines = list(fleet_lines(60, 40, args.readings, t0=t0))
        rate, warnings, summary = best_replay(cat_path, lines, 1 if args.quick else 3)
    print(json.dumps({"bench": "engine", **where, "cores_used": 1,
                      "readings": summary.readings, "messages": summary.accepted,
                      "points_per_message": 40, "warning_records": warnings,
                      "engine_readings_per_s": round(rate)}))


if __name__ == "__main__":
    main()
