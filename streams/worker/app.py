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
from typing import Any, cast

import faust
from faust.tables import TableManager
from faust.types import FutureMessage

from hazardwatch.connection_log import Throttle
from hazardwatch.contracts.daily import encode_day, encode_hour
from hazardwatch.contracts.seen import encode_seen
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.contracts.warnings import encode_warning
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.worker.core import TICK_TOPIC, Tick, TickFanOut, WorkerCore, encode_tick
from hazardwatch.streams.worker.handover import (
    ConcurrentCommitProducer,
    HandoverConsumer,
    HandoverTransactionManager,
)
from hazardwatch.streams.worker.platform_gap import PlatformGap
from hazardwatch.streams.worker.recovery_end import LsoTableManager

log = logging.getLogger("hazardwatch.worker")
INPUTS = (KafkaTopic.TELEMETRY, KafkaTopic.DEVICE_STATUS, KafkaTopic.VIDEO_EVENTS,
          KafkaTopic.POSITIONS)


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    """Configuration of a worker process."""

    kafka_bootstrap: str
    app_id: str = "hazardwatch-streams"
    topic_prefix: str = ""
    partitions: int = 4
    tick_interval_s: float = 1.0
    grace_s: float = 120.0
    standby_replicas: int = 0  # 1 measured worse: the survivor's producer fenced once
    gap_hold_s: float = 120.0  # offline held this long after a platform gap (platform_gap.py)
    # a frozen or dead worker's partitions move after this (the broker's minimum is 6 s)
    session_timeout_s: float = 6.0
    heartbeat_interval_s: float = 1.5
    # end a restore once only markers are left below the LSO, not 10 s later (recovery_end.py)
    fast_restore: bool = True
    web_port: int = 6066
    guarantee: str = "exactly_once"
    commit_interval_s: float = 0.2  # warnings are visible downstream only after the commit
    internal_ticks: bool = True  # False: ticks come from outside (a drill's scenario clock)
    seen_every_s: float = 600.0  # an open hour's value tallies rewritten at most this often


class RawTable(faust.Table):  # type: ignore[type-arg]
    """A table of bytes: keys are site or vehicle ids, values msgpack state (…/state.py).

    Faust picks JSON for tables of non-model types; the changelog is then written raw but
    decoded as JSON on recovery, which fails, and a restarted worker forgets open episodes.

    A write's changelog record is held until the agent publishes it (`publish_changelog`)
    before the event is acknowledged. Faust hands it to a buffer that a task of its own
    drains: under load a commit went first, the event's offset committed without its state,
    and a worker killed then restored the state before it (a second `raised` at restart).
    """

    _held: list[FutureMessage] | None = None

    def _serializer_from_type(self, typ: Any) -> str:
        return "raw"

    def send_changelog(self, partition: int | None, key: Any, value: Any,
                       key_serializer: Any = None, value_serializer: Any = None
                       ) -> FutureMessage:
        """Hold the changelog record of a write for `publish_changelog`."""
        fut = self.changelog_topic.as_future_message(
            key=key, value=value, partition=partition,
            key_serializer=key_serializer or self.key_serializer,
            value_serializer=value_serializer or self.value_serializer,
            callback=self._on_changelog_sent, eager_partitioning=True)
        if self._held is None:
            self._held = []
        self._held.append(fut)
        return fut

    async def publish_changelog(self) -> None:
        """Send the held changelog records, in order, into the open transaction."""
        held, self._held = self._held, None
        for fut in held or ():
            await fut.message.channel.publish_message(fut, wait=False)


def pipeline_topics(settings: WorkerSettings) -> list[str]:
    """The topics a worker reads and writes (it creates them at start, with its partitions)."""
    return [settings.topic_prefix + t for t in (*INPUTS, TICK_TOPIC, KafkaTopic.WARNINGS,
                                                KafkaTopic.VEHICLE_DAILY, KafkaTopic.SEEN_HOURLY,
                                                KafkaTopic.VEHICLE_HOURLY)]


