"""An asyncio face on the idempotent confluent-kafka producer: await until Kafka confirmed."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from hazardwatch.ingest.bridge import BridgeConfig, producer_config

log = logging.getLogger("hazardwatch.jt808.kafka")


class KafkaSink:
    """Produces records (idempotent, acks=all, never times out) and resolves a future per
    record when the broker confirmed it; a failed delivery is produced again."""

    def __init__(self, bootstrap: str, client_id: str, topic_prefix: str = "",
                 extra: dict[str, Any] | None = None) -> None:
        cfg = BridgeConfig(kafka_bootstrap=bootstrap, client_id=client_id,
                           topic_prefix=topic_prefix)
        conf = {**producer_config(cfg), "logger": log, "linger.ms": 5, **(extra or {})}
        self.prefix = topic_prefix
        self.producer = Producer({**conf, "error_cb": self._error})
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="jt808-kafka", daemon=True)
        self.errors = 0
        self.in_flight = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start serving delivery reports for this loop."""
        self.loop = loop
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.producer.poll(0.05)

    def _error(self, err: KafkaError) -> None:
        self.errors += 1
        log.warning("Kafka: %s", err)

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Return when Kafka has the record (waits, without limit, while Kafka is away)."""
        assert self.loop is not None
        fut: asyncio.Future[None] = self.loop.create_future()
        await self._produce(self.prefix + topic, key, value, fut)
        self.in_flight += 1
        try:
            await fut
        finally:
            self.in_flight -= 1

    async def _produce(self, topic: str, key: bytes, value: bytes,
                       fut: asyncio.Future[None]) -> None:
        loop = self.loop
        assert loop is not None

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            if err is None:
                loop.call_soon_threadsafe(_done, fut)
                return
            self.errors += 1
            log.error("Kafka delivery to %s failed (%s); producing again", topic, err)
            time.sleep(0.5)
            asyncio.run_coroutine_threadsafe(self._produce(topic, key, value, fut), loop)

        while True:
            try:
                self.producer.produce(topic, value=value, key=key, on_delivery=delivered)
                return
            except BufferError:  # local queue full: back-pressure on the terminals
                await asyncio.sleep(0.05)

    def close(self, timeout_s: float = 15.0) -> int:
        """Flush and stop the poll thread; the number of records not confirmed."""
        left: int = self.producer.flush(timeout_s)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        return left


def _done(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
