"""Chinese operator texts for vehicle warnings."""

from __future__ import annotations

from hazardwatch.contracts.records import TyreRecord

CLASS_ZH = {"hazmat": "危货车", "coach": "客车", "tour_bus": "旅游客车"}
FAMILY_ZH = {"adas": "ADAS", "dsm": "DSM驾驶员状态", "bsd": "BSD盲区", "tpms": "TPMS胎压监测"}


def tyre(t: TyreRecord | None) -> str:
    """'，03号轮胎（左前轮为00），胎压420kPa，胎温41℃' for a TPMS event; '' otherwise."""
    if t is None:
        return ""
    readings = "".join(f"，{name}{v:.0f}{unit}" for name, v, unit in (
        ("胎压", t.pressure_kpa, "kPa"), ("胎温", t.temperature_c, "℃"))
        if v is not None)
    return f"，{t.position:02d}号轮胎（左前轮为00）{readings}"


def duration(ms: float) -> str:
    """'3小时50分'."""
    m = int(ms // 60_000)
    return f"{m // 60}小时{m % 60:02d}分" if m >= 60 else f"{m}分钟"
