"""When a changelog restore may end before Faust's 10 s fallback (streams/worker/recovery_end)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from faust.types import TP

from hazardwatch.streams.worker.recovery_end import RecoveryEnd, remaining

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


class FakeVerify:
    """Answers whether committed records lie in the spans asked about, and records them."""

    def __init__(self, committed: set[tuple[TP, int]]) -> None:
        self.committed, self.asked = committed, []  # type: ignore[var-annotated]

    async def __call__(self, spans: Mapping[TP, tuple[int, int]]) -> bool:
        self.asked.append(dict(spans))
        return any(start <= off < lso for tp, (start, lso) in spans.items()
                   for ctp, off in self.committed if ctp == tp)


def _check(rec: FakeRecovery, pos: dict[TP, int], verify: FakeVerify) -> bool:
    return asyncio.run(RecoveryEnd().check(rec, _positions(pos), verify))


def test_remaining_partitions() -> None:
    assert remaining({P0: 10, P1: 5}, {P0: 9, P1: 5}) == {P0: 10}
    assert remaining({P0: -1}, {P0: -1}) == {}  # an empty changelog needs nothing


def test_ends_when_only_markers_are_left_before_the_lso() -> None:
    rec = FakeRecovery({P0: 10, P1: 5}, {P0: 7, P1: 5})  # 8..10 markers or aborted
    verify = FakeVerify({(P0, 3), (P0, 7)})

    async def run() -> tuple[bool, bool]:
        waiter = asyncio.create_task(rec.signal_recovery_end.wait())  # faust's recovery
        await asyncio.sleep(0)
        ended = await RecoveryEnd().check(rec, _positions({P0: 11, P1: 6}), verify)
        await asyncio.wait_for(waiter, 1)  # woken
        return ended, rec.signal_recovery_end.is_set()

    ended, still_set = asyncio.run(run())
    assert ended and still_set  # set until the next restore starts (woken or not yet waiting)
    RecoveryEnd.started(rec)  # the next restore: a stale signal would end it unread
    assert not rec.signal_recovery_end.is_set()
    assert verify.asked == [{P0: (8, 11)}]  # from the last applied record + 1 to the LSO
    assert rec.flushed and not rec.in_recovery
    assert rec.active_offsets[P0] == 10


def test_a_committed_record_not_yet_applied_keeps_the_restore_going() -> None:
    rec = FakeRecovery({P0: 10}, {P0: 7})
    assert _check(rec, {P0: 11}, FakeVerify({(P0, 8)})) is False  # fetched, in transit
    assert rec.in_recovery and rec.active_offsets[P0] == 7


def test_not_asked_while_records_are_queued_or_not_fetched() -> None:
    rec = FakeRecovery({P0: 10}, {P0: 4})
    verify = FakeVerify(set())
    assert _check(rec, {P0: 8}, verify) is False  # the consumer is not at the LSO yet
    rec.tables.changelog_queue.size = 3
    assert _check(rec, {P0: 11}, verify) is False  # queued, not applied
    assert verify.asked == [] and rec.in_recovery
    rec.in_recovery = False
    assert _check(rec, {P0: 11}, verify) is False  # no restore under way
