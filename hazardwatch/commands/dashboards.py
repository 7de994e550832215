"""`hazardwatch dashboards build|push`: generate the Grafana dashboards, or upsert them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hazardwatch.resources import packaged

GRAFANA_DIR = packaged("grafana", "dashboards")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("dashboards", help="generate or push the Grafana dashboards")
    p.add_argument("action", choices=["build", "push"])
    p.add_argument("--out", type=Path, default=GRAFANA_DIR, help="build: JSON folder")
    p.add_argument("--url", default="http://admin:admin@127.0.0.1:3000",
                   help="push: Grafana URL (credentials in the URL, or --token)")
    p.add_argument("--token", default=None, help="push: a service-account token")
    p.add_argument("--influx-url", default="http://127.0.0.1:18086",
                   help="push: InfluxDB URL as Grafana sees it")
    p.add_argument("--db", default="hazardwatch")
    p.set_defaults(func=run)


def dashboard_json() -> list[dict[str, Any]]:
    """Every dashboard as Grafana JSON."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder

    from hazardwatch.dashboards.build import all_dashboards

    enc = JSONEncoder(sort_keys=True)
    return [json.loads(enc.encode(d.build())) for d in all_dashboards()]


def run(args: argparse.Namespace) -> int:
    """Write the JSON files, or upsert folder, datasource and dashboards into Grafana."""
    boards = dashboard_json()
    if args.action == "build":
        args.out.mkdir(parents=True, exist_ok=True)
        for d in boards:
            path = args.out / f"{d['uid']}.json"
            path.write_text(json.dumps(d, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                            encoding="utf-8")
            print(f"dashboards: wrote {path}")
        return 0
    from grafana_client.api import GrafanaApi

    from hazardwatch.dashboards.push import push

    api = GrafanaApi.from_url(args.url, credential=args.token)
    for line in push(api, boards, args.influx_url, args.db):
        print(f"dashboards: {line}")
    return 0
