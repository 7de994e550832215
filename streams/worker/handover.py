"""Fixes to faust-streaming 0.15.3 that make a partition hand-over between workers safe.

Installed on one app's transport by `streams.worker.app.create_app`; Faust's own classes are
left as they are. Proven by tests/integration/test_worker_handover.py (SIGTERM and SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from aiokafka.errors import ProducerFenced  # type: ignore[import-untyped]
from faust.transport.consumer import TransactionManager
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Producer as AIOKafkaProducer
from faust.types import TP

log = logging.getLogger("hazardwatch.worker")


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


class ConcurrentCommitProducer(AIOKafkaProducer):
    """Faust's producer, committing the partitions' transactions at once.

    Faust commits them one after another (three round trips each); a commit holds the agent
    (`HandoverConsumer.commit`), so its length is a pause of every partition. Measured in
    `bench/e2e.py --quick` (2026-12-02): p50 / p99 / max 13 / 71 / 390 ms one after another,
    6.6 / 29 / 143 ms at once.
    """

    async def commit_transactions(self, tid_to_offset_map: Mapping[str, Mapping[TP, int]],
                                  group_id: str, start_new_transaction: bool = True) -> None:
        """Commit each transactional id's offsets and transaction, concurrently."""
        results = await asyncio.gather(
            *(self._commit_one(tid, offsets, group_id, start_new_transaction)
              for tid, offsets in tid_to_offset_map.items()), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:  # each transaction ended one way or the other: now say why (fenced first)
            raise next((e for e in errors if isinstance(e, ProducerFenced)), errors[0])

    async def _commit_one(self, tid: str, offsets: Mapping[TP, int], group_id: str,
                          start_new_transaction: bool) -> None:
        async with self._trn_locks[tid]:
            producer = self._transaction_producers.get(tid)
            if producer is None:
                log.warning("commit invoked for unknown transaction %s", tid)
                return
            await producer.send_offsets_to_transaction(offsets, group_id)
            await producer.commit_transaction()
            if start_new_transaction:
                await producer.begin_transaction()


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
    failed: BaseException | None = None  # an event ended half-way: nothing commits any more

    @property
    def processing(self) -> asyncio.Lock:
        """Held by the agent while it handles one event; commits wait for it."""
        if self._processing is None:
            self._processing = asyncio.Lock()
        return self._processing

    @contextlib.asynccontextmanager
    async def handling(self) -> AsyncIterator[None]:
        """Hold `processing` while the agent handles one event.

        An event that ends half-way (an error, or cancelled by a stop) has sent part of its
        output, and Faust acknowledges it all the same: from then on nothing is committed (a
        stopping worker leaves its last events to the next owner), and unless the app is
        stopping it crashes, so the worker restarts itself and the event is handled again from
        the last commit (the half-sent output is aborted with its transaction).
        """
        async with self.processing:
            try:
                yield
            except BaseException as exc:
                self.failed = exc
                if isinstance(exc, Exception) or not self.app.should_stop:
                    log.error("an event failed half-way (%r): restarting, nothing more is "
                              "committed", exc)
                    asyncio.get_running_loop().create_task(self.app.crash(exc))
                raise

    async def commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
        """Faust's commit, between two events (none after an event that ended half-way)."""
        if self.failed is not None:
            return False
        async with self.processing:
            if self.failed is not None:
                return False
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
