"""The alerting service's loop: hw.warnings in (offsets stored with the state), step the
service, serve the API; the CLI only parses options and calls `run`."""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from hazardwatch.alerting.config import AlertingConfig
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.topics import KafkaTopic

log = logging.getLogger("hazardwatch.alerting")


@dataclass(frozen=True, kw_only=True)
class RunnerOptions:
    """Where to read, where to keep state, where to serve the API."""

    bootstrap: str
    state: Path
    topic_prefix: str = ""
    host: str = "127.0.0.1"
    api_port: int = 18090


def senders(cfg: AlertingConfig) -> dict[str, Callable[..., None]]:
    """The channel senders by channel type."""
    from hazardwatch.alerting.channels.mail import send_email, send_sms
    from hazardwatch.alerting.channels.robots import send_dingtalk, send_feishu, send_wecom
    from hazardwatch.alerting.channels.webhook import send_webhook

    return {"webhook": send_webhook, "dingtalk": send_dingtalk, "wecom": send_wecom,
            "feishu": send_feishu, "email": functools.partial(send_email, cfg.gateways),
            "sms": functools.partial(send_sms, cfg.gateways)}


def run(cfg: AlertingConfig, catalog: Catalog, opts: RunnerOptions,
        running: Callable[[], bool]) -> None:
    """Consume and notify while running() is true."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    from hazardwatch import kafka_tail
    from hazardwatch.alerting.api import serve
    from hazardwatch.alerting.service import AlertingService
    from hazardwatch.alerting.store import Store
    from hazardwatch.contracts.warnings import decode_warning

    store = Store(opts.state)
    topic = opts.topic_prefix + KafkaTopic.WARNINGS
    actions = opts.topic_prefix + KafkaTopic.ALERT_ACTIONS
    kafka_tail.ensure_topics(opts.bootstrap, [topic, actions])
    producer = Producer({"bootstrap.servers": opts.bootstrap, "enable.idempotence": True,
                         "linger.ms": 5})

    def emit(event: dict[str, Any]) -> None:
        producer.produce(actions, key=str(event.get("warning_id", "")).encode(),
                         value=json.dumps(event, ensure_ascii=False).encode())

    service = AlertingService(cfg, catalog, store, senders(cfg), emit)
    consumer = Consumer({"bootstrap.servers": opts.bootstrap, "group.id": "hw-alerting",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "fetch.wait.max.ms": 20})
    stored = store.offsets()
    parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, stored.get(f"{topic}:{p}", -2)) for p in parts])
    server = serve(service, opts.host, opts.api_port)
    log.info("alerting: ready (%d alerts restored, API on %s:%d)", len(service.alerts),
             opts.host, opts.api_port)
    while running():
        msgs = [m for m in consumer.consume(500, timeout=0.05) if m.error() is None]
        now = int(time.time() * 1000)
        if msgs:
            with store.tx():  # warnings and their offsets in one transaction
                for m in msgs:
                    try:
                        w = decode_warning(m.value() or b"")
                    except msgspec.DecodeError as exc:
                        log.error("hw.warnings %d@%d 无法解析，已跳过: %s", m.partition(),
                                  m.offset(), exc)
                    else:
                        service.on_warning(w, now)
                    store.put_offset(f"{m.topic()}:{m.partition()}", (m.offset() or 0) + 1)
        try:
            service.step(now)
        except Exception:  # reported; the next step tries again, the service keeps paging
            log.exception("alerting: step failed")
        producer.flush(5)
    server.shutdown()
    consumer.close()
    producer.flush(10)
    log.info("alerting: stopped")
