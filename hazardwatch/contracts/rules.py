"""Rule identity and levels as types: the one registry of rule ids the engines emit and that
alerting (inhibition, silences by rule), scenarios and dashboards match, and the level scale.

A fixed rule has a `RuleId` member; a rule family whose id carries a part of the catalog or
the rule pack (a metric, a zone, a JT/T 808 bit) has a builder here. Ids are plain strings on
the wire (`WarningRecord.rule`): a `RuleId` compares and encodes as its value.
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum


class Level(IntEnum):
    """Warning level, 1 红 (most severe) … 4 蓝: a lower number is more severe."""

    RED = 1
    ORANGE = 2
    YELLOW = 3
    BLUE = 4

    def more_severe_than(self, other: int) -> bool:
        """Whether this level is more severe than `other` (1 beats 2)."""
        return self < other

    @staticmethod
    def worst(*levels: int) -> Level:
        """The most severe of some levels."""
        return Level(min(levels))


class RuleId(StrEnum):
    """The rules whose id is fixed."""

    DEVICE_OFFLINE = "device.offline"
    DEVICE_NEVER_CONNECTED = "device.never_connected"  # 未接入
    DEVICE_CLOCK_FAST = "device.clock_fast"
    SENSOR_FAULT = "sensor.fault"
    COAL_POWER_FEED = "coal_mine.power_feed"  # 馈电异常
    VEHICLE_OVERSPEED = "vehicle.overspeed"
    VEHICLE_DRIVING_CONTINUOUS = "vehicle.driving.continuous"
    VEHICLE_DRIVING_DAILY = "vehicle.driving.daily"
    VEHICLE_NIGHT_BAN = "vehicle.night_ban"
    VEHICLE_OFFLINE = "vehicle.offline"
    VEHICLE_OFFLINE_DISPLACEMENT = "vehicle.offline_displacement"  # 离线位移
    VEHICLE_NEVER_CONNECTED = "vehicle.never_connected"
    VEHICLE_CLOCK_FAST = "vehicle.clock_fast"


def threshold(site_kind: str, metric: str) -> str:
    """A sensor's set-point rule, e.g. tank_farm.gas_combustible.threshold."""
    return f"{site_kind}.{metric}.threshold"


def rate(site_kind: str, metric: str) -> str:
    """A sensor's rate-of-change rule."""
    return f"{site_kind}.{metric}.rate"


def combination(name: str) -> str:
    """A combination in one unit of plant (rule pack `combinations[].name`)."""
    return f"combo.{name}"


def tailings_count(metric: str) -> str:
    """The tailings counting rule of one monitored quantity."""
    return f"tailings.{metric}.count"


def camera(family: str) -> str:
    """A fixed camera's video-AI family."""
    return f"camera.{family}"


def vehicle_zone(zone_id: str) -> str:
    """A restricted zone (rule pack `zones[].id`)."""
    return f"vehicle.zone.{zone_id}"


def vehicle_route(route_id: str) -> str:
    """An approved route corridor (rule pack `routes[].id`)."""
    return f"vehicle.route.{route_id}"


def vehicle_jt808(bit: int) -> str:
    """A JT/T 808 alarm bit."""
    return f"vehicle.jt808.{bit}"


def vehicle_video(family_type: str) -> str:
    """A vehicle video-AI alarm type, 'family.type' (e.g. dsm.fatigue)."""
    return f"vehicle.video.{family_type}"


_FAMILIES = re.compile(
    r"^((tank_farm|coal_mine|tailings_dam)\.\w+\.(threshold|rate)|combo\.[\w.]+"
    r"|tailings\.\w+\.count|camera\.\w+|vehicle\.(zone|route)\.[\w-]+|vehicle\.jt808\.\d+"
    r"|vehicle\.video\.\w+\.\w+)$")
_FIXED = frozenset(r.value for r in RuleId)


def known(rule: str) -> bool:
    """Whether a rule id is one the engines can emit (a RuleId, or of a family above)."""
    return rule in _FIXED or _FAMILIES.match(rule) is not None
