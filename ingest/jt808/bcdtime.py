"""BCD date-times of JT/T 808 (YYMMDDhhmmss, terminal local time, GMT+8 by default) to UTC ms."""

from __future__ import annotations

import calendar

GMT8_S = 8 * 3600
_DAYS: dict[bytes, int | None] = {}  # BCD YYMMDD → epoch seconds of that midnight (or None)
_DAYS_MAX = 4096


def _bcd(b: int) -> int:
    """The value of one BCD byte whose nibbles are digits (0x59 → 59)."""
    return b - 6 * (b >> 4)


def _day_s(ymd: bytes) -> int | None:
    """Epoch seconds of a BCD YYMMDD date at 00:00 UTC, or None if it is not a date."""
    yy, mo, dd = _bcd(ymd[0]), _bcd(ymd[1]), _bcd(ymd[2])
    if not (1 <= mo <= 12 and 1 <= dd <= calendar.monthrange(2000 + yy, mo)[1]):
        return None
    return calendar.timegm((2000 + yy, mo, dd, 0, 0, 0))


def bcd_time_ms(data: bytes, offset_s: int = GMT8_S) -> int | None:
    """UTC epoch ms of a 6-byte BCD time in the terminal's zone, or None if it is not a time."""
    if len(data) != 6 or not data.hex().isdigit():
        return None
    ymd = data[:3]
    day = _DAYS.get(ymd, -1)
    if day == -1:  # dates repeat (a day's fixes share one): computed once
        if len(_DAYS) >= _DAYS_MAX:
            _DAYS.clear()
        day = _DAYS[ymd] = _day_s(ymd)
    hh, mi, ss = _bcd(data[3]), _bcd(data[4]), _bcd(data[5])
    if day is None or hh > 23 or mi > 59 or ss > 59:
        return None
    return (day + hh * 3600 + mi * 60 + ss - offset_s) * 1000
