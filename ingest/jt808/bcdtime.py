"""BCD date-times of JT/T 808 (YYMMDDhhmmss, terminal local time, GMT+8 by default) to UTC ms."""

from __future__ import annotations

import calendar

GMT8_S = 8 * 3600


def bcd_time_ms(data: bytes, offset_s: int = GMT8_S) -> int | None:
    """UTC epoch ms of a 6-byte BCD time in the terminal's zone, or None if it is not a time."""
    s = data.hex()
    if len(s) != 12 or not s.isdigit():
        return None
    yy, mo, dd, hh, mi, ss = (int(s[i:i + 2]) for i in range(0, 12, 2))
    if not (1 <= mo <= 12 and 1 <= dd <= calendar.monthrange(2000 + yy, mo)[1]
            and hh < 24 and mi < 60 and ss < 60):
        return None
    return (calendar.timegm((2000 + yy, mo, dd, hh, mi, ss)) - offset_s) * 1000
