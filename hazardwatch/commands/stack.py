"""`hazardwatch stack up|down|status|logs`: the local real stack."""

from __future__ import annotations

import argparse
import time

from hazardwatch.stack import process
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.settings import StackSettings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("stack", help="run the local real stack (Mosquitto, Kafka, InfluxDB)")
    p.add_argument("action", choices=["up", "down", "status", "logs", "install"],
                   help="install: build or fetch what the services run (InfluxDB 1.8 from the "
                        "Go module proxy, the Kafka jars) without starting them")
    p.add_argument("service", nargs="?", help="with logs: one service")
    p.add_argument("-n", "--lines", type=int, default=40, help="with logs: lines per service")
    p.set_defaults(func=run)


def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 1048576:.1f} MiB"


def run(args: argparse.Namespace) -> int:
    """Carry out the action; status exits 3 when a service is not running.

    `HW_INFLUX_VERSION` (1.8.3, or 1.6 from Debian) and `HW_KAFKA_VERSION` (3.9.1, or 4.x)
    choose the releases, like the ports.
    """
    stack = Stack(StackSettings.from_env())
    if args.action == "up":
        t0 = time.monotonic()
        stack.up()
        print(f"stack up in {time.monotonic() - t0:.1f} s (run dir {stack.settings.run_dir})")
    elif args.action == "down":
        stack.down()
    elif args.action == "install":
        t0 = time.monotonic()
        stack.install()
        s = stack.settings
        print(f"stack install in {time.monotonic() - t0:.1f} s (InfluxDB {s.influx_version}, "
              f"Kafka {s.kafka_version})")
    elif args.action == "status":
        rows = stack.status()
        head = ("service", "state", "pid", "ports", "rss", "data")
        print("{:<10} {:<10} {:>8}  {:<12} {:>10} {:>10}  log".format(*head))
        for r in rows:
            print(f"{r.name:<10} {r.state:<10} {r.pid or '-':>8}  "
                  f"{','.join(map(str, r.ports)):<12} {_mib(r.rss_bytes):>10} "
                  f"{_mib(r.data_bytes):>10}  {r.log_file}")
        return 0 if all(r.state == "running" for r in rows) else 3
    else:
        names = [args.service] if args.service else [s.name for s in stack.services]
        for name in names:
            svc = stack.service(name)
            print(f"==> {svc.log_file} <==")
            print(process.tail(svc.log_file, args.lines))
    return 0
