"""The Faust app, built by a factory: nothing is bound at import time.

Inputs (keyed by site by the bridge) and ticks share one agent, so a site is evaluated in one
place; its state lives in a changelog-backed table on the same partition. Processing is
exactly-once (Kafka transactions): state, output and offsets commit together, so a worker
killed at any point neither repeats nor loses a transition.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import faust

from contracts.topics import KafkaTopic
from contracts.warnings import encode_warning
from streams.rules.engine import Engine
from streams.worker.core import TICK_TOPIC, Tick, WorkerCore, encode_tick

log = logging.getLogger("hazardwatch.worker")
INPUTS = (KafkaTopic.TELEMETRY, KafkaTopic.DEVICE_STATUS, KafkaTopic.VIDEO_EVENTS)


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    """Configuration of a worker process."""

    kafka_bootstrap: str
    app_id: str = "hazardwatch-streams"
    topic_prefix: str = ""
    partitions: int = 4
    tick_interval_s: float = 1.0
    grace_s: float = 120.0
    web_port: int = 6066
    guarantee: str = "exactly_once"


class RawTable(faust.Table):  # type: ignore[type-arg]
    """A table of bytes: keys are site ids, values msgpack state (streams/rules/state.py).

    Faust picks JSON for tables of non-model types; the changelog is then written raw but
    decoded as JSON on recovery, which fails, and a restarted worker forgets open episodes.
    """

    def _serializer_from_type(self, typ: Any) -> str:
        return "raw"


def create_app(settings: WorkerSettings, engine: Engine) -> faust.App:
    """A Faust app with the evaluate agent, the state table and the leader's ticker."""
    p = settings.topic_prefix
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        processing_guarantee=settings.guarantee,
        topic_replication_factor=1,
        topic_partitions=settings.partitions,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        web_enabled=True,
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_port=settings.web_port,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        producer_linger_ms=5,
        Table=RawTable,
        broker_session_timeout=10.0,  # a killed worker's partitions move within ~10 s
        broker_heartbeat_interval=3.0,
    )
    core = WorkerCore(engine, started_at=int(time.time() * 1000),
                      grace_ms=int(settings.grace_s * 1000))
    # hw.warnings is subscribed too (and skipped): in the same topic group as the inputs, a
    # warning sent to its event's partition joins that partition's transaction, so output,
    # state changelog and input offsets commit together (Faust names transactions by
    # topic group and partition)
    inputs = app.topic(*(p + t for t in (*INPUTS, TICK_TOPIC, KafkaTopic.WARNINGS)),
                       partitions=settings.partitions)
    ticks = app.topic(p + TICK_TOPIC, partitions=settings.partitions)
    warnings = app.topic(p + KafkaTopic.WARNINGS, partitions=settings.partitions)
    table = app.Table("site-state", default=None, partitions=settings.partitions)

    @app.agent(inputs)
    async def evaluate(stream: Any) -> None:
        async for event in stream.events():
            topic, partition = event.message.topic, event.message.partition
            if topic == warnings.get_topic_name():
                continue  # our own output
            key = event.key
            state, out = core.handle(table.get(key), topic, event.value)
            table[key] = state
            for w in out:  # same partition as the site's input: same transaction
                await warnings.send(key=w.subject.encode(), value=encode_warning(w),
                                    partition=partition)

    @app.timer(interval=settings.tick_interval_s, on_leader=True)  # type: ignore[untyped-decorator]
    async def ticker() -> None:
        now = int(time.time() * 1000)
        for site_id in engine.catalog.sites:
            await ticks.send(key=site_id.encode(), value=encode_tick(Tick(site_id, now)))

    return app
