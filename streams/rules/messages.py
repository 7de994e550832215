"""Chinese operator messages for warning transitions."""

from __future__ import annotations

from hazardwatch.contracts.rules import Level
from hazardwatch.contracts.warnings import LEVEL_NAMES_ZH, Transition

METRIC_ZH = {
    "level": "液位", "temperature": "温度", "pressure": "压力", "flow": "流量",
    "gas_combustible": "可燃气体浓度", "gas_toxic": "有毒气体浓度", "oxygen": "氧气浓度",
    "ch4": "甲烷浓度", "co": "一氧化碳浓度", "co2": "二氧化碳浓度", "wind_speed": "风速",
    "dust": "粉尘浓度", "pond_level": "库水位", "phreatic_line": "浸润线埋深",
    "dry_beach": "干滩长度", "freeboard": "安全超高", "displacement": "位移",
    "rainfall": "降雨量", "seepage": "渗流量", "feed": "馈电状态",
}
GAS_METRICS = {"gas_combustible", "gas_toxic", "oxygen"}
STAGE_ZH = {"h": "高报值", "hh": "高高报值", "l": "低报值", "ll": "低低报值",
            "alarm": "报警浓度", "cut": "断电浓度", "blue": "蓝色预警值", "yellow": "黄色预警值",
            "orange": "橙色预警值", "red": "红色预警值"}
GAS_STAGE_ZH = {"h": "一级报警值", "hh": "二级报警值", "l": "低报值", "ll": "低低报值"}
FAULT_ZH = {"out_of_range": "数值超出量程", "bad_quality": "数据质量为坏值",
            "frozen": "数值长时间不变(疑似冻结)"}
CAMERA_ZH = {"fire": "明火", "smoke": "烟雾", "intrusion": "人员闯入", "leak": "泄漏",
             "ppe": "未按规定佩戴防护用品"}


def fmt(v: float | None) -> str:
    """A value without noise digits."""
    return "-" if v is None else f"{v:.4g}"


def stage_name(metric: str, stage: str) -> str:
    """The operator's name of a set-point."""
    return (GAS_STAGE_ZH if metric in GAS_METRICS else STAGE_ZH).get(stage, stage)


def threshold_text(where: str, metric: str, value: float, unit: str, stage: str,
                   threshold: float, high: bool, restore: float) -> str:
    """'1号储罐区 T101 可燃气体浓度 52%LEL，超过二级报警值 50%LEL'."""
    head = f"{where} {METRIC_ZH.get(metric, metric)} {fmt(value)}{unit}，"
    name = stage_name(metric, stage)
    if (value < threshold) if high else (value > threshold):  # held by hysteresis
        side = "以下" if high else "以上"
        return head + f"{name} {fmt(threshold)}{unit}，尚未恢复至 {fmt(restore)}{unit}{side}"
    return head + f"{'超过' if high else '低于'}{name} {fmt(threshold)}{unit}"


def transition_suffix(transition: Transition, level: Level, escalated: bool,
                      minutes: float) -> str:
    """What changed, appended to the condition text."""
    if transition == "raised":
        return f"，发布{LEVEL_NAMES_ZH[level]}预警"
    if transition == "upgraded" and escalated:
        return f"；持续{minutes:.0f}分钟未消除，预警升级为{LEVEL_NAMES_ZH[level]}"
    if transition == "upgraded":
        return f"，预警升级为{LEVEL_NAMES_ZH[level]}"
    if transition == "downgraded":
        return f"，预警降为{LEVEL_NAMES_ZH[level]}"
    return "，已恢复正常，预警解除"
