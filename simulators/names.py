"""Chinese names of rules and subjects for people (drill report); ids stay in the JSON.

A stop-gap until the rule-id registry (issue 20) names every rule: built from the id's parts,
falling back to the id itself.
"""

from __future__ import annotations

from hazardwatch.contracts.catalog import Catalog

_WHOLE = {"device.offline": "设备离线", "sensor.fault": "传感器故障", "camera.fire": "视频火情",
          "vehicle.overspeed": "车辆超速", "vehicle.offline": "车辆离线",
          "vehicle.offline_displacement": "车辆离线位移", "vehicle.night_ban": "夜间禁行",
          "vehicle.driving.continuous": "连续驾驶超时", "vehicle.driving.daily": "日累计驾驶超时",
          "vehicle.video.dsm.fatigue": "疲劳驾驶(DSM)",
          "combo.tank.gas_and_heat": "储罐气体与温度组合",
          "device.never_connected": "设备未接入", "device.clock_fast": "设备时钟超前"}
_PLACE = {"tank_farm": "储罐区", "coal_mine": "煤矿", "tailings_dam": "尾矿库"}
_METRIC = {"gas_combustible": "可燃气体", "gas_toxic": "有毒气体", "temperature": "温度",
           "pressure": "压力", "level": "液位", "ch4": "甲烷", "co": "一氧化碳",
           "displacement": "位移", "phreatic_line": "浸润线", "rainfall": "降雨量",
           "water_level": "水位", "wind_speed": "风速"}
_KIND = {"threshold": "超限", "rate": "变化速率", "frozen": "数值冻结"}


def rule_zh(rule: str) -> str:
    """A rule id as a Chinese name (the id itself when unknown)."""
    if rule in _WHOLE:
        return _WHOLE[rule]
    parts = rule.split(".")
    if parts[0] == "vehicle" and len(parts) == 3 and parts[1] == "jt808":
        return f"终端报警(第{parts[2]}位)"
    if len(parts) == 3 and parts[0] in _PLACE and parts[1] in _METRIC and parts[2] in _KIND:
        return f"{_PLACE[parts[0]]}{_METRIC[parts[1]]}{_KIND[parts[2]]}"
    return rule


def subject_zh(subject: str, catalog: Catalog) -> str:
    """A subject key (vehicle:ID, sensor:SITE/ID, unit:…, device:…, site:ID) with the
    site's name or the vehicle's plate."""
    kind, _, rest = subject.partition(":")
    if kind == "vehicle":
        v = catalog.vehicles.get(rest)
        return v.plate if v else rest
    site_id, _, what = rest.partition("/")
    site = catalog.sites.get(site_id)
    label = {"sensor": "测点", "unit": "装置", "device": "设备"}.get(kind, "")
    if site is None:
        return subject
    return f"{site.name} {label}{what}".strip() if what else site.name
