"""BCD date-times of JT/T 808 (YYMMDDhhmmss, terminal local time, GMT+8 by default) to UTC ms."""

from __future__ import annotations

import calendar

GMT8_S = 8 * 3600
_DAYS: dict[bytes, int | None] = {}  # BCD YYMMDD → epoch seconds of that midnight (or None)
_DAYS_MAX = 4096
_HOURS: dict[bytes, int | None] = {}  # BCD YYMMDDhh → epoch seconds of that hour


def _bcd(b: int) -> int:
    """The value of one BCD byte whose nibbles are digits (0x59 → 59)."""
    return b - 6 * (b >> 4)


def _day_s(ymd: bytes) -> int | None:
    """Epoch seconds of a BCD YYMMDD date at 00:00 UTC, or None if it is not a date."""
    yy, mo, dd = _bcd(ymd[0]), _bcd(ymd[1]), _bcd(ymd[2])
    if not (1 <= mo <= 12 and 1 <= dd <= calendar.monthrange(2000 + yy, mo)[1]):
        return None
    return calendar.timegm((2000 + yy, mo, dd, 0, 0, 0))


def _hour_s(ymdh: bytes) -> int | None:
    """Epoch seconds of a BCD YYMMDDhh at hh:00 UTC, or None if it is not a date and hour."""
    if not ymdh.hex().isdigit():
        return None
    day = _DAYS.get(ymdh[:3], -1)
    if day == -1:  # dates repeat (a day's fixes share one): computed once
        if len(_DAYS) >= _DAYS_MAX:
            _DAYS.clear()
        day = _DAYS[ymdh[:3]] = _day_s(ymdh[:3])
    hh = _bcd(ymdh[3])
    return None if day is None or hh > 23 else day + hh * 3600


def bcd_time_ms(data: bytes, offset_s: int = GMT8_S) -> int | None:
    """UTC epoch ms of a 6-byte BCD time in the terminal's zone, or None if it is not a time."""
    if len(data) != 6:
        return None
    ymdh = data[:4]
    hour = _HOURS.get(ymdh, -1)
    if hour == -1:  # an hour's fixes share its date and hour: checked and computed once
        if len(_HOURS) >= _DAYS_MAX:
            _HOURS.clear()
        hour = _HOURS[ymdh] = _hour_s(ymdh)
    mi, ss = data[4], data[5]
    # BCD minutes and seconds 00–59: low nibble a digit, the whole byte at most 0x59
    if hour is None or mi > 0x59 or ss > 0x59 or mi & 0xF > 9 or ss & 0xF > 9:
        return None
    return (hour + (mi >> 4) * 600 + (mi & 0xF) * 60 + (ss >> 4) * 10 + (ss & 0xF)
            - offset_s) * 1000
