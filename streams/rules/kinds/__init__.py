"""Rule kinds as small modules with one interface (kinds/base.py), registered here.

Every site rule is a kind; the engine (streams/rules/engine.py) only routes inputs to the
compiled rules and turns what fired into warning records. The order of the table is the order
of evaluation where one input reaches several rules: a reading goes through the screens
(sensor faults) first, then, if valid, to the rules taking it in this order (馈电异常 before
rate and thresholds); a sensor's level goes to its combinations before its tailings item; a
device's record to offline before its clock. On a tick the engine wakes devices, then sensors
(by id; a sensor's value kinds in this order, then its screens), then the site-compiled rules
(in the order their states were made).
"""

from __future__ import annotations

from hazardwatch.streams.rules.kinds.base import Devices, Kind, PerSensor, Screens
from hazardwatch.streams.rules.kinds.camera import compile_cameras
from hazardwatch.streams.rules.kinds.clock import compile_clock
from hazardwatch.streams.rules.kinds.combination import compile_combinations
from hazardwatch.streams.rules.kinds.counting import compile_counting
from hazardwatch.streams.rules.kinds.fault import compile_faults
from hazardwatch.streams.rules.kinds.offline import compile_offline
from hazardwatch.streams.rules.kinds.power_feed import compile_power_feed
from hazardwatch.streams.rules.kinds.rate import compile_rate
from hazardwatch.streams.rules.kinds.threshold import compile_thresholds

KINDS: tuple[Kind, ...] = (
    Screens(compile_faults),  # sensor faults: bad quality, out of range, frozen
    compile_power_feed,  # 馈电异常: power still fed where CH4 asks for a power cut
    PerSensor(compile_rate),  # rate of change of a sensor's value
    PerSensor(compile_thresholds),  # set-point stages (coal CH4), escalation, flapping
    compile_combinations,  # every term of a combination holds in one unit of plant
    compile_counting,  # tailings 4-colour counting of one monitored quantity
    compile_cameras,  # fixed cameras' video-AI events
    Devices(compile_offline),  # device offline and 未接入
    Devices(compile_clock),  # device clock ahead beyond its tolerance
)
