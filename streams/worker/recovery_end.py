"""Ends a changelog restore as soon as every committed record below the last stable offset is
applied.

Under exactly-once every changelog write is transactional, so the last record below the last
stable offset (LSO) is a transaction marker, which a consumer never receives. faust-streaming
0.15.3 waits for the record at LSO − 1 and only gives up after two idle 5 s polls of its
changelog queue: every restore, even of a few records, took 10–15 s, most of a fail-over
(docs/notes/issue-22.md). Here, once the consumer has fetched up to the LSO of every partition
still "remaining" and the changelog queue is empty, a separate read_committed consumer reads
from the last applied offset to the LSO: if it finds no record, only markers (or aborted
records) are left and the restore ends. Ending on position alone was wrong, not slow: a record
fetched but not yet applied was lost, and replaying an older state over the table's newer one
reverted it (a second `raised`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]
from faust.tables import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP
from mode import Service

log = logging.getLogger("hazardwatch.worker")

Position = Callable[[TP], Awaitable[int | None]]
# (first offset to look at, LSO) per partition → True if a committed record lies in between
Verify = Callable[[Mapping[TP, tuple[int, int]]], Awaitable[bool]]


def _applied(offsets: Mapping[TP, int | None], tp: TP) -> int:
    value = offsets.get(tp)
    return -1 if value is None else value


def remaining(highwaters: Mapping[TP, int | None], offsets: Mapping[TP, int | None]
              ) -> dict[TP, int]:
    """Partitions whose last applied offset is below Faust's highwater (LSO − 1)."""
    return {tp: hw for tp, hw in highwaters.items()
            if hw is not None and hw >= 0 and _applied(offsets, tp) < hw}


async def all_fetched(left: Mapping[TP, int], position: Position) -> bool:
    """True when the consumer has fetched up to the LSO (highwater + 1) of each partition."""
    for tp, hw in left.items():
        pos = await position(tp)
        if pos is None or pos < hw + 1:
            return False
    return True


async def committed_between(bootstrap: str, spans: Mapping[TP, tuple[int, int]],
                            timeout_s: float = 5.0) -> bool:
    """True if a read_committed consumer finds a record in [start, lso) of any partition, or
    cannot tell within `timeout_s` (then the restore goes on: Faust's own end still applies)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        tps = {TopicPartition(tp.topic, tp.partition): span for tp, span in spans.items()}
        consumer.assign(list(tps))
        for ktp, (start, _lso) in tps.items():
            consumer.seek(ktp, start)
        pending = set(tps)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while pending and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(*pending, timeout_ms=200)
            if any(m.offset < tps[ktp][1] for ktp, msgs in batch.items() for m in msgs):
                return True
            pending = {ktp for ktp in pending if await consumer.position(ktp) < tps[ktp][1]}
        return bool(pending)
    finally:
        await consumer.stop()


class RecoveryEnd:
    """Checked every fraction of a second by a task; ends a restore that is done."""

    async def check(self, recovery: Any, position: Position, verify: Verify) -> bool:
        """End the active restore when it is complete; True if it was ended by this call."""
        left = (remaining(recovery.active_highwaters, recovery.active_offsets)
                if recovery.in_recovery else {})
        if (not left or recovery.tables.changelog_queue.qsize()
                or not await all_fetched(left, position)):
            return False
        spans = {tp: (_applied(recovery.active_offsets, tp) + 1, hw + 1)
                 for tp, hw in left.items()}
        if await verify(spans) or not recovery.in_recovery:
            return False  # records still to apply (in transit), or Faust ended it meanwhile
        if remaining(recovery.active_highwaters, recovery.active_offsets).keys() != left.keys():
            return False  # a rebalance started another restore meanwhile
        log.info("restore end: nothing committed between %s", {
            f"{tp.partition}": span for tp, span in spans.items()})
        for tp, hw in left.items():  # only markers (or aborted records) are left
            recovery.active_offsets[tp] = hw
        if recovery.need_recovery():
            return False
        # what faust's _slurp_changelogs does when the last record arrives; the signal stays
        # set until the next restore starts (`started`): cleared at once, it was lost when the
        # recovery was not waiting yet, and that restore waited for faust's own 10 s end
        recovery.flush_buffers()
        recovery._set_recovery_ended()
        recovery.signal_recovery_end.set()
        return True

    @staticmethod
    def started(recovery: Any) -> None:
        """A restore starts: an end signal left from the last one must not end it unread."""
        recovery.signal_recovery_end.clear()


class LsoRecovery(Recovery):
    """Faust's recovery, with a task that ends a restore at the last stable offset."""

    _end: RecoveryEnd | None = None

    def _set_recovery_started(self) -> None:
        super()._set_recovery_started()
        RecoveryEnd.started(self)

    async def _verify(self, spans: Mapping[TP, tuple[int, int]]) -> bool:
        url = self.app.conf.broker[0]
        return await committed_between(f"{url.host}:{url.port}", spans)

    @Service.task
    async def _end_at_lso(self) -> None:
        self._end = RecoveryEnd()
        while not self.should_stop:
            await asyncio.sleep(0.25)
            try:
                if await self._end.check(self, self.app.consumer.position, self._verify):
                    log.info("changelog restore complete at the last stable offset")
            except Exception as exc:  # a rebalance mid-check: Faust's own end still applies
                log.info("restore end check skipped: %r", exc)


class LsoTableManager(TableManager):
    """Faust's table manager with `LsoRecovery` (installed by `create_app`)."""

    @property
    def recovery(self) -> Recovery:
        """The recovery service, built once."""
        if self._recovery is None:
            self._recovery = LsoRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
