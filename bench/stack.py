"""Benchmark the local stack: cold and warm `stack up` time and resident memory at idle.

Cold: a new run directory (jars copied from the local Maven cache, Kafka storage formatted).
Warm: the same run directory after `stack down`. Uses its own ports; prints one JSON line last.
Usage: python bench/stack.py [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from hazardwatch.stack import process
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.settings import StackSettings


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hw-bench-stack-") as tmp:
        settings = StackSettings(
            run_dir=Path(tmp), mqtt_port=process.free_port(), kafka_port=process.free_port(),
            kafka_controller_port=process.free_port(), influx_port=process.free_port(),
            influx_rpc_port=process.free_port(),
        )
        stack = Stack(settings)
        quiet = lambda _m: None  # noqa: E731
        t0 = time.monotonic()
        stack.up(say=quiet)
        cold = time.monotonic() - t0
        stack.down(say=quiet)
        t0 = time.monotonic()
        stack.up(say=quiet)
        warm = time.monotonic() - t0
        time.sleep(args.idle_seconds)
        rss = {s.name: round((s.rss_bytes or 0) / 1048576, 1) for s in stack.status()}
        stack.down(say=quiet)
    figures = {
        "bench": "stack",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.node()} {platform.machine()} {process.cpu_count()} cores",
        "cold_up_s": round(cold, 1),
        "warm_up_s": round(warm, 1),
        "idle_rss_mib": rss,
    }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
