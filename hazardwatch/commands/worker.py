"""`hazardwatch worker`: a Faust stream worker evaluating the rules."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.stack.settings import StackSettings, default_catalog
from hazardwatch.streams.rules.config import DEFAULT_RULES, load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.vehicles.config import DEFAULT_VEHICLE_RULES, load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("worker", help="run a stream worker (Faust): rules → hw.warnings")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--rules", type=Path, default=DEFAULT_RULES)
    p.add_argument("--vehicle-rules", type=Path, default=DEFAULT_VEHICLE_RULES)
    p.add_argument("--app-id", default="hazardwatch-streams")
    p.add_argument("--topic-prefix", default="")
    p.add_argument("--web-port", type=int, default=6066)
    p.add_argument("--grace", type=float, default=None, metavar="SECONDS",
                   help="no offline warning this long after start (default: rules file)")
    p.add_argument("--gap-hold", type=float, default=None, metavar="SECONDS",
                   help="no offline warning this long after a platform gap (Kafka, bridge or "
                        "worker away, or catching up); default: the rules' start-up grace")
    p.add_argument("--standby-replicas", type=int, default=0, metavar="N",
                   help="copies of the other workers' state each worker keeps (default 0: with "
                        "1 the survivor of a frozen worker was fenced once, docs/operations.md)")
    p.add_argument("--session-timeout", type=float, default=6.0, metavar="SECONDS",
                   help="a frozen or dead worker's partitions move after this (default 6 s, "
                        "the broker's minimum; heartbeats every quarter of it)")
    p.add_argument("--fast-restore", action=argparse.BooleanOptionalAction, default=True,
                   help="end a changelog restore once only transaction markers are left below "
                        "the last stable offset, not 10 s later (default; docs/operations.md)")
    p.add_argument("--tick", type=float, default=1.0, metavar="SECONDS")
    p.add_argument("--ticks", choices=["internal", "external"], default="internal",
                   help="external: timers run on ticks another process sends (drills)")
    p.add_argument("--commit-interval", type=float, default=0.2, metavar="SECONDS",
                   help="transaction commit interval; a warning is visible downstream only "
                        "after its commit (default 0.2 s)")
    p.add_argument("--seen-every", type=float, default=600.0, metavar="SECONDS",
                   help="rewrite a site's open hour of value tallies (hw.seen-hourly, the "
                        "figures' input) at most this often when it has new values")
    p.add_argument("--loglevel", default="info")
    p.add_argument("--guarantee", choices=["exactly_once", "at_least_once"],
                   default="exactly_once")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the app from validated config and run it until SIGTERM."""
    from faust import Worker

    from hazardwatch.kafka_topics import ensure_topics
    from hazardwatch.streams.worker.app import WorkerSettings, create_app, pipeline_topics

    catalog = load_catalog(args.catalog)
    rules = load_rules(args.rules)
    settings = StackSettings.from_env()
    ws = WorkerSettings(kafka_bootstrap=settings.kafka_bootstrap, app_id=args.app_id,
                        topic_prefix=args.topic_prefix, web_port=args.web_port,
                        tick_interval_s=args.tick, guarantee=args.guarantee,
                        internal_ticks=args.ticks == "internal",
                        commit_interval_s=args.commit_interval,
                        standby_replicas=args.standby_replicas,
                        seen_every_s=args.seen_every,
                        session_timeout_s=args.session_timeout,
                        heartbeat_interval_s=args.session_timeout / 4,
                        fast_restore=args.fast_restore,
                        grace_s=rules.offline.startup_grace_s if args.grace is None else args.grace,
                        gap_hold_s=(rules.offline.startup_grace_s if args.gap_hold is None
                                    else args.gap_hold))
    # before Faust subscribes: a topic created later would be seen only at the next metadata
    # refresh (5 minutes), and its ticks' transactions would fail meanwhile
    ensure_topics(ws.kafka_bootstrap, pipeline_topics(ws), ws.partitions)
    app = create_app(ws, Engine(catalog, rules),
                     VehicleEngine(catalog, load_vehicle_rules(args.vehicle_rules)))
    worker = Worker(app, loglevel=args.loglevel)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        reason = worker.crash_reason or app.crash_reason
        if exc.code not in (0, None) and reason is not None:
            restart_self(reason)
        raise
    return 0


def restart_self(reason: BaseException) -> NoReturn:
    """A crashed worker (e.g. fenced after a long pause) starts again in place: same pid, same
    arguments, a new producer and consumer that rejoin the group; never on SIGTERM."""
    print(f"worker crashed ({reason!r}); restarting itself in 2 s", file=sys.stderr, flush=True)
    time.sleep(2)
    os.execv(sys.executable, [sys.executable, "-m", "hazardwatch", *sys.argv[1:]])
