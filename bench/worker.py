"""Benchmark the worker's real path: WorkerCore.handle on Kafka-shaped bytes, beside replay.

What a stream worker does per event, without Faust and Kafka: the record's JSON bytes (as the
bridge produced them, made before timing) → `WorkerCore.handle(prior state bytes, topic,
value)` → the new state bytes kept in a dict (Faust's in-memory table). Ticks as in the app:
one per partition (4) and second of event time, fanned out by `TickFanOut` to the
partition's keys. The same data then goes through `replay` (validation + engines + timers by
event time) in the same process. Two workloads, each timed on one core:

- vehicles: a synthetic fleet (simulators/fleet.py) reporting every 30 s (overspeed, stops,
  driving time), `--vehicles` for `--hours` of event time;
- sites: tank farms and coal mines whose gateways send 40 points once a second.

`--before PATH` also runs this file against the code in PATH (a worktree of an older commit)
in a subprocess, on the same data, and prints both with the ratios. The last line is JSON.
Usage: python bench/worker.py [--quick] [--before /tmp/base]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # bench.common (after PYTHONPATH)

from bench.common import best_replay, machine

T0 = 1_795_000_000_000
PARTITIONS = 4


def _records(cat_path: Path, lines: list[str]) -> list[tuple[int, str, bytes, bytes]]:
    """(event time, Kafka topic, key, value) of each line, as the bridge makes them."""
    from hazardwatch.contracts.catalog import load_catalog
    from hazardwatch.ingest.decode import Accepted, MessageDecoder

    dec = MessageDecoder(load_catalog(cat_path))
    out = []
    for line in lines:
        msg = json.loads(line)
        payload = json.dumps(msg["payload"]).encode()
        res = dec.decode(msg["topic"], payload, msg["payload"]["ts"])
        assert isinstance(res, Accepted), res
        out.append((res.record.ts, res.topic, res.key, res.value))
    return out


def _core(cat_path: Path) -> Any:
    from hazardwatch.contracts.catalog import load_catalog
    from hazardwatch.streams.rules.config import load_rules
    from hazardwatch.streams.rules.engine import Engine
    from hazardwatch.streams.vehicles.config import load_vehicle_rules
    from hazardwatch.streams.vehicles.engine import VehicleEngine
    from hazardwatch.streams.worker.core import WorkerCore

    cat = load_catalog(cat_path)
    return WorkerCore(Engine(cat, load_rules()), VehicleEngine(cat, load_vehicle_rules()),
                      started_at=T0, grace_ms=0)


def run_worker(cat_path: Path, records: list[tuple[int, str, bytes, bytes]]
               ) -> tuple[float, int, int, int]:
    """(seconds, warnings, key evaluations by ticks, state bytes at the end) of the worker
    path over the records, ticks included (the agent loop of streams/worker/app.py)."""
    from hazardwatch.streams.worker.core import TICK_TOPIC, Tick, TickFanOut, encode_tick

    core = _core(cat_path)
    cat = core.engine.catalog

    def partition_of(key: bytes) -> int:
        return zlib.crc32(key) % PARTITIONS

    fan = TickFanOut(list(cat.sites), list(cat.vehicles), partition_of)
    table: dict[bytes, bytes] = {}
    handle, warnings, ticked = core.handle, 0, 0
    if hasattr(core, "tick_events"):  # since issue 20: only the due keys

        def fan_events(key: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
            return core.tick_events(fan, key, value, table.get)  # type: ignore[no-any-return]
    else:
        fan_events = fan.events

    def evaluate(topic: str, key: bytes, value: bytes) -> None:
        nonlocal warnings, ticked
        events = fan_events(key, value) if topic == TICK_TOPIC else [(key, value)]
        for k, v in events:
            prior = table.get(k)
            result = handle(prior, topic, v)
            if result.state != prior:
                table[k] = result.state
            warnings += len(result.warnings)
            ticked += topic == TICK_TOPIC

    ticks = [encode_tick(Tick(None, 0, partition=p)) for p in range(PARTITIONS)]
    start = time.perf_counter()
    second = records[0][0] // 1000
    for ts, topic, key, value in records:
        while second * 1000 <= ts:  # every partition's tick of each second up to this event
            now = second * 1000
            for p in range(PARTITIONS):
                ticks[p] = encode_tick(Tick(None, now, partition=p))
                evaluate(TICK_TOPIC, b"", ticks[p])
            second += 1
        evaluate(topic, key, value)
    took = time.perf_counter() - start
    return took, warnings, ticked, sum(len(v) for v in table.values())


def workload(kind: str, quick: bool, tmp: Path, vehicles: int) -> tuple[Path, list[str]]:
    """(catalog path, replay lines) of one workload."""
    from hazardwatch.simulators.fleet import (
        fleet_catalog,
        fleet_lines,
        vehicle_catalog,
        vehicle_lines,
    )

    path = tmp / f"{kind}.yaml"
    if kind == "vehicles":
        hours = 1 if quick else 4
        path.write_text(vehicle_catalog(vehicles), encoding="utf-8")
        positions = vehicles * hours * 120
        return path, list(vehicle_lines(vehicles, positions, t0=T0))
    path.write_text(fleet_catalog(tank_farms=6, mines=4), encoding="utf-8")
    readings = 200_000 if quick else 800_000
    return path, list(fleet_lines(6, 4, readings, t0=T0))


def measure(quick: bool, vehicles: int) -> dict[str, Any]:
    """The figures of the code importable as `hazardwatch`."""
    import hazardwatch

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    out: dict[str, Any] = {"code": str(Path(hazardwatch.__file__).resolve().parents[1])}
    runs = 3 if quick else 5
    with tempfile.TemporaryDirectory() as d:
        for kind, unit in (("vehicles", "positions"), ("sites", "readings")):
            cat_path, lines = workload(kind, quick, Path(d), vehicles)
            records = _records(cat_path, lines)
            best: tuple[float, int, int, int] | None = None
            for _ in range(runs):
                r = run_worker(cat_path, records)
                best = r if best is None or r[0] < best[0] else best
            assert best is not None
            rate, warnings, summary = best_replay(cat_path, lines, runs)
            n = summary.readings
            out |= {f"{unit}": n, f"worker_{unit}_per_s": round(n / best[0]),
                    f"replay_{unit}_per_s": round(rate),
                    f"worker_{kind}_warnings": best[1], f"replay_{kind}_warnings": warnings,
                    f"worker_{kind}_tick_evaluations": best[2],
                    f"worker_{kind}_state_bytes": best[3]}
    return out


def _best(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The higher of each rate of two runs (other figures from the latest)."""
    if not old:
        return new
    return {k: max(v, old[k]) if k.endswith("_per_s") else v for k, v in new.items()}


