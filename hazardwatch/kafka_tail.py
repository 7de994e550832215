"""Read what was written to Kafka topics after a mark: used by the demo, tests and benchmarks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from hazardwatch import kafka_topics

Offsets = dict[tuple[str, int], int]


def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int = 4) -> None:
    """Create the topics that do not exist yet; wait while Kafka is away (kafka_topics)."""
    kafka_topics.ensure_topics(bootstrap, topics, partitions)


def mark(bootstrap: str, topics: Iterable[str]) -> Offsets:
    """The current end offset of every partition of the topics (created when missing)."""
    topics = list(topics)
    ensure_topics(bootstrap, topics)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"mark-{uuid.uuid4()}"})
    try:
        md = consumer.list_topics(timeout=10)
        deadline = time.monotonic() + 15
        while missing := [t for t in topics if not (t in md.topics and md.topics[t].partitions)]:
            # a topic just created (or auto-created by a client) reaches the broker's metadata a
            # moment after CreateTopics returns; seen with Kafka 4.1 under load
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics not in the metadata after 15 s: {missing}")
            time.sleep(0.2)
            md = consumer.list_topics(timeout=10)
        out: Offsets = {}
        for t in topics:
            for p in md.topics[t].partitions:
                out[(t, p)] = _high_watermark(consumer, TopicPartition(t, p))
        return out
    finally:
        consumer.close()


def _high_watermark(consumer: Consumer, tp: TopicPartition, timeout: float = 20.0) -> int:
    """End offset of a partition, retried while a new topic's leader is being elected."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, high = consumer.get_watermark_offsets(tp, timeout=5)
            return int(high)
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def read_since(bootstrap: str, offsets: Offsets, *, done: Callable[[list[Message]], bool],
               timeout: float = 30.0) -> list[Message]:
    """Consume from the marked offsets until done(messages) is true or the timeout passes."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"tail-{uuid.uuid4()}",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 50})
    consumer.assign([TopicPartition(t, p, o) for (t, p), o in offsets.items()])
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while not done(got) and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=5000, timeout=0.2):
                if msg.error() is None:
                    got.append(msg)
        return got
    finally:
        consumer.close()
