"""`hazardwatch alerting`: route and escalate hw.warnings to people; the acknowledgement API."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import time
from pathlib import Path
from typing import Any

from hazardwatch.commands import stop_on_signals
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.stack.settings import StackSettings, default_catalog

log = logging.getLogger("hazardwatch.alerting")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    from hazardwatch.alerting.config import DEFAULT_ALERTING

    p = sub.add_parser("alerting", help="notify, escalate until acknowledged, serve the API")
    p.add_argument("--config", type=Path, default=DEFAULT_ALERTING)
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--state", type=Path, default=None, help="SQLite file (default .run/…)")
    p.add_argument("--topic-prefix", default="")
    p.add_argument("--api-port", type=int, default=18090)
    p.add_argument("--check", action="store_true", help="validate the configuration and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate, then consume and notify until SIGTERM."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    from hazardwatch import kafka_tail
    from hazardwatch.alerting.api import serve
    from hazardwatch.alerting.channels.mail import send_email, send_sms
    from hazardwatch.alerting.channels.robots import send_dingtalk, send_feishu, send_wecom
    from hazardwatch.alerting.channels.webhook import send_webhook
    from hazardwatch.alerting.config import load_alerting
    from hazardwatch.alerting.service import AlertingService, Send
    from hazardwatch.alerting.store import Store
    from hazardwatch.contracts.warnings import decode_warning

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cfg, catalog = load_alerting(args.config), load_catalog(args.catalog)
    if args.check:
        print(f"alerting: {args.config} is valid")
        return 0
    s = StackSettings.from_env()
    store = Store(args.state or s.run_dir / "alerting" / f"{args.topic_prefix or 'main'}.db")
    topic, actions = args.topic_prefix + KafkaTopic.WARNINGS, args.topic_prefix + \
        KafkaTopic.ALERT_ACTIONS
    kafka_tail.ensure_topics(s.kafka_bootstrap, [topic, actions])
    producer = Producer({"bootstrap.servers": s.kafka_bootstrap, "enable.idempotence": True,
                         "linger.ms": 5})

    def emit(event: dict[str, Any]) -> None:
        producer.produce(actions, key=str(event.get("warning_id", "")).encode(),
                         value=json.dumps(event, ensure_ascii=False).encode())

    senders: dict[str, Send] = {
        "webhook": send_webhook, "dingtalk": send_dingtalk, "wecom": send_wecom,
        "feishu": send_feishu, "email": functools.partial(send_email, cfg.gateways),
        "sms": functools.partial(send_sms, cfg.gateways)}
    service = AlertingService(cfg, catalog, store, senders, emit)
    consumer = Consumer({"bootstrap.servers": s.kafka_bootstrap, "group.id": "hw-alerting",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "fetch.wait.max.ms": 20})
    stored = store.offsets()
    parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, stored.get(f"{topic}:{p}", -2)) for p in parts])
    server = serve(service, "127.0.0.1", args.api_port)
    running = [True]
    stop_on_signals(lambda: running.__setitem__(0, False))
    log.info("alerting: ready (%d alerts restored, API on 127.0.0.1:%d)", len(service.alerts),
             args.api_port)
    while running[0]:
        msgs = [m for m in consumer.consume(500, timeout=0.05) if m.error() is None]
        now = int(time.time() * 1000)
        if msgs:
            with store.tx():  # warnings and their offsets in one transaction
                for m in msgs:
                    service.on_warning(decode_warning(m.value() or b""), now)
                    store.put_offset(f"{m.topic()}:{m.partition()}", (m.offset() or 0) + 1)
        service.step(now)
        producer.flush(5)
    server.shutdown()
    consumer.close()
    producer.flush(10)
    log.info("alerting: stopped")
    return 0
