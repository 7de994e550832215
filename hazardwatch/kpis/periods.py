"""Days and shifts in Beijing time (UTC+8 all year: China has no daylight saving)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
_OFFSET_MS = 8 * HOUR_MS
#: shift changes at these local hours: the project's default (day 08–20, night 20–08)
DEFAULT_SHIFT_HOURS = (8, 20)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC ms, of kind day or shift, named by its local start."""

    kind: str
    start: int
    end: int

    @property
    def label(self) -> str:
        """Local start as text, e.g. 2026-11-30 08:00."""
        return datetime.fromtimestamp(self.start / 1000, BEIJING).strftime("%Y-%m-%d %H:%M")


def local_midnight(ts: int) -> int:
    """UTC ms of the Beijing midnight that opened the day of ts."""
    return (ts + _OFFSET_MS) // DAY_MS * DAY_MS - _OFFSET_MS


def periods(start: int, end: int, kind: str,
            shift_hours: tuple[int, ...] = DEFAULT_SHIFT_HOURS) -> list[Period]:
    """Whole days or shifts that overlap [start, end), each with its full bounds."""
    hours = (0,) if kind == "day" else tuple(sorted(shift_hours))
    out: list[Period] = []
    day = local_midnight(start) - DAY_MS
    while day < end:
        edges = [day + h * HOUR_MS for h in hours] + [day + DAY_MS + hours[0] * HOUR_MS]
        for a, b in itertools.pairwise(edges):
            if b > start and a < end:
                out.append(Period(kind, a, b))
        day += DAY_MS
    return out


def parse_time(text: str) -> int:
    """UTC ms of an ISO time; without a zone it is Beijing time."""
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=BEIJING)
    return int(t.astimezone(UTC).timestamp() * 1000)
