"""Kafka → InfluxDB: consume, add, flush, then commit; while InfluxDB is away, pause.

Offsets are committed only after a successful flush, so a crash or an outage never loses a
point; consumption pauses (partitions paused, the consumer stays in its group) instead of
dropping or buffering without bound.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from hazardwatch.streams.sinks import line_protocol as lp
from hazardwatch.streams.sinks.influx import (
    InfluxRejected,
    InfluxSink,
    InfluxUnavailable,
    decode_error,
)

log = logging.getLogger("hazardwatch.sink")


@dataclass(frozen=True, kw_only=True)
class SinkSettings:
    """Consumer side of the sink."""

    kafka_bootstrap: str
    topics: tuple[str, ...]
    group: str = "hw-influx-sink"
    batch_points: int = 20_000
    flush_interval_s: float = 1.0
    max_backoff_s: float = 10.0


@dataclass
class SinkCounters:
    """What the sink has done."""

    records: int = 0
    points: int = 0
    flushes: int = 0
    failed_flushes: int = 0
    skipped: int = 0


class SinkRunner:
    """Runs an InfluxSink behind a Kafka consumer with commit-after-write."""

    def __init__(self, settings: SinkSettings, sink: InfluxSink) -> None:
        self.settings = settings
        self.sink = sink
        self.counters = SinkCounters()
        self.stop_event = threading.Event()
        conf: dict[str, Any] = {
            "bootstrap.servers": settings.kafka_bootstrap, "group.id": settings.group,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "max.poll.interval.ms": 600_000, "fetch.wait.max.ms": 100,
            "logger": logging.getLogger("hazardwatch.sink.kafka"),
        }
        self.consumer = Consumer(conf)
        self.lag_at = 0.0

    def stop(self) -> None:
        """Flush what is buffered and return from run()."""
        self.stop_event.set()

    def run(self) -> None:
        """Consume until stopped."""
        self.consumer.subscribe(list(self.settings.topics), on_assign=self._on_assign,
                                on_revoke=self._on_revoke)
        last_flush = time.monotonic()
        try:
            while not self.stop_event.is_set():
                for msg in self.consumer.consume(num_messages=5000, timeout=0.2):
                    err = msg.error()
                    if err is not None:
                        if err.code() != KafkaError._PARTITION_EOF:
                            log.warning("Kafka: %s", err)
                        continue
                    self._add(msg.topic() or "", msg.value() or b"")
                due = time.monotonic() - last_flush >= self.settings.flush_interval_s
                if self.sink.points and (due or self.sink.points >= self.settings.batch_points):
                    self._flush_and_commit()
                    last_flush = time.monotonic()
        finally:
            if self.sink.points:
                self._flush_and_commit()
            self.consumer.close()
            c = self.counters
            log.info("sink: %d records, %d points in %d flushes, %d failed flushes, %d skipped",
                     c.records, c.points, c.flushes, c.failed_flushes, c.skipped)

    def _add(self, topic: str, value: bytes) -> None:
        self.counters.records += 1
        try:
            self.sink.add(topic, value)
        except Exception as exc:
            if not decode_error(exc):
                raise
            self.counters.skipped += 1
            log.error("skipping undecodable record on %s: %s", topic, exc)

    def _flush_and_commit(self) -> None:
        backoff = 0.5
        paused: list[TopicPartition] = []
        while True:
            try:
                n = self.sink.flush()
                break
            except InfluxUnavailable as exc:
                self.counters.failed_flushes += 1
                if not paused:
                    paused = self.consumer.assignment()
                    self.consumer.pause(paused)
                    log.warning("%s; consumption paused, retrying", exc)
                deadline = time.monotonic() + backoff
                while time.monotonic() < deadline:  # keep the group session alive
                    self.consumer.poll(0.1)
                backoff = min(backoff * 2, self.settings.max_backoff_s)
            except InfluxRejected as exc:  # the data itself is refused: skip, loudly
                log.error("InfluxDB refused a batch, skipping it: %s", exc)
                self.counters.skipped += self.sink.points
                self.sink.batches.clear()
                self.sink.points = 0
                n = 0
                break
        if paused:
            self.consumer.resume(paused)
            log.info("InfluxDB is back; consumption resumed")
        self.consumer.commit(asynchronous=False)
        self.counters.flushes += 1
        self.counters.points += n
        self._lag()

    def _lag(self) -> None:
        """Every 10 s, the records not yet consumed per topic (pipeline health in Grafana)."""
        now = time.monotonic()
        if now - self.lag_at < 10:
            return
        self.lag_at = now
        per_topic: dict[str, int] = {}
        for tp in self.consumer.position(self.consumer.assignment()):
            _, high = self.consumer.get_watermark_offsets(tp, cached=True)
            if high >= 0 and tp.offset >= 0:
                per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(0, high - tp.offset)
        ts = int(time.time() * 1000)
        self.sink.add_lines(lp.RP_EVENTS, [lp.lag("sink", t, n, ts)
                                           for t, n in sorted(per_topic.items())])

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("sink: assigned %d partitions", len(partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self.sink.points:
            self._flush_and_commit()
