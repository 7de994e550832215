"""Combinations in one unit of plant: every term holds (a sensor of its metrics at its level
or worse) → a warning at the combination's level (rule pack `combinations`)."""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules.config import Combination, RulesConfig
from hazardwatch.streams.rules.episode import Change, Policy, due_changes, next_due, step
from hazardwatch.streams.rules.kinds.base import CompiledRule, Fired, Inputs, LevelOf
from hazardwatch.streams.rules.state import RuleState


@dataclass(frozen=True, slots=True)
class UnitCombination(Inputs):
    """One combination in one unit of plant, over the unit's sensors of its metrics."""

    key: str
    levels: tuple[str, ...]
    metric_of: dict[str, str]
    combo: Combination
    unit: str
    where: str
    policy: Policy
    sensors: tuple[str, ...] = ()
    events: tuple[tuple[str, str], ...] = ()

    def on_levels(self, st: RuleState, level_of: LevelOf, ts: int,
                  drill: bool) -> list[Fired]:
        """A member's level changed: does every term hold now?"""
        st.drill = drill
        st.want = self._want(level_of)
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

    def _want(self, level_of: LevelOf) -> Level | None:
        levels: dict[str, list[Level]] = {}
        for m in self.levels:
            lv = level_of(m)
            if lv is not None:
                levels.setdefault(self.metric_of[m], []).append(lv)
        ok = all(any(lv <= t.level_at_most for mt in t.metrics for lv in levels.get(mt, []))
                 for t in self.combo.all)
        return self.combo.level if ok else None

    def _fire(self, change: Change | None, st: RuleState, ts: int) -> list[Fired]:
        if change is None:
            return []
        text = f"{self.where} {self.combo.message}"
        text += "，组合预警" if change.transition != "cleared" else ""
        return [Fired(change, ts, rule_ids.combination(self.combo.name), "combination",
                      self.unit, None, None, None, text, st.drill)]


def compile_combinations(site: Site, rules: RulesConfig) -> list[CompiledRule]:
    """One rule per combination of the site's kind and unit that has sensors of its metrics."""
    policy = rules.policy("combination")
    names = {u.id: u.name for u in site.units}
    out: list[CompiledRule] = []
    for c in rules.combinations:
        if c.site_kind != site.kind:
            continue
        metrics = {m for t in c.all for m in t.metrics}
        by_unit: dict[str, dict[str, str]] = {}
        for d in site.devices:
            for s in d.sensors:
                if s.plant_unit is not None and s.metric in metrics:
                    by_unit.setdefault(s.plant_unit, {})[s.id] = s.metric
        out += [UnitCombination(f"combo:{c.name}:{unit}", tuple(members), members, c, unit,
                                f"{site.name} {names.get(unit, unit)}", policy)
                for unit, members in by_unit.items()]
    return out
