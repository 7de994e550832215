"""`hazardwatch bridge`: the MQTT → Kafka bridge."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from hazardwatch.commands import stop_on_signals
from hazardwatch.commands.replay import clock_tolerances
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.ingest.bridge import Bridge, BridgeConfig
from hazardwatch.ingest.decode import Limits, MessageDecoder
from hazardwatch.ingest.session import retire_session
from hazardwatch.kafka_topics import ensure_topics
from hazardwatch.stack.logins import mqtt_login
from hazardwatch.stack.settings import StackSettings, default_catalog

OUTPUTS = (KafkaTopic.TELEMETRY, KafkaTopic.POSITIONS, KafkaTopic.VIDEO_EVENTS,
           KafkaTopic.DEVICE_STATUS, KafkaTopic.REJECTED)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("bridge", help="move MQTT messages into Kafka (at least once)")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--client-id", default=f"hw-bridge-{os.uname().nodename}-1",
                   help="stable per process: it names the persistent MQTT session")
    p.add_argument("--group", default="",
                   help="MQTT 5 shared-subscription group, for several bridges splitting the "
                        "load (a Mosquitto 2.0 restart drops what devices publish until they "
                        "subscribe again); default: a plain subscription, restored by the broker")
    p.add_argument("--topic-prefix", default="", help="prefix for Kafka topic names")
    p.add_argument("--session-expiry", type=int, default=7 * 86400, metavar="SECONDS")
    p.add_argument("--metrics-port", type=int, default=None)
    p.add_argument("--log-interval", type=float, default=10.0, metavar="SECONDS")
    p.add_argument("--clock-tolerance", action="append", default=[], metavar="KIND=SECONDS",
                   help="how far a device clock may run ahead, per device kind (gateway, "
                        "sensor, camera, vehicle; default 300 s); repeatable")
    p.add_argument("--retire", action="store_true",
                   help="end this client id's persistent session (instance decommissioned)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM or SIGINT, then flush and exit 0 (2 on a fatal Kafka error)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = StackSettings.from_env()
    username, password = mqtt_login(settings, "hw-bridge")
    if args.retire:
        ok = retire_session(settings.mqtt_host, settings.mqtt_port, username, password,
                            args.client_id)
        print(f"session of {args.client_id}: {'retired' if ok else 'NOT retired'}")
        return 0 if ok else 1
    cfg = BridgeConfig(
        mqtt_host=settings.mqtt_host, mqtt_port=settings.mqtt_port,
        username=username, password=password,
        client_id=args.client_id, group=args.group, kafka_bootstrap=settings.kafka_bootstrap,
        topic_prefix=args.topic_prefix, session_expiry_s=args.session_expiry,
        metrics_port=args.metrics_port, log_interval_s=args.log_interval,
    )
    limits = Limits(clock_tolerance_ms=clock_tolerances(args.clock_tolerance))
    bridge = Bridge(cfg, MessageDecoder(load_catalog(args.catalog), limits))
    stop_on_signals(bridge.stop)
    ensure_topics(settings.kafka_bootstrap, [cfg.kafka_topic(t) for t in OUTPUTS],
                  stopped=bridge.stopping)
    bridge.run()
    return 2 if bridge.fatal is not None else 0
