"""`hazardwatch denied-publishes`: publishes the broker refused, per device, from its log."""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from hazardwatch.commands import stop_on_signals
from hazardwatch.ingest.denied import DeniedPublishes
from hazardwatch.ingest.metrics_server import serve_metrics
from hazardwatch.stack.settings import StackSettings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("denied-publishes",
                       help="count publishes the MQTT broker refused, per device account")
    p.add_argument("--log", type=Path, default=None,
                   help="Mosquitto's log (default: the local stack's); needs log_type debug "
                        "(local stack: HW_MQTT_LOG_DENIED=1)")
    p.add_argument("--follow", action="store_true",
                   help="keep reading the log as it grows (with --metrics-port: serve counts)")
    p.add_argument("--metrics-port", type=int, default=None)
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read the log once (a JSON line per account and topic) or follow it."""
    path = args.log or StackSettings.from_env().run_dir / "mosquitto" / "mosquitto.log"
    counter = DeniedPublishes()
    stop = threading.Event()
    stop_on_signals(stop.set)
    server = (serve_metrics(counter.prometheus, args.metrics_port)
              if args.metrics_port is not None else None)
    with open(path, encoding="utf-8", errors="replace") as fh:
        while True:
            line = fh.readline()
            if line:
                counter.feed(line)
                continue
            if not args.follow or stop.is_set():
                break
            time.sleep(args.interval)
    if server is not None:
        server.shutdown()
    for (account, topic), n in sorted(counter.denied.items()):
        print(json.dumps({"account": account, "topic": topic, "denied": n}, ensure_ascii=False))
    total = sum(counter.denied.values())
    print(f"被拒绝的发布: {total} 条, 涉及 {len(counter.by_account())} 个账号 "
          f"(denied publishes: {total}, accounts: {len(counter.by_account())})")
    return 0

