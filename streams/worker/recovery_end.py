"""Ends a changelog restore as soon as every record below the last stable offset is applied.

Under exactly-once every changelog write is transactional, so the last record below the last
stable offset (LSO) is a transaction marker, which a consumer never receives. faust-streaming
0.15.3 waits for the record at LSO − 1 and only gives up after two idle 5 s polls of its
changelog queue: every restore, even of a few records, took 10–15 s, most of a fail-over
(docs/notes/issue-22.md). Here a partition is complete when the record just before the final
marker (LSO − 2) is applied, or, when its last transaction was aborted (a fenced worker's),
when the consumer's position has reached the LSO and nothing has moved for a second (the
changelog queue empty, no offset applied): records fetched but not yet applied would move it.
Ending early would be wrong, not slow: replaying an older state over the table's newer one
reverts it (a second `raised`), so the quiet second is kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from faust.tables import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP
from mode import Service

log = logging.getLogger("hazardwatch.worker")

Position = Callable[[TP], Awaitable[int | None]]
QUIET_CHECKS = 4  # checks in a row with nothing moving (a timer of 0.25 s: one second)


def remaining(highwaters: Mapping[TP, int | None], offsets: Mapping[TP, int | None]
              ) -> dict[TP, int]:
    """Partitions whose last applied offset is below Faust's highwater (LSO − 1)."""
    return {tp: hw for tp, hw in highwaters.items()
            if hw is not None and hw >= 0 and _applied(offsets, tp) < hw}


def _applied(offsets: Mapping[TP, int | None], tp: TP) -> int:
    value = offsets.get(tp)
    return -1 if value is None else value


def before_marker(left: Mapping[TP, int], offsets: Mapping[TP, int | None]) -> bool:
    """True when each partition's last applied record is the one just before its final
    marker: its last transaction committed and every record of it is applied."""
    return all(_applied(offsets, tp) >= hw - 1 for tp, hw in left.items())


async def all_fetched(left: Mapping[TP, int], position: Position) -> bool:
    """True when the consumer has fetched up to the LSO (highwater + 1) of each partition."""
    for tp, hw in left.items():
        pos = await position(tp)
        if pos is None or pos < hw + 1:
            return False
    return True


class RecoveryEnd:
    """Checked every fraction of a second by a timer of the app; ends a restore that is done."""

    def __init__(self) -> None:
        self._quiet = 0
        self._last: dict[TP, int | None] = {}

    async def check(self, recovery: Any, position: Position) -> bool:
        """End the active restore when it is complete; True if it was ended by this call."""
        left = (remaining(recovery.active_highwaters, recovery.active_offsets)
                if recovery.in_recovery else {})
        snapshot = {tp: recovery.active_offsets.get(tp) for tp in left}
        moved, self._last = snapshot != self._last, snapshot
        if not left or recovery.tables.changelog_queue.qsize() or moved:
            self._quiet = 0
            return False
        if not before_marker(left, recovery.active_offsets):
            if not await all_fetched(left, position):
                self._quiet = 0
                return False
            self._quiet += 1
            if self._quiet < QUIET_CHECKS:
                return False
        self._quiet = 0
        for tp, hw in left.items():  # only markers (or aborted records) are left
            recovery.active_offsets[tp] = hw
        if recovery.need_recovery():
            return False
        # what faust's _slurp_changelogs does when the last record arrives
        recovery.flush_buffers()
        recovery._set_recovery_ended()
        recovery.signal_recovery_end.set()
        return True


class LsoRecovery(Recovery):
    """Faust's recovery, with a task that ends a restore at the last stable offset."""

    _end: RecoveryEnd | None = None

    @Service.task
    async def _end_at_lso(self) -> None:
        self._end = RecoveryEnd()
        while not self.should_stop:
            await asyncio.sleep(0.25)
            try:
                if await self._end.check(self, self.app.consumer.position):
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
