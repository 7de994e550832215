"""Rule kinds as small modules with one interface (kinds/base.py), registered here.

Kinds not yet moved here are evaluated by streams/rules/engine.py (thresholds, rate, faults,
offline, combinations, tailings counting, cameras); see docs/notes/issue-20.md.
"""

from __future__ import annotations

from hazardwatch.streams.rules.kinds.base import RuleKind
from hazardwatch.streams.rules.kinds.power_feed import compile_power_feed

KINDS: tuple[RuleKind, ...] = (
    compile_power_feed,  # 馈电异常: power still fed where CH4 asks for a power cut
)
