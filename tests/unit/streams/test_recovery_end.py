"""When a changelog restore may end before Faust's 10 s fallback (streams/worker/recovery_end)."""

from __future__ import annotations

import asyncio
from typing import Any

from faust.types import TP

from hazardwatch.streams.worker.recovery_end import (
    QUIET_CHECKS,
    RecoveryEnd,
    before_marker,
    remaining,
)

P0, P1 = TP("cl", 0), TP("cl", 1)


class FakeQueue:
    def __init__(self) -> None:
        self.size = 0

    def qsize(self) -> int:
        return self.size


class FakeRecovery:
    """The attributes of faust's Recovery that RecoveryEnd reads and sets."""

    def __init__(self, highwaters: dict[TP, int], offsets: dict[TP, int]) -> None:
        self.in_recovery = True
        self.active_highwaters = highwaters
        self.active_offsets = offsets
        self.tables: Any = type("Tables", (), {"changelog_queue": FakeQueue()})()
        self.signal_recovery_end = asyncio.Event()
        self.flushed = False

    def need_recovery(self) -> bool:
        return any(self.active_offsets[tp] < hw for tp, hw in self.active_highwaters.items())

    def flush_buffers(self) -> None:
        self.flushed = True

    def _set_recovery_ended(self) -> None:
        self.in_recovery = False


def _positions(pos: dict[TP, int]) -> Any:
    async def position(tp: TP) -> int | None:
        return pos.get(tp)
    return position


def test_remaining_and_the_record_before_the_marker() -> None:
    left = remaining({P0: 10, P1: 5}, {P0: 9, P1: 5})
    assert left == {P0: 10}
    assert before_marker(left, {P0: 9})  # 10 is the commit marker: 9 was the last record
    assert not before_marker(left, {P0: 8})
    assert remaining({P0: -1}, {P0: -1}) == {}  # an empty changelog needs nothing


def test_ends_at_once_when_the_last_record_before_the_marker_is_applied() -> None:
    rec = FakeRecovery({P0: 10}, {P0: 9})
    end = RecoveryEnd()
    assert asyncio.run(end.check(rec, _positions({P0: 11}))) is False  # first sight: moved
    assert asyncio.run(end.check(rec, _positions({P0: 11}))) is True
    assert rec.flushed and not rec.in_recovery and rec.signal_recovery_end.is_set()
    assert rec.active_offsets[P0] == 10


def test_an_aborted_tail_ends_only_after_a_quiet_second_at_the_lso() -> None:
    rec = FakeRecovery({P0: 10}, {P0: 4})  # 5..9 aborted (a fenced worker's), 10 the marker
    end = RecoveryEnd()
    results = [asyncio.run(end.check(rec, _positions({P0: 11}))) for _ in range(QUIET_CHECKS)]
    assert results[:-1] == [False] * (QUIET_CHECKS - 1) and rec.in_recovery
    assert asyncio.run(end.check(rec, _positions({P0: 11}))) is True


def test_never_ends_while_records_are_queued_moving_or_not_fetched() -> None:
    rec = FakeRecovery({P0: 10}, {P0: 4})
    end = RecoveryEnd()
    for _ in range(QUIET_CHECKS * 2):
        assert asyncio.run(end.check(rec, _positions({P0: 8}))) is False  # not fetched
    rec.tables.changelog_queue.size = 3
    for _ in range(QUIET_CHECKS * 2):
        assert asyncio.run(end.check(rec, _positions({P0: 11}))) is False  # queued
    rec.tables.changelog_queue.size = 0
    for offset in range(5, 5 + QUIET_CHECKS * 2):  # still applying
        rec.active_offsets[P0] = min(offset, 8)
        if offset < 8:
            assert asyncio.run(end.check(rec, _positions({P0: 11}))) is False
    assert rec.in_recovery
