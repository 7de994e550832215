"""The table of assessment figures: name, Chinese name, formula (docs/kpis.md quotes it)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One assessment figure and how it is computed."""

    name: str
    zh: str
    formula: str


FIGURES: dict[str, Figure] = {f.name: f for f in (
    Figure("access_rate", "接入率",
           "catalogued devices with at least one valid value in the period ÷ catalogued devices"),
    Figure("online_rate_point", "在线率(测点)",
           "(period − offline time of the point) ÷ period; offline from last valid value + the "
           "device's offline_timeout_s until the next valid value (the offline warning's rule)"),
    Figure("online_rate_device", "在线率(设备)",
           "(period − offline time of the device) ÷ period; the device is seen by any valid value "
           "of any of its points"),
    Figure("data_valid_rate", "数据合格率",
           "valid values ÷ (valid values + values refused by the bridge on hw.rejected)"),
    Figure("handled_rate", "报警处置率",
           "warnings raised in the period with a 处置 (resolve) ÷ warnings raised in the period"),
    Figure("handled_in_time_rate", "及时处置率",
           "warnings whose 处置 came within the level's deadline (处置 time − push time ≤ "
           "deadline) ÷ warnings raised"),
    Figure("ack_p50_s", "签收时长P50",
           "median of (签收 time − push time) over acknowledged warnings; push time: see "
           "*Where the clock starts*"),
    Figure("ack_p90_s", "签收时长P90", "90th percentile (nearest rank) of the same"),
    Figure("handle_p50_s", "处置时长P50",
           "median of (处置 time − push time) over handled warnings"),
    Figure("handle_p90_s", "处置时长P90", "90th percentile (nearest rank) of the same"),
    Figure("false_alarm_share", "误报占比",
           "handled warnings verified as false alarm or sensor fault ÷ handled warnings"),
    Figure("vehicle_online_rate", "上线率",
           "vehicles with at least one valid fix in the period ÷ catalogued (入网) vehicles"),
    Figure("track_complete_rate", "轨迹完整率",
           "complete mileage ÷ (complete + incomplete mileage); a stretch between two fixes is "
           "incomplete when longer than driving.gap_s or driving.gap_km"),
    Figure("drift_rate", "漂移率", "drift fixes ÷ fixes"),
)}


def ratio(num: float, den: float) -> float | None:
    """num ÷ den, None when there is nothing to count (never a made-up 100 %)."""
    return None if den <= 0 else num / den


def nearest_rank(values: list[float], pct: float) -> float | None:
    """The pct-th percentile by nearest rank (no interpolation): a value that was observed."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(1, math.ceil(pct * len(ordered) / 100))
    return ordered[min(k, len(ordered)) - 1]