def create_app(settings: WorkerSettings, engine: Engine, vehicles: VehicleEngine) -> faust.App:
    """A Faust app with the evaluate agent, the state table and a ticker for owned keys."""
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
        broker_commit_interval=settings.commit_interval_s,
        stream_wait_empty=False,
        producer_linger_ms=5,
        Table=RawTable,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        # copies of the others' state (the survivor would read only the changelog's tail); off
        # by default: with 1, the survivor of a frozen worker was fenced after taking over
        table_standby_replicas=settings.standby_replicas,
        TableManager=LsoTableManager if settings.fast_restore else TableManager,
    )
    transport = app.transport  # this app's transport only; Faust's classes stay as they are
    transport.TransactionManager = HandoverTransactionManager  # type: ignore[misc]
    transport.Consumer = HandoverConsumer  # type: ignore[misc]
    transport.Producer = ConcurrentCommitProducer  # type: ignore[misc]
    gap = (PlatformGap(int(settings.gap_hold_s * 1000),
                       stale_ms=max(5_000, int(settings.tick_interval_s * 5_000)))
           if settings.internal_ticks else None)
    core = WorkerCore(engine, vehicles, started_at=int(time.time() * 1000),
                      grace_ms=int(settings.grace_s * 1000), gap=gap,
                      seen_every_ms=int(settings.seen_every_s * 1000))
    # the outputs are subscribed too (and skipped): in the same topic group as the inputs, a
    # warning sent to its event's partition joins that partition's transaction, so output,
    # state changelog and input offsets commit together (Faust names transactions by
    # topic group and partition)
    outputs = {p + KafkaTopic.WARNINGS, p + KafkaTopic.VEHICLE_DAILY, p + KafkaTopic.SEEN_HOURLY,
               p + KafkaTopic.VEHICLE_HOURLY}
    inputs = app.topic(*(p + t for t in (*INPUTS, TICK_TOPIC)), *outputs,
                       partitions=settings.partitions)
    ticks = app.topic(p + TICK_TOPIC, partitions=settings.partitions)
    warnings = app.topic(p + KafkaTopic.WARNINGS, partitions=settings.partitions)
    daily = app.topic(p + KafkaTopic.VEHICLE_DAILY, partitions=settings.partitions)
    seen = app.topic(p + KafkaTopic.SEEN_HOURLY, partitions=settings.partitions)
    hourly = app.topic(p + KafkaTopic.VEHICLE_HOURLY, partitions=settings.partitions)
    table = cast(RawTable, app.Table("site-state", default=None,
                                     partitions=settings.partitions))

    fan_out = TickFanOut(list(engine.catalog.sites), list(vehicles.catalog.vehicles),
                         lambda key: app.consumer.key_partition(ticks.get_topic_name(), key, None))

    # one line per kind of Kafka connection error a minute, not thousands a second
    throttle = Throttle(("aiokafka", "faust.transport"))

    @app.task  # type: ignore[untyped-decorator]
    async def quiet_kafka_logs() -> None:
        throttle.attach()  # once Faust has set up logging

    @app.agent(inputs)
    async def evaluate(stream: Any) -> None:
        async for event in stream.events():
            # a commit waits for the event in hand: its outputs, state and offset commit
            # together (the offset is acknowledged when the next event is asked for, with no
            # await in between; see HandoverConsumer.commit)
            async with cast(HandoverConsumer, app.consumer).handling():
                await handle(event)

    async def handle(event: Any) -> None:
        topic, partition = event.message.topic, event.message.partition
        if topic in outputs:
            return  # our own output
        events = (core.tick_events(fan_out, event.key, event.value, table.get)
                  if topic == ticks.get_topic_name() else [(event.key, event.value)])
        for key, value in events:
            prior = table.get(key)
            result = core.handle(prior, topic, value)
            if result.state != prior:  # a tick that fires nothing writes no changelog
                table[key] = result.state
            for w in result.warnings:  # same partition as the input: same transaction
                await warnings.send(key=w.subject.encode(), value=encode_warning(w),
                                    partition=partition)
            for d in result.days:
                await daily.send(key=key, value=encode_day(d), partition=partition)
            for s in result.seen:
                await seen.send(key=key, value=encode_seen(s), partition=partition)
            for h in result.hours:
                await hourly.send(key=key, value=encode_hour(h), partition=partition)
        await table.publish_changelog()

    if not settings.internal_ticks:
        return app  # a drill sends ticks of its own scenario clock

    @app.timer(interval=settings.tick_interval_s)  # type: ignore[untyped-decorator]
    async def ticker() -> None:
        # one tick per owned partition; the agent fans it out to the partition's sites and
        # vehicles. Ticks are sent outside the transactions: in one, a tick became readable
        # only when its partition's transaction committed, which needs input on that partition
        # (a quiet partition's timers never fired; its open transaction timed out and the
        # producer was fenced). A tick's effect (state, warnings, offset) is still exactly once.
        now, topic = int(time.time() * 1000), ticks.get_topic_name()
        for tp in app.assignor.assigned_actives():
            if tp.topic != topic:
                continue
            try:
                await app.producer.send(topic, None,
                                        encode_tick(Tick(None, now, partition=tp.partition)),
                                        tp.partition, None, None)
            except Exception as exc:  # a rebalance moved the partition; next second retries
                log.info("tick for partition %d skipped: %r", tp.partition, exc)

    return app
