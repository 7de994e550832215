"""Benchmark the vehicle rules: positions/s on one core through `replay` (validation + engine).

Input: a synthetic fleet (simulators/fleet.py) of 2,000 vehicles reporting every 30 s with
speeds around 68 km/h (some over their limits), stops and GNSS noise, so overspeed, driving
time, zones and routes are all evaluated. Lines are generated first; only the replay is timed.
The last line printed is JSON.
Usage: python bench/vehicles.py [--quick] [--positions N]
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
from hazardwatch.simulators.fleet import vehicle_catalog, vehicle_lines


def main() -> None:
    """Generate, replay, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the same positions, one run")
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--vehicles", type=int, default=2000)
    args = parser.parse_args()
    where = machine()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        cat_path = Path(tmp) / "fleet.yaml"
        cat_path.write_text(vehicle_catalog(args.vehicles), encoding="utf-8")
        lines = list(vehicle_lines(args.vehicles, args.positions, t0=1_795_000_000_000))
        rate, warnings, summary = best_replay(cat_path, lines, 1 if args.quick else 3)
    print(json.dumps({"bench": "vehicles", **where, "cores_used": 1,
                      "vehicles": args.vehicles, "positions": summary.readings,
                      "rejected": sum(summary.rejected.values()),
                      "warning_records": warnings, "positions_per_s": round(rate)}))


if __name__ == "__main__":
    main()
