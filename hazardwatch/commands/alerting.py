"""`hazardwatch alerting`: route and escalate hw.warnings to people; the acknowledgement API."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from hazardwatch.commands import stop_on_signals
from hazardwatch.stack.settings import StackSettings, default_catalog

log = logging.getLogger("hazardwatch.alerting")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    from hazardwatch.alerting.config import DEFAULT_ALERTING

    p = sub.add_parser("alerting", help="notify, escalate until acknowledged, serve the API")
    p.add_argument("--config", type=Path, default=DEFAULT_ALERTING)
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--state", type=Path, default=None,
                   help="ignored: the state is in the Kafka changelog hw.alerting-state")
    p.add_argument("--topic-prefix", default="")
    p.add_argument("--host", default=os.environ.get("HW_ALERTING_HOST") or "127.0.0.1",
                   help="address the API binds to (env HW_ALERTING_HOST; default 127.0.0.1)")
    p.add_argument("--api-port", type=int, default=18090)
    p.add_argument("--session-timeout", type=float,
                   default=float(os.environ.get("HW_ALERTING_SESSION_TIMEOUT_S") or 6.0),
                   help="seconds after which a dead instance's alerts move to another "
                        "(env HW_ALERTING_SESSION_TIMEOUT_S; default 6)")
    p.add_argument("--instance", default="", help="a name for this instance (logs, events)")
    p.add_argument("--check", action="store_true",
                   help="validate the configuration and everything it refers to, then exit")
    p.add_argument("--users", type=Path, default=None,
                   help="an older console accounts file to import at start (names the "
                        "store has already are kept; env HW_ALERTING_USERS; default "
                        ".run/alerting/users.json); accounts live in the alerting store, "
                        "managed with `alerting user …`")
    p.add_argument("--tile-url", default=os.environ.get("HW_CONSOLE_TILE_URL", ""),
                   help="map tile URL template for the console (env HW_CONSOLE_TILE_URL; "
                        "empty: points on a plain background)")
    p.add_argument("--workflow", type=Path, default=None,
                   help="deadlines of 签收/核查/处置 per level, 督办 per administrative level and "
                        "the 销号 roles (YAML; default: docs/alerting.md)")
    p.add_argument("--influx-db", default=None,
                   help="InfluxDB database the console reads readings and events from "
                        "(default: the stack's, HW_INFLUX_DB)")
    p.set_defaults(func=run)
    from hazardwatch.commands import console_users

    console_users.add_parser(p)


def run(args: argparse.Namespace) -> int:
    """Validate, then consume and notify until SIGTERM."""
    from hazardwatch.alerting.check import secret_problems
    from hazardwatch.alerting.config import AlertingConfigError, load_alerting
    from hazardwatch.alerting.runner import RunnerOptions
    from hazardwatch.alerting.runner import run as run_service
    from hazardwatch.alerting.yamllines import line_map, line_of
    from hazardwatch.contracts.catalog import load_catalog

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        catalog = load_catalog(args.catalog)
        cfg = load_alerting(args.config, catalog=catalog)
    except AlertingConfigError as exc:
        print(f"alerting: {len(exc.problems)} problem(s):", *exc.problems, sep="\n",
              file=sys.stderr)
        return 1
    except ValueError as exc:  # the catalog
        print(f"alerting: {exc}", file=sys.stderr)
        return 1
    from hazardwatch.alerting.workflow.config import load_workflow

    try:
        workflow = load_workflow(args.workflow)
    except ValueError as exc:
        print(f"alerting: {exc}", file=sys.stderr)
        return 1
    lines = line_map(args.config.read_text(encoding="utf-8"))
    unsafe = [f"{args.config}:{line_of(lines, at)}: {why}"
              for at, why in secret_problems(cfg, args.host)]
    if unsafe:
        print(f"alerting: {len(unsafe)} problem(s) (not the local stack: "
              "placeholder secrets refused):", *unsafe, sep="\n", file=sys.stderr)
        return 1
    if args.check:
        print(f"alerting: {args.config} is valid")
        return 0
    from hazardwatch.alerting.web.context import ConsoleOptions
    from hazardwatch.commands.console_users import default_users

    s = StackSettings.from_env()
    console = ConsoleOptions(users=args.users or default_users(), tile_url=args.tile_url,
                             influx_url=s.influx_url, influx_db=args.influx_db or s.influx_db,
                             secure_cookie=cfg.public_url.startswith("https://"))
    opts = RunnerOptions(
        bootstrap=s.kafka_bootstrap, topic_prefix=args.topic_prefix, host=args.host,
        api_port=args.api_port, session_timeout_s=args.session_timeout, instance=args.instance,
        console=console, workflow=workflow)
    running = [True]
    stop_on_signals(lambda: running.__setitem__(0, False))
    run_service(cfg, catalog, opts, lambda: running[0])
    return 0
