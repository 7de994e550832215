"""The alerting service's loop, for one or many instances: consumer-group ownership of the
hw.warnings partitions, the state in a compacted changelog every instance reads, the API on
every instance. The CLI only parses options and calls `run`. See docs/alerting.md (fail-over)."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from hazardwatch.alerting.config import AlertingConfig
from hazardwatch.alerting.web.context import ConsoleOptions
from hazardwatch.alerting.workflow.config import WorkflowConfig
from hazardwatch.connection_log import ConnectionLog
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.topics import KafkaTopic

if TYPE_CHECKING:
    from hazardwatch.alerting.accountlog import AccountLog

log = logging.getLogger("hazardwatch.alerting")
STATE_TOPIC = "hw.alerting-state"


@dataclass(frozen=True, kw_only=True)
class RunnerOptions:
    """Where to read, how fast to fail over, where to serve the API."""

    bootstrap: str
    topic_prefix: str = ""
    host: str = "127.0.0.1"
    api_port: int = 18090
    session_timeout_s: float = 6.0  # a dead instance's partitions move after this (the
    # broker's group.min.session.timeout.ms, 6 s by default, is the floor)
    instance: str = ""
    console: ConsoleOptions | None = None  # map tiles, accounts file to import (issue 16)
    workflow: WorkflowConfig | None = None  # deadlines and 督办 (None: the documented defaults)


def senders(cfg: AlertingConfig) -> dict[str, Callable[..., None]]:
    """The channel senders by channel type."""
    from hazardwatch.alerting.channels.mail import send_email
    from hazardwatch.alerting.channels.robots import send_dingtalk, send_feishu, send_wecom
    from hazardwatch.alerting.channels.sms import send_sms
    from hazardwatch.alerting.channels.voice import send_voice
    from hazardwatch.alerting.channels.webhook import send_webhook

    return {"webhook": send_webhook, "dingtalk": send_dingtalk, "wecom": send_wecom,
            "feishu": send_feishu, "email": functools.partial(send_email, cfg.gateways),
            "sms": functools.partial(send_sms, cfg.gateways),
            "voice": functools.partial(send_voice, cfg.gateways)}


def ensure_state_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """The compacted changelog, with as many partitions as hw.warnings."""
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    admin = AdminClient({"bootstrap.servers": bootstrap})
    if topic in admin.list_topics(timeout=10).topics:
        return
    fut = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1,
                                        config={"cleanup.policy": "compact"})])[topic]
    try:
        fut.result(15)
    except Exception as exc:
        if "TOPIC_ALREADY_EXISTS" not in str(exc):
            raise


def open_accounts(opts: RunnerOptions) -> AccountLog:
    """The console accounts of the alerting store, followed; an older accounts file given
    as `users` is imported first (only the names the store does not have yet)."""
    from hazardwatch.alerting.accountlog import ACCOUNTS_TOPIC, AccountLog
    from hazardwatch.alerting.users import UserFile

    accounts = AccountLog(opts.bootstrap, opts.topic_prefix + ACCOUNTS_TOPIC)
    path = opts.console.users if opts.console else None
    if path is not None and path.exists():
        names = accounts.import_from(UserFile(path))
        log.info("alerting: %d console account(s) imported from %s into %s%s", len(names),
                 path, opts.topic_prefix, ACCOUNTS_TOPIC)
    return accounts


def run(cfg: AlertingConfig, catalog: Catalog, opts: RunnerOptions,
        running: Callable[[], bool]) -> None:
    """Consume, own partitions, notify while running() is true."""
    from confluent_kafka import (
        Consumer,
        KafkaError,
        KafkaException,
        Producer,
        TopicPartition,
    )

    from hazardwatch import kafka_tail
    from hazardwatch.alerting.api import serve
    from hazardwatch.alerting.changelog import ChangelogStore
    from hazardwatch.alerting.service import AlertingService
    from hazardwatch.contracts.warnings import decode_warning

    topic = opts.topic_prefix + KafkaTopic.WARNINGS
    actions = opts.topic_prefix + KafkaTopic.ALERT_ACTIONS
    state_topic = opts.topic_prefix + STATE_TOPIC
    instance = opts.instance or uuid.uuid4().hex[:8]
    kafka_tail.ensure_topics(opts.bootstrap, [topic, actions])
    probe = Consumer({"bootstrap.servers": opts.bootstrap, "group.id": f"probe-{instance}"})
    nparts = len(probe.list_topics(topic, timeout=10).topics[topic].partitions)
    probe.close()
    ensure_state_topic(opts.bootstrap, state_topic, nparts)
    kafka_state = ConnectionLog("Kafka", log, 10)
    # never give a changelog record up (an outage longer than librdkafka's default 300 s
    # would otherwise drop state silently): it waits in the queue until Kafka is back
    producer = Producer({"bootstrap.servers": opts.bootstrap, "enable.idempotence": True,
                         "linger.ms": 2, "message.timeout.ms": 0,
                         "error_cb": kafka_state.lost})

    def emit(event: dict[str, Any]) -> None:
        producer.produce(actions, key=str(event.get("warning_id", "")).encode(),
                         value=json.dumps({**event, "instance": instance},
                                          ensure_ascii=False).encode())

    store = ChangelogStore(producer, state_topic, nparts)
    service = AlertingService(cfg, catalog, store, senders(cfg), emit)
    if opts.workflow is not None:
        service.workflow = opts.workflow
    tail = Consumer({"bootstrap.servers": opts.bootstrap, "group.id": f"tail-{instance}",
                     "enable.auto.commit": False, "fetch.wait.max.ms": 20,
                     "isolation.level": "read_committed"})
    tail.assign([TopicPartition(state_topic, p, -2) for p in range(nparts)])
    read_to: dict[int, int] = {}  # next offset to read per changelog partition
    owned: set[int] = set()

    def pump(max_msgs: int = 5000, timeout: float = 0.0) -> int:
        """Take in what other instances (and this one) wrote to the changelog."""
        n = 0
        for m in tail.consume(max_msgs, timeout=timeout):
            err = m.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    kafka_state.lost(err)
                continue
            kafka_state.back()
            p, off = m.partition() or 0, m.offset() or 0
            read_to[p] = off + 1
            rec = store.apply(p, off, m.key(), m.value())
            n += 1
            if rec is None:
                continue
            if rec.silences_changed:
                service.silences = store.silences()
            elif rec.action is not None and p in owned:
                service.on_action(rec.action)
            elif rec.warning_id is not None and p not in owned:
                if rec.alert is None:
                    service.others.pop(rec.warning_id, None)
                else:
                    service.others[rec.warning_id] = rec.alert
        return n

    def end_offset(p: int, deadline: float) -> int:
        while True:  # a new topic's partitions may still be electing their leader
            try:
                return int(tail.get_watermark_offsets(TopicPartition(state_topic, p),
                                                      timeout=5)[1])
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def catch_up(parts: set[int], limit_s: float = 30.0) -> None:
        """Read the changelog of these partitions to its end (what the last owner wrote)."""
        deadline = time.monotonic() + limit_s
        ends = {p: end_offset(p, deadline) for p in parts}
        while any(read_to.get(p, 0) < end for p, end in ends.items() if end > 0):
            if time.monotonic() > deadline:
                raise RuntimeError(f"changelog of partitions {sorted(parts)} not read in time")
            pump(5000, 0.05)

    def on_assign(_c: Any, tps: list[Any]) -> None:
        parts = {tp.partition for tp in tps}
        t0 = time.monotonic()
        catch_up(parts)
        with store.lock:
            adopted = store.owned_by(parts)
            owned.update(parts)
            service.adopt(adopted)
            for wid in adopted:
                for act in store.actions.get(wid, []):
                    service.on_action(act)
        log.info("alerting: assigned partitions %s of %s (%d alerts restored in %.2f s)",
                 sorted(parts), topic, len(adopted), time.monotonic() - t0)

    def on_revoke(_c: Any, tps: list[Any]) -> None:
        parts = {tp.partition for tp in tps}
        producer.flush(10)  # what this instance wrote is there before the next owner reads
        with store.lock:
            owned.difference_update(parts)
            service.release({w for w in service.alerts if store.partition_of.get(w) in parts})
        log.info("alerting: released partitions %s", sorted(parts))

    pump(0)
    catch_up(set(range(nparts)))  # the whole view, for the API and for inhibition
    service.others.update(store.view)
    service.silences = store.silences()
    consumer = Consumer({
        "bootstrap.servers": opts.bootstrap, "group.id": opts.topic_prefix + "hw-alerting",
        "enable.auto.commit": False, "isolation.level": "read_committed",
        "auto.offset.reset": "earliest", "fetch.wait.max.ms": 20,
        "session.timeout.ms": int(opts.session_timeout_s * 1000),
        "heartbeat.interval.ms": max(100, int(opts.session_timeout_s * 1000 / 6)),
        "max.poll.interval.ms": 60_000,
        "partition.assignment.strategy": "cooperative-sticky"})
    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    accounts = open_accounts(opts)
    server = serve(service, opts.host, opts.api_port,
                   dataclasses.replace(opts.console or ConsoleOptions(), accounts=accounts))
    log.info("alerting: ready (instance %s, %d alerts known, API on %s:%d)", instance,
             len(service.others), opts.host, opts.api_port)
    while running():
        got = consumer.consume(500, timeout=0.05)
        msgs = [m for m in got if m.error() is None]
        for m in got:
            err = m.error()
            if err is not None and err.code() != KafkaError._PARTITION_EOF:
                kafka_state.lost(err)
        if msgs:
            kafka_state.back()
        pump()
        now = int(time.time() * 1000)
        if msgs:
            with store.tx():
                for m in msgs:
                    if m.partition() not in owned:
                        continue
                    try:
                        w = decode_warning(m.value() or b"")
                    except msgspec.DecodeError as exc:
                        log.error("hw.warnings %d@%d 无法解析，已跳过: %s", m.partition(),
                                  m.offset(), exc)
                        continue
                    store.partition_of[w.warning_id] = m.partition() or 0
                    service.on_warning(w, now)
        try:
            service.step(now)
        except Exception:  # reported; the next step tries again, the service keeps paging
            log.exception("alerting: step failed")
        # before a commit, the state those warnings made must be in the changelog; otherwise
        # a short wait, so that a Kafka outage does not slow escalation (paging needs no Kafka)
        producer.flush(10 if msgs else 0.2)
        if msgs:  # the state those warnings made is in the changelog: commit them
            try:
                consumer.commit(asynchronous=False)
            except Exception as exc:  # e.g. a rebalance in between: re-read, apply idempotently
                log.warning("alerting: offset commit failed: %s", exc)
    server.shutdown()
    accounts.close()
    consumer.close()
    tail.close()
    producer.flush(10)
    log.info("alerting: stopped")
