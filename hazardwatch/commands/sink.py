"""`hazardwatch sink`: readings, events and warning transitions into InfluxDB."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from hazardwatch.commands import stop_on_signals
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.kafka_topics import ensure_topics
from hazardwatch.stack.settings import StackSettings, default_catalog
from hazardwatch.streams.sinks.influx import InfluxSink, InfluxTarget
from hazardwatch.streams.sinks.runner import SinkFatal, SinkRunner, SinkSettings

log = logging.getLogger("hazardwatch.sink")

TOPICS = (KafkaTopic.TELEMETRY, KafkaTopic.WARNINGS, KafkaTopic.VIDEO_EVENTS,
          KafkaTopic.DEVICE_STATUS, KafkaTopic.POSITIONS, KafkaTopic.VEHICLE_DAILY,
          KafkaTopic.SEEN_HOURLY, KafkaTopic.VEHICLE_HOURLY,
          KafkaTopic.ALERT_ACTIONS, KafkaTopic.REJECTED)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("sink", help="write readings and warnings from Kafka into InfluxDB")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--topic-prefix", default="")
    p.add_argument("--group", default="hw-influx-sink")
    p.add_argument("--influx-url", default=None, help="default: the local stack")
    p.add_argument("--db", default=None, help="database (v1/v3) or DBRP database (v2)")
    p.add_argument("--api", choices=["v1", "v2", "v3"], default="v1")
    p.add_argument("--org", default="")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM; flush and commit on the way out; exit 2 on a fatal Kafka error."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = StackSettings.from_env()
    target = InfluxTarget(url=args.influx_url or settings.influx_url,
                          db=args.db or settings.influx_db, api=args.api, org=args.org)
    topics = tuple(args.topic_prefix + t for t in TOPICS)
    runner = SinkRunner(SinkSettings(kafka_bootstrap=settings.kafka_bootstrap, topics=topics,
                                     group=args.group),
                        InfluxSink(target, load_catalog(args.catalog)))
    stop_on_signals(runner.stop)
    ensure_topics(settings.kafka_bootstrap, topics, stopped=runner.stop_event.is_set)
    try:
        runner.run()
    except SinkFatal as exc:
        log.error("%s", exc)
        return 2
    return 0
