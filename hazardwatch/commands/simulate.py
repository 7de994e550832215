"""`hazardwatch simulate`: load mode, N synthetic devices publishing at R messages/s."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hazardwatch.stack.logins import mqtt_login
from hazardwatch.stack.settings import StackSettings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("simulate", help="load mode: N devices publishing at R msgs/s over MQTT")
    p.add_argument("--devices", type=int, default=1000)
    p.add_argument("--rate", type=float, default=1000.0, help="messages per second, in total")
    p.add_argument("--duration", type=float, default=30.0, metavar="SECONDS")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--qos", type=int, choices=[0, 1], default=1)
    p.add_argument("--catalog-out", type=Path, default=None,
                   help="write the fleet's catalog here and exit (start the pipeline with "
                        "HW_CATALOG pointing at it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the catalog, or publish and report the achieved rate (JSON on the last line)."""
    from hazardwatch.simulators.load import load_catalog_text, run_load

    if args.catalog_out is not None:
        args.catalog_out.write_text(load_catalog_text(args.devices), encoding="utf-8")
        print(f"simulate: catalog of {args.devices} devices written to {args.catalog_out}")
        return 0
    s = StackSettings.from_env()
    user, password = mqtt_login(s, "hw-simulator")
    res = run_load(s.mqtt_port, user, password, args.devices, args.rate,
                   args.duration, args.connections, args.qos)
    print(json.dumps({"simulate": "load", "devices": args.devices, "target_rate": args.rate,
                      "sent": res.sent, "seconds": round(res.seconds, 2),
                      "achieved_rate": round(res.rate), "behind_s": round(res.behind_s, 2),
                      "unconfirmed": res.unconfirmed}))
    return 0 if res.behind_s < max(1.0, 0.1 * args.duration) and not res.unconfirmed else 1