def main() -> None:
    """Measure (and the before-code in a subprocess), print; the last line is JSON."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 hour of 200 vehicles, 200k readings")
    ap.add_argument("--vehicles", type=int, default=200)
    ap.add_argument("--before", type=Path, help="a worktree of the code to compare with")
    ap.add_argument("--rounds", type=int, default=2, help="before/after rounds (--before)")
    ap.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    where, before = machine(), None
    if args.before:  # interleaved, best of each: the machine's load drifts
        cmd = [sys.executable, __file__, "--raw", "--vehicles", str(args.vehicles)]
        env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
        after: dict[str, Any] = {}
        for _ in range(args.rounds):
            done = subprocess.run(cmd + (["--quick"] if args.quick else []), env=env,
                                  check=True, capture_output=True, text=True)
            before = _best(before, json.loads(done.stdout.strip().splitlines()[-1]))
            after = _best(after, measure(args.quick, args.vehicles))
    else:
        after = measure(args.quick, args.vehicles)
    if args.raw:
        print(json.dumps(after))
        return
    result: dict[str, Any] = {"bench": "worker", **where, "cores_used": 1,
                              "quick": args.quick, "vehicles": args.vehicles, **after}
    if before is not None:
        result["before"] = before
        for key in ("worker_positions_per_s", "replay_positions_per_s",
                    "worker_readings_per_s", "replay_readings_per_s"):
            result[f"{key}_vs_before"] = round(after[key] / before[key], 2)
    result["worker_vs_replay_positions"] = round(
        after["worker_positions_per_s"] / after["replay_positions_per_s"], 2)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
