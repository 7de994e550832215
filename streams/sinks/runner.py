"""Kafka → InfluxDB: consume, add, flush, then commit; while InfluxDB or Kafka is away, pause.

Offsets are committed only after a successful flush, so a crash or an outage never loses a
point; consumption pauses (partitions paused, the consumer stays in its group) instead of
dropping or buffering without bound. The offsets committed are the ones of the records written
(never "the current position"), and every Kafka error of a live cluster is retried
(`hazardwatch.kafka_errors`): the sink exits only on a fatal error, with its reason.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from hazardwatch.connection_log import Throttle
from hazardwatch.kafka_errors import Outcome, classify
from hazardwatch.streams.sinks import line_protocol as lp
from hazardwatch.streams.sinks.influx import (
    InfluxRejected,
    InfluxSink,
    InfluxUnavailable,
    decode_error,
)

log = logging.getLogger("hazardwatch.sink")
_client_log = logging.getLogger("hazardwatch.sink.kafka")  # librdkafka: every retry, throttled
_client_log.addFilter(Throttle(("hazardwatch.sink.kafka",)))


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
    commit_retries: int = 0
    kafka_errors: int = 0


class SinkFatal(RuntimeError):
    """A Kafka error that retrying cannot mend (authorisation, a fatal client error)."""


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
            "reconnect.backoff.max.ms": 5000,
            # after a Kafka restart the group waits for its old members' sessions to end
            # before it assigns again: 10 s instead of 45
            "session.timeout.ms": 10_000, "heartbeat.interval.ms": 3_000,
            "logger": _client_log,
            "error_cb": self._on_error,
        }
        self.consumer = Consumer(conf)
        self.lag_at = 0.0
        self.read: dict[tuple[str, int], int] = {}  # next offset after the records added
        self.committed: dict[tuple[str, int], int] = {}
        self.paused: list[TopicPartition] = []
        self.busy = False  # in a flush or commit: a rebalance callback must not re-enter
        self.fatal: KafkaError | None = None
        self.kafka_down_since: float | None = None

    def stop(self) -> None:
        """Flush what is buffered and return from run()."""
        self.stop_event.set()

    def run(self) -> None:
        """Consume until stopped; raises SinkFatal on an error retrying cannot mend."""
        self.consumer.subscribe(list(self.settings.topics), on_assign=self._on_assign,
                                on_revoke=self._on_revoke, on_lost=self._on_revoke)
        last_flush = time.monotonic()
        try:
            while not self.stop_event.is_set():
                for msg in self.consumer.consume(num_messages=5000, timeout=0.2):
                    self._take(msg)
                self._check()
                due = time.monotonic() - last_flush >= self.settings.flush_interval_s
                if self.sink.points and (due or self.sink.points >= self.settings.batch_points):
                    self._flush_and_commit()
                    last_flush = time.monotonic()
        finally:
            if self.fatal is None:
                if self.sink.points:
                    self._flush_and_commit(give_up_s=10.0)
                self.consumer.close()
            c = self.counters
            log.info("sink: %d records, %d points in %d flushes, %d failed flushes, %d skipped, "
                     "%d commit retries", c.records, c.points, c.flushes, c.failed_flushes,
                     c.skipped, c.commit_retries)

    def _take(self, msg: Message) -> None:
        """Add a consumed record (never drop one: its offset is committed later)."""
        err = msg.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                self._on_error(err)
            return
        topic, part, offset = msg.topic() or "", msg.partition(), msg.offset()
        kind, at = msg.timestamp()
        self._add(topic, msg.value() or b"", at if kind != TIMESTAMP_NOT_AVAILABLE else None)
        if part is not None and offset is not None:
            self.read[(topic, part)] = offset + 1
        self._kafka_back()

    def _check(self) -> None:
        if self.fatal is not None:
            raise SinkFatal(f"fatal Kafka error, the sink stops: {self.fatal}")
        if self.kafka_down_since is not None and time.monotonic() - self.kafka_down_since > 5:
            try:  # a metadata request answered: Kafka is back even if no record flows
                self.consumer.list_topics(timeout=1)
                self._kafka_back()
            except KafkaException:
                self.kafka_down_since = time.monotonic()

    def _on_error(self, err: KafkaError) -> None:
        self.counters.kafka_errors += 1
        if classify(err) is Outcome.FATAL:
            self.fatal = err
            log.error("Kafka: fatal error: %s", err)
        elif self.kafka_down_since is None:
            self.kafka_down_since = time.monotonic()
            log.warning("Kafka: %s; the client reconnects every ≤5 s (one line when back)", err)

    def _kafka_back(self) -> None:
        if self.kafka_down_since is not None:
            self.kafka_down_since = None
            log.info("Kafka reachable again")

    def _add(self, topic: str, value: bytes, appended_at: int | None = None) -> None:
        self.counters.records += 1
        try:
            self.sink.add(topic, value, appended_at)
        except Exception as exc:
            if not decode_error(exc):
                raise
            self.counters.skipped += 1
            log.error("skipping undecodable record on %s: %s", topic, exc)

    def _flush_and_commit(self, give_up_s: float | None = None) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            n = self._flush()
            self._commit(dict(self.read), give_up_s)
            self.counters.flushes += 1
            self.counters.points += n
            self._lag()
        finally:
            self.busy = False
            self._resume()

    def _flush(self) -> int:
        backoff = 0.5
        failing = False
        while True:
            try:
                n = self.sink.flush()
                if failing:
                    log.info("InfluxDB is back")
                return n
            except InfluxUnavailable as exc:
                self.counters.failed_flushes += 1
                if not failing:
                    failing = True
                    log.warning("%s; consumption paused, retrying every ≤%.0f s", exc,
                                self.settings.max_backoff_s)
                self._pause_for(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff_s)
            except InfluxRejected as exc:  # the data itself is refused: skip, loudly
                log.error("InfluxDB refused a batch, skipping it: %s", exc)
                self.counters.skipped += self.sink.points
                self.sink.batches.clear()
                self.sink.points = 0
                return 0

    def _commit(self, offsets: dict[tuple[str, int], int], give_up_s: float | None) -> None:
        """Commit the offsets of what was written; retried until Kafka takes them."""
        backoff, started, failing = 0.5, time.monotonic(), False
        while True:
            mine = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
            todo = [TopicPartition(t, p, o) for (t, p), o in offsets.items()
                    if (t, p) in mine and self.committed.get((t, p)) != o]
            if not todo:
                return
            try:
                self.consumer.commit(offsets=todo, asynchronous=False)
                for tp in todo:
                    self.committed[(tp.topic, tp.partition)] = tp.offset
                if failing:
                    log.info("Kafka commit went through after %.1f s; consumption resumed",
                             time.monotonic() - started)
                self._kafka_back()
                return
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                if not self._commit_retryable(err, exc):
                    return
                self.counters.commit_retries += 1
                if give_up_s is not None and time.monotonic() - started > give_up_s:
                    log.warning("commit not done before exit (%s); the next start re-reads "
                                "from the last commit (points overwrite themselves)", err)
                    return
                if not failing:
                    failing = True
                    log.warning("Kafka commit failed (%s); consumption paused, retrying "
                                "every ≤%.0f s", err.str(), self.settings.max_backoff_s)
                self._pause_for(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff_s)

    def _commit_retryable(self, err: KafkaError, exc: KafkaException) -> bool:
        """Whether a refused commit is tried again (a fatal error stops the sink)."""
        outcome = classify(err)
        if outcome is Outcome.FATAL:
            self.fatal = err
            raise SinkFatal(f"fatal Kafka error on commit, the sink stops: {err}") from exc
        if outcome is Outcome.NOT_OURS:  # rewritten by the next owner: idempotent
            log.info("commit refused (%s): the partitions moved; their next owner "
                     "re-reads from the last commit", err.str())
        return outcome is not Outcome.NOTHING and outcome is not Outcome.NOT_OURS

    def _pause_for(self, seconds: float) -> None:
        """Wait with the partitions paused, serving the consumer (group session, callbacks)."""
        if not self.paused:
            self.paused = self.consumer.assignment()
            self.consumer.pause(self.paused)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = self.consumer.poll(0.1)
            if msg is not None:  # from a partition assigned meanwhile: keep it
                self._take(msg)
            if self.fatal is not None:
                raise SinkFatal(f"fatal Kafka error, the sink stops: {self.fatal}")

    def _resume(self) -> None:
        # all of them, assigned or not: librdkafka keeps a partition's pause across a lost
        # assignment, and a partition assigned again later would stay paused for ever
        if self.paused:
            paused, self.paused = self.paused, []
            try:
                self.consumer.resume(paused)
            except KafkaException as exc:
                log.info("resume: %s", exc)

    def _lag(self) -> None:
        """Every 10 s, the records not yet consumed per topic (pipeline health in Grafana)."""
        now = time.monotonic()
        if now - self.lag_at < 10:
            return
        self.lag_at = now
        per_topic: dict[str, int] = {}
        try:
            for tp in self.consumer.position(self.consumer.assignment()):
                _, high = self.consumer.get_watermark_offsets(tp, cached=True)
                if high >= 0 and tp.offset >= 0:
                    per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(0, high - tp.offset)
        except KafkaException:
            return
        ts = int(time.time() * 1000)
        self.sink.add_lines(lp.RP_EVENTS, [lp.lag("sink", t, n, ts)
                                           for t, n in sorted(per_topic.items())])

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("sink: assigned %d partitions", len(partitions))
        consumer.assign(partitions)
        if self.paused:  # still waiting for InfluxDB or a commit: the new ones wait too
            consumer.pause(partitions)
            self.paused = [*self.paused, *partitions]
        else:  # a pause from before a lost assignment must not outlive it
            consumer.resume(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self.sink.points:
            self._flush_and_commit(give_up_s=10.0)
        for tp in partitions:
            self.read.pop((tp.topic, tp.partition), None)
            self.committed.pop((tp.topic, tp.partition), None)
