"""Rule kinds as small modules with one interface (kinds/base.py), registered here.

Kinds not yet moved here are evaluated by streams/rules/engine.py (thresholds, rate, faults,
offline); see docs/notes/issue-20.md. The order matters where one input reaches several
rules: a sensor's level goes to its combinations before its tailings item.
"""

from __future__ import annotations

from hazardwatch.streams.rules.kinds.base import RuleKind
from hazardwatch.streams.rules.kinds.camera import compile_cameras
from hazardwatch.streams.rules.kinds.combination import compile_combinations
from hazardwatch.streams.rules.kinds.counting import compile_counting
from hazardwatch.streams.rules.kinds.power_feed import compile_power_feed

KINDS: tuple[RuleKind, ...] = (
    compile_power_feed,  # 馈电异常: power still fed where CH4 asks for a power cut
    compile_combinations,  # every term of a combination holds in one unit of plant
    compile_counting,  # tailings 4-colour counting of one monitored quantity
    compile_cameras,  # fixed cameras' video-AI events
)
