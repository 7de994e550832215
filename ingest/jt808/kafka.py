"""The idempotent confluent-kafka producer driven from the asyncio loop: a callback per record
once Kafka confirmed it (delivery reports are served in the loop's own thread)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from hazardwatch.ingest.bridge import BridgeConfig, producer_config

log = logging.getLogger("hazardwatch.jt808.kafka")
Done = Callable[[], None]


class KafkaSink:
    """Produces records (idempotent, acks=all, never times out); `done` runs when the broker
    confirmed the record; a failed delivery is produced again."""

    def __init__(self, bootstrap: str, client_id: str, topic_prefix: str = "",
                 extra: dict[str, Any] | None = None) -> None:
        cfg = BridgeConfig(kafka_bootstrap=bootstrap, client_id=client_id,
                           topic_prefix=topic_prefix)
        conf = {**producer_config(cfg), "logger": log, "linger.ms": 5, **(extra or {})}
        self.prefix = topic_prefix
        self.producer = Producer({**conf, "error_cb": self._error})
        self.errors = 0
        self.in_flight = 0
        self._task: asyncio.Task[None] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve delivery reports from this loop."""
        self._task = loop.create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            served = self.producer.poll(0)
            # quick while records wait for confirmation, slow when idle (a quiet gateway idles)
            await asyncio.sleep(0 if served else 0.002 if self.in_flight else 0.05)

    def _error(self, err: KafkaError) -> None:
        self.errors += 1
        log.warning("Kafka: %s", err)

    def produce(self, topic: str, key: bytes, value: bytes, done: Done) -> None:
        """Queue one record; `done()` once Kafka has it (waits while Kafka is away)."""
        full = self.prefix + topic
        self.in_flight += 1

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                self.errors += 1
                log.error("Kafka delivery to %s failed (%s); producing again", full, err)
                self._produce(full, key, value, delivered)
                return
            self.in_flight -= 1
            done()

        self._produce(full, key, value, delivered)

    def _produce(self, topic: str, key: bytes, value: bytes,
                 cb: Callable[[KafkaError | None, Message], None]) -> None:
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, on_delivery=cb)
                return
            except BufferError:  # local queue full: hold everything (back-pressure)
                self.producer.poll(0.05)

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Return when Kafka has the record."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not fut.done():
                fut.set_result(None)

        self.produce(topic, key, value, done)
        await fut

    def close(self, timeout_s: float = 15.0) -> int:
        """Flush; the number of records not confirmed."""
        if self._task is not None:
            self._task.cancel()
        left: int = self.producer.flush(timeout_s)
        return left
