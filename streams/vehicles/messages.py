"""Chinese operator texts for vehicle warnings."""

from __future__ import annotations

CLASS_ZH = {"hazmat": "危货车", "coach": "客车", "tour_bus": "旅游客车"}
FAMILY_ZH = {"adas": "ADAS", "dsm": "DSM驾驶员状态", "bsd": "BSD盲区"}


def duration(ms: float) -> str:
    """'3小时50分'."""
    m = int(ms // 60_000)
    return f"{m // 60}小时{m % 60:02d}分" if m >= 60 else f"{m}分钟"
