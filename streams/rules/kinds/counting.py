"""Tailings 4-colour counting: the item (a monitored quantity of a tailings dam) is raised
above its worst point when enough points warn (4 蓝 → 黄, 3 黄 → 橙, 2 橙 → 红; rule pack
`tailings_counting`). Only a level worse than every single point is a warning of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules import messages as zh
from hazardwatch.streams.rules.config import Counting, RulesConfig
from hazardwatch.streams.rules.episode import Change, Policy, due_changes, next_due, step
from hazardwatch.streams.rules.kinds.base import CompiledRule, Fired, Inputs, LevelOf
from hazardwatch.streams.rules.state import RuleState


def counted_level(c: Counting, wants: Sequence[int]) -> Level | None:
    """The item's level from its points' levels, when worse than every point (else None)."""
    if not wants:
        return None
    level = min(wants)
    if sum(w <= 2 for w in wants) >= c.orange_to_red:
        level = min(level, 1)
    if sum(w <= 3 for w in wants) >= c.yellow_to_orange:
        level = min(level, 2)
    if sum(w <= 4 for w in wants) >= c.blue_to_yellow:
        level = min(level, 3)
    return Level(level) if level < min(wants) else None


@dataclass(frozen=True, slots=True)
class TailingsItem(Inputs):
    """The counting rule of one monitored quantity of a tailings dam, over all its points."""

    key: str
    levels: tuple[str, ...]
    metric: str
    site_name: str
    counting: Counting
    policy: Policy
    sensors: tuple[str, ...] = ()
    events: tuple[tuple[str, str], ...] = ()

    def on_levels(self, st: RuleState, level_of: LevelOf, ts: int,
                  drill: bool) -> list[Fired]:
        """A point's level changed: count again."""
        st.drill = drill
        wants = [lv for m in self.levels if (lv := level_of(m)) is not None]
        st.want, st.value = counted_level(self.counting, wants), float(len(wants))
        if st.want is None and not st.ep.active and st.ep.pending_since is None:
            return []
        return self._fire(step(self.policy, st.ep, st.want, ts), st, ts)

    def wake_at(self, st: RuleState) -> int | None:
        """Persistence, clear delay or escalation."""
        return next_due(self.policy, st.ep)

    def on_wake(self, st: RuleState, now: int) -> list[Fired]:
        """Fire what is due."""
        return [f for change, at in due_changes(self.policy, st.ep, st.want, now)
                for f in self._fire(change, st, at)]

    def _fire(self, change: Change | None, st: RuleState, ts: int) -> list[Fired]:
        if change is None:
            return []
        text = (f"{self.site_name} {zh.METRIC_ZH.get(self.metric, self.metric)} "
                f"{st.value or 0:.0f}个测点预警，按四色预警计数规则综合评定")
        return [Fired(change, ts, rule_ids.tailings_count(self.metric), "counting",
                      f"item-{self.metric}", None, None, None, text, st.drill)]


def compile_counting(site: Site, rules: RulesConfig) -> list[CompiledRule]:
    """One rule per monitored quantity of a tailings dam."""
    if site.kind != "tailings_dam":
        return []
    points: dict[str, list[str]] = {}
    for d in site.devices:
        for s in d.sensors:
            points.setdefault(s.metric, []).append(s.id)
    policy = rules.policy("tailings")
    return [TailingsItem(f"tailings:{metric}", tuple(ids), metric, site.name,
                         rules.tailings_counting, policy) for metric, ids in points.items()]
