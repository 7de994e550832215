"""The idempotent confluent-kafka producer for the asyncio gateway: the loop itself serves the
delivery reports (`poll(0)` every 1 ms while records await confirmation, every 50 ms when
none do) and runs the confirmations of each poll together.

Not a thread blocking in `poll()`: its delivery callbacks took the GIL once per record from
a busy loop thread (a hand-over of the GIL, often a context switch, per position)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from hazardwatch.connection_log import ConnectionLog
from hazardwatch.ingest.bridge import BridgeConfig, producer_config

log = logging.getLogger("hazardwatch.jt808.kafka")
Done = Callable[[], None]
POLL_BUSY_S = 0.001  # delivery reports served this often while records await confirmation
POLL_IDLE_S = 0.05
# a terminal's ack waits for the broker: batches of 1 ms (5 ms and a 2 ms poll gave 15 % fewer
# positions per second in bench/jt808.py, quiet machine, 2026-12-02; the MQTT bridge keeps 20)
LINGER_MS = 1


class KafkaSink:
    """Produces records (idempotent, acks=all, never times out); `done` runs in the loop once
    the broker confirmed the record; a failed delivery is produced again."""

    def __init__(self, bootstrap: str, client_id: str, topic_prefix: str = "",
                 extra: dict[str, Any] | None = None) -> None:
        cfg = BridgeConfig(kafka_bootstrap=bootstrap, client_id=client_id,
                           topic_prefix=topic_prefix)
        conf = {**producer_config(cfg), "logger": log, "linger.ms": LINGER_MS, **(extra or {})}
        self.prefix = topic_prefix
        self.kafka_state = ConnectionLog("Kafka", log, 5)  # one line when lost, one when back
        self.producer = Producer({**conf, "error_cb": self._error})
        self.errors = 0
        self.in_flight = 0
        # filled by delivery callbacks (whichever thread polls), emptied by the loop
        self._confirmed: deque[Done] = deque()
        self._batches: dict[str, list[dict[str, Any]]] = {}  # this turn's records by topic
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False
        self._timer: asyncio.TimerHandle | None = None
        self._busy = False  # polling every POLL_BUSY_S (records await confirmation)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve delivery reports in `loop`; confirmations run there."""
        self._loop = loop
        self._tick()

    def _tick(self) -> None:
        """In the loop: serve the delivery reports, run their confirmations, come back soon
        while records await confirmation."""
        if self._stopped:
            return
        self.producer.poll(0)  # runs the delivery callbacks: they only append
        if self._confirmed:
            self._drain()
        self._busy = self.in_flight > 0
        assert self._loop is not None
        self._timer = self._loop.call_later(POLL_BUSY_S if self._busy else POLL_IDLE_S,
                                            self._tick)

    def _wake(self) -> None:
        """Records were queued while polling slowly: poll every POLL_BUSY_S again."""
        if self._timer is not None:
            self._timer.cancel()
        assert self._loop is not None
        self._busy = True
        self._timer = self._loop.call_later(POLL_BUSY_S, self._tick)

    def _drain(self) -> None:
        """In the loop: run every confirmation collected since the last poll."""
        confirmed = self._confirmed
        popleft = confirmed.popleft
        n = 0
        while confirmed:
            done = popleft()
            n += 1
            done()
        self.in_flight -= n
        self.kafka_state.back()

    def _error(self, err: KafkaError) -> None:
        self.errors += 1
        if err.fatal():  # the idempotent producer cannot go on: say so on every one
            log.error("Kafka: fatal producer error: %s", err)
        else:
            self.kafka_state.lost(err)

    def _delivered(self, done: Done, err: KafkaError | None, msg: Message) -> None:
        """Delivery report (in poll()): queue the confirmation, or produce again."""
        if err is not None:
            self.errors += 1
            log.error("Kafka delivery to %s failed (%s); producing again", msg.topic(), err)
            self._produce(msg.topic() or "", msg.key() or b"", msg.value() or b"",
                          partial(self._delivered, done))
            return
        self._confirmed.append(done)

    def produce(self, topic: str, key: bytes, value: bytes, done: Done) -> None:
        """Queue one record; `done()` once Kafka has it (waits while Kafka is away). The records
        of one turn of the loop go to the producer together (`produce_batch` per topic)."""
        self.in_flight += 1
        cb = partial(self._delivered, done)
        if self._loop is None:  # not started: no loop to batch in
            self._produce(self.prefix + topic, key, value, cb)
            return
        batch = self._batches.get(topic)
        if batch is None:
            if not self._batches:
                self._loop.call_soon(self.flush_batches)
                if not self._busy:
                    self._wake()
            batch = self._batches[topic] = []
        batch.append({"value": value, "key": key, "callback": cb})

    def flush_batches(self) -> None:
        """Hand the records queued in this turn to the producer, in order per topic (the key
        partitioner applies as with `produce`). A record it did not take (its local queue
        full: those are the batch's tail) is produced alone, waiting for room."""
        batches, self._batches = self._batches, {}
        for topic, msgs in batches.items():
            full = self.prefix + topic
            if self.producer.produce_batch(full, msgs) < len(msgs):
                for m in msgs:
                    if "_error" in m:
                        self._produce(full, m["key"], m["value"], m["callback"])

    def _produce(self, topic: str, key: bytes, value: bytes,
                 cb: Callable[[KafkaError | None, Message], None]) -> None:
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, on_delivery=cb)
                return
            except BufferError:  # local queue full: hold everything (back-pressure)
                self.producer.poll(0.01)  # callbacks only append: any thread may serve them

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Return when Kafka has the record."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not fut.done():
                fut.set_result(None)

        self.produce(topic, key, value, done)
        await fut

    def close(self, timeout_s: float = 15.0) -> int:
        """Stop polling in the loop and flush; the number of records not confirmed."""
        self.flush_batches()
        self._stopped = True
        left: int = self.producer.flush(timeout_s)
        return left
