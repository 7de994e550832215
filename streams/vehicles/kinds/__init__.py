"""Vehicle rule kinds as small modules with one interface (kinds/base.py), registered here.

The order is the order of evaluation: a fix goes through the kinds top to bottom (the drift
kind decides whether the ones after it see it), a due tick through every `on_wake` then every
`on_clear`. The site kinds are in streams/rules/kinds/; streams/kinds.py lists both.
"""

from __future__ import annotations

from hazardwatch.streams.vehicles.kinds.base import Setup, VehicleRule
from hazardwatch.streams.vehicles.kinds.bits import AlarmBits
from hazardwatch.streams.vehicles.kinds.clock_fast import ClockFast
from hazardwatch.streams.vehicles.kinds.connect import NeverConnected
from hazardwatch.streams.vehicles.kinds.continuous import Continuous
from hazardwatch.streams.vehicles.kinds.daily import Daily
from hazardwatch.streams.vehicles.kinds.day import DayFigures
from hazardwatch.streams.vehicles.kinds.displacement import Displacement
from hazardwatch.streams.vehicles.kinds.drift import Drift
from hazardwatch.streams.vehicles.kinds.night_ban import NightBan
from hazardwatch.streams.vehicles.kinds.offline import Offline
from hazardwatch.streams.vehicles.kinds.places import Places
from hazardwatch.streams.vehicles.kinds.speed import Overspeed
from hazardwatch.streams.vehicles.kinds.video import VideoAI

KINDS: tuple[type[VehicleRule], ...] = (
    DayFigures,  # 联网联控 day figures; the day's end
    NeverConnected,  # 未接入 / 已接入
    ClockFast,  # terminal clock ahead
    Offline,  # offline, back online (raises 离线位移 through Displacement)
    Drift,  # GNSS jumps (the kinds below skip them), track completeness
    Continuous,  # continuous and night driving, rests, fatigue time
    Daily,  # 24-hour driving
    NightBan,  # 凌晨禁行
    Overspeed,  # speed zones and bands, night limits
    Places,  # restricted zones, route corridors
    AlarmBits,  # JT/T 808 alarm bits
    VideoAI,  # ADAS / DSM / BSD
    Displacement,  # 离线位移's clear delay
)


def compile_kinds(setup: Setup) -> list[VehicleRule]:
    """Every kind of the table compiled for the fleet, in the table's order."""
    return [kind(setup) for kind in KINDS]
