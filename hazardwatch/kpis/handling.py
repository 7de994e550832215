"""Handling figures of a set of warnings: 报警处置率, 及时处置率, 签收/处置 times, 误报占比."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from hazardwatch.kpis.figures import nearest_rank, ratio

Verdict = Literal["real", "false_alarm", "sensor_fault"]

#: 处置 deadlines per warning level in seconds: the project's own defaults (no official
#: limit was retrievable, docs/kpis.md); the workflow's configuration overrides them
DEFAULT_HANDLE_DEADLINE_S: dict[int, int] = {1: 30 * 60, 2: 60 * 60, 3: 4 * 3600, 4: 24 * 3600}


def handling_start(started_at: int, pushed_at: int | None) -> int:
    """Where the times to 签收/处置 of a warning start: the wall time its `raised` record was
    appended to hw.warnings (it reached the alerting service and the people), kept by the
    sink as `pushed_at`; the episode's start for a row written before the sink kept it."""
    return pushed_at if pushed_at is not None and pushed_at > 0 else started_at


@dataclass(frozen=True)
class Handling:
    """One warning raised in the period and what people did with it (times in UTC ms;
    raised_at: when it reached the platform, `handling_start`)."""

    warning_id: str
    level: int
    raised_at: int
    acked_at: int | None = None
    handled_at: int | None = None
    verdict: Verdict | None = None


@dataclass(frozen=True)
class HandlingFigures:
    """The handling figures of a set of warnings."""

    raised: int
    handled: int
    handled_in_time: int
    false_or_fault: int
    ack_s: dict[int, list[float]]
    handle_s: dict[int, list[float]]

    @property
    def handled_rate(self) -> float | None:
        """报警处置率."""
        return ratio(self.handled, self.raised)

    @property
    def handled_in_time_rate(self) -> float | None:
        """及时处置率."""
        return ratio(self.handled_in_time, self.raised)

    @property
    def false_alarm_share(self) -> float | None:
        """误报占比 (false alarms and sensor faults among the handled)."""
        return ratio(self.false_or_fault, self.handled)

    def percentile(self, which: Literal["ack", "handle"], level: int, pct: float) -> float | None:
        """p-th percentile in seconds of the time to 签收 or 处置 of one level."""
        return nearest_rank((self.ack_s if which == "ack" else self.handle_s).get(level, []), pct)


def handling_figures(items: Iterable[Handling],
                     deadline_s: Mapping[int, int] = DEFAULT_HANDLE_DEADLINE_S) -> HandlingFigures:
    """Count and time the warnings; a step before the raise (clock skew) counts as 0 s."""
    raised = handled = in_time = false = 0
    ack: dict[int, list[float]] = {}
    handle: dict[int, list[float]] = {}
    for h in items:
        raised += 1
        if h.acked_at is not None:
            ack.setdefault(h.level, []).append(max(0, h.acked_at - h.raised_at) / 1000)
        if h.handled_at is None:
            continue
        handled += 1
        took = max(0, h.handled_at - h.raised_at) / 1000
        handle.setdefault(h.level, []).append(took)
        if took <= deadline_s.get(h.level, DEFAULT_HANDLE_DEADLINE_S[4]):
            in_time += 1
        if h.verdict in ("false_alarm", "sensor_fault"):
            false += 1
    return HandlingFigures(raised, handled, in_time, false, ack, handle)


_VERDICTS: dict[str, Verdict] = {"误报": "false_alarm", "false_alarm": "false_alarm",
                                 "传感器故障": "sensor_fault", "sensor_fault": "sensor_fault"}


def verdict_of(verdict: str | None, cause: str | None) -> Verdict | None:
    """The 核查 verdict of a 处置: its own field, else a cause that names one, else None."""
    for v in (verdict, cause):
        if v and v.strip() in _VERDICTS:
            return _VERDICTS[v.strip()]
    return "real" if verdict == "real" else None
