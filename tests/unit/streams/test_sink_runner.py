"""SinkRunner with a fake consumer: commit errors of a live cluster are retried, not fatal."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from hazardwatch.streams.sinks.runner import SinkFatal, SinkRunner, SinkSettings


class FakeSink:
    """Counts flushes; never fails."""

    def __init__(self) -> None:
        self.points, self.flushed = 0, 0

    def add(self, topic: str, value: bytes, appended_at: int | None = None) -> None:
        self.points += 1

    def add_lines(self, rp: str, lines: list[str]) -> None:
        pass

    def flush(self) -> int:
        n, self.points = self.points, 0
        self.flushed += n
        return n


class FakeConsumer:
    """Assigned two partitions; commit raises the given errors first, then succeeds."""

    def __init__(self, errors: list[int]) -> None:
        self.errors = errors
        self.commits: list[list[tuple[str, int, int]]] = []
        self.paused: list[TopicPartition] = []
        self.resumed: list[TopicPartition] = []
        self.parts = [TopicPartition("hw.telemetry", 0), TopicPartition("hw.telemetry", 1)]

    def assignment(self) -> list[TopicPartition]:
        return self.parts

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        if self.errors:
            raise KafkaException(KafkaError(self.errors.pop(0)))
        self.commits.append([(tp.topic, tp.partition, tp.offset) for tp in offsets])

    def pause(self, tps: list[TopicPartition]) -> None:
        self.paused += tps

    def resume(self, tps: list[TopicPartition]) -> None:
        self.resumed += tps

    def poll(self, timeout: float) -> None:
        return None

    def position(self, tps: list[TopicPartition]) -> list[TopicPartition]:
        return []


def _runner(errors: list[int]) -> tuple[SinkRunner, FakeConsumer, FakeSink]:
    sink = FakeSink()
    r = SinkRunner(SinkSettings(kafka_bootstrap="127.0.0.1:1", topics=("hw.telemetry",),
                                max_backoff_s=0.01), sink)  # type: ignore[arg-type]
    fake = FakeConsumer(errors)
    r.consumer = fake  # type: ignore[assignment]
    r.read = {("hw.telemetry", 0): 11, ("hw.telemetry", 1): 7}
    sink.points = 18
    return r, fake, sink


def test_wait_coord_and_not_coordinator_are_retried_with_the_partitions_paused(
        monkeypatch: Any) -> None:
    monkeypatch.setattr("time.sleep", lambda _s: None)
    r, fake, sink = _runner([KafkaError._WAIT_COORD, KafkaError.NOT_COORDINATOR])
    r._flush_and_commit()
    assert sink.flushed == 18 and r.counters.commit_retries == 2
    assert fake.commits == [[("hw.telemetry", 0, 11), ("hw.telemetry", 1, 7)]]
    assert fake.paused == fake.parts and fake.resumed == fake.parts


def test_no_offset_and_a_moved_group_end_the_commit_quietly() -> None:
    for code in (KafkaError._NO_OFFSET, KafkaError.ILLEGAL_GENERATION):
        r, fake, _ = _runner([code])
        r._flush_and_commit()
        assert fake.commits == [] and not fake.paused


def test_only_committed_offsets_that_changed_are_sent_again() -> None:
    r, fake, sink = _runner([])
    r._flush_and_commit()
    sink.points, r.read[("hw.telemetry", 1)] = 1, 9
    r._flush_and_commit()
    assert fake.commits[-1] == [("hw.telemetry", 1, 9)]


def test_a_refused_authorisation_stops_the_sink() -> None:
    r, _, _ = _runner([KafkaError.GROUP_AUTHORIZATION_FAILED])
    with pytest.raises(SinkFatal, match="GROUP_AUTHORIZATION_FAILED"):
        r._flush_and_commit()
