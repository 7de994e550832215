"""Local wall-clock time for rules and reports (night windows, local days); internal times stay
UTC epoch ms. Shared by every package (streams, simulators, alerting, kpis)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def minutes(hhmm: str) -> int:
    """'22:00' → 1320."""
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def in_window(minute: int, window: tuple[int, int]) -> bool:
    """Whether a minute of the day lies in [start, end), the window may wrap midnight."""
    a, b = window
    return a <= minute < b if a <= b else minute >= a or minute < b


class LocalClock:
    """UTC epoch ms → local minute of day and local day, with a per-hour offset cache."""

    def __init__(self, tz: str) -> None:
        self.tz = ZoneInfo(tz)
        self._offsets: dict[int, int] = {}
        # one offset in every January and July 2000–2100: no daylight saving (Asia/Shanghai)
        seen = {self._utc_offset_ms(datetime(y, m, 1, tzinfo=UTC).timestamp())
                for y in range(2000, 2101) for m in (1, 7)}
        self.fixed_offset_ms: int | None = seen.pop() if len(seen) == 1 else None

    def local_ms(self, ts: int) -> int:
        """Milliseconds since the epoch as if local time were UTC."""
        off = self._offsets.get(ts // HOUR_MS)
        return ts + (self._offset(ts // HOUR_MS) if off is None else off)

    def minute_of_day(self, ts: int) -> int:
        """Local minute of the day, 0..1439."""
        return self.local_ms(ts) % DAY_MS // 60_000

    def _offset(self, hour: int) -> int:
        off = self._offsets[hour] = self._utc_offset_ms(hour * 3600)
        return off

    def _utc_offset_ms(self, seconds: float) -> int:
        delta = datetime.fromtimestamp(seconds, self.tz).utcoffset()
        return int(delta.total_seconds() * 1000) if delta else 0

    def day(self, ts: int) -> int:
        """Local day number (days since 1970-01-01 in local time)."""
        return self.local_ms(ts) // DAY_MS

    def day_end(self, ts: int) -> int:
        """UTC epoch ms of the next local midnight after ts."""
        local = self.local_ms(ts)
        return ts + (local // DAY_MS + 1) * DAY_MS - local

    def hhmm(self, ts: int) -> str:
        """Local 'HH:MM'."""
        m = self.minute_of_day(ts)
        return f"{m // 60:02d}:{m % 60:02d}"


def day_text(day: int) -> str:
    """Local day number → '2026-11-23'."""
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
