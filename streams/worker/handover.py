"""Fixes to faust-streaming 0.15.3 that make a partition hand-over between workers safe.

Installed on one app's transport by `streams.worker.app.create_app`; Faust's own classes are
left as they are. Proven by tests/integration/test_worker_handover.py (SIGTERM and SIGKILL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from faust.transport.consumer import TransactionManager
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP


class HandoverTransactionManager(TransactionManager):
    """Faust's transaction manager, made safe for a rebalance (faust-streaming issue #323).

    Faust flushes on revocation but leaves every partition's transaction open: a partition the
    worker keeps is then sought back to its committed offset and its events are processed a
    second time inside the same transaction, and `begin_transaction` fails on it. Here the
    pending offsets commit (with their state and output) before the partitions move, and any
    transaction left open (ticks only) is aborted, so each partition starts clean.
    """

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Commit what was processed, then end every open transaction."""
        await self.flush()
        await self.consumer.commit(start_new_transaction=False)
        producers = self.producer._transaction_producers  # type: ignore[attr-defined]
        for tid, producer in list(producers.items()):
            manager = producer._txn_manager
            if manager is not None and manager.is_in_transaction():
                await self.producer.abort_transaction(tid)


class StableOffsetThread(AIOKafkaConsumerThread):
    """Asks the broker for a changelog's last stable offset instead of the fetch cache.

    Under exactly-once Faust reads the LSO that aiokafka remembers from its last fetch; for a
    partition just handed over nothing was fetched yet, the "highwater" is -1, recovery reads
    nothing and the new owner forgets open episodes. ListOffsets with read_committed isolation
    returns the LSO from the broker.
    """

    async def _highwaters(self, partitions: list[TP]) -> dict[TP, int]:
        ends = await self._ensure_consumer().end_offsets(partitions)
        return {TP(tp.topic, tp.partition): int(o) for tp, o in ends.items()}


class HandoverConsumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer with StableOffsetThread, no events before the seek, and
    commits between events.

    After a rebalance Faust resumes the stream partitions and only then seeks them to their
    committed offsets; events fetched in between are processed, the seek rewinds to before
    them and they are processed a second time with the state they already changed (a second
    `raised`). Here the stream partitions stay paused until the seek is done.

    Faust takes a commit's offsets before the transaction's lock: a warning sent meanwhile
    by an event not yet acknowledged joined the committed transaction without its offset, and
    a worker killed before the next commit processed that event again (the same `raised`
    twice, seen under load). Here a commit waits for `processing`, which the agent holds
    while it handles an event.
    """

    _held: frozenset[TP] = frozenset()
    _processing: asyncio.Lock | None = None

    @property
    def processing(self) -> asyncio.Lock:
        """Held by the agent while it handles one event; commits wait for it."""
        if self._processing is None:
            self._processing = asyncio.Lock()
        return self._processing

    async def commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
        """Faust's commit, between two events."""
        async with self.processing:
            return bool(await super().commit(topics, start_new_transaction))

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        return StableOffsetThread(self, loop=self.loop, beacon=self.beacon)

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        """Resume changelog partitions now, stream partitions after `perform_seek`."""
        tps = set(tps)
        self._held = frozenset(tp for tp in tps if not self._is_changelog_tp(tp))
        super().resume_partitions(tps - self._held)

    async def perform_seek(self) -> None:
        """Seek to the committed offsets, then resume the held stream partitions."""
        try:
            await super().perform_seek()
        finally:
            held, self._held = self._held, frozenset()
            if held:
                super().resume_partitions(held)
