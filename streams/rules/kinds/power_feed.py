"""馈电异常: a working face's power is still fed while its CH4 asks for a power cut.

A coal mine's monitoring system cuts the power of an area when CH4 reaches the cut
concentration, within 2 s (GB 50581 / AQ 6201: "CH4 over-limit power-cut ... executed in
≤2 s"), and a feed sensor (馈电传感器, a switch quantity: 1 powered, 0 cut) reports whether
the power is really off. A feed state that contradicts the power-cut command is 馈电异常, a
category the 中心站 pushes to the 联网 platform (孙继平, 煤炭学报 2009); on it the mine must
notify dispatch, stop work, evacuate and cut power remotely (煤矿安全规程 operations, see
docs/rules.md). Here: some CH4 sensor of a unit of plant is at or beyond its `cut` stage
(with its restore hysteresis) while a feed sensor of the same unit reads powered, for
`power_feed.persist_s` (one polling cycle beyond the 2 s); it clears when the power is off
or the CH4 is back, after `power_feed.clear_delay_s`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.contracts.catalog.model import Sensor, Site
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Change, Policy, next_due, step, tick
from hazardwatch.streams.rules.kinds.base import CompiledRule, Fired, Inputs
from hazardwatch.streams.rules.setpoints import resolve
from hazardwatch.streams.rules.state import RuleState

RULE, KIND = RuleId.COAL_POWER_FEED, "power_feed"


@dataclass(frozen=True, slots=True)
class PowerFeed(Inputs):
    """馈电异常 of one unit of plant: its CH4 sensors' cut stages and its feed sensors."""

    key: str
    sensors: tuple[str, ...]
    unit: str
    where: str
    cut: dict[str, tuple[float, float]]  # CH4 sensor → (cut value, restore below)
    feeds: tuple[str, ...]
    policy: Policy
    level: Level
    levels: tuple[str, ...] = ()
    events: tuple[tuple[str, str], ...] = ()

    def on_reading(self, st: RuleState, sensor: str, value: float, ts: int,
                   drill: bool) -> list[Fired]:
        """A CH4 reading moves the cut command, a feed reading the feed state."""
        st.drill = drill
        if sensor in self.cut:
            at, restore = self.cut[sensor]
            beyond = value >= at or (sensor in st.over and value >= restore)
            if beyond:
                st.over[sensor] = value
            else:
                st.over.pop(sensor, None)
        else:
            st.on[sensor] = value >= 0.5
        return self._fire(step(self.policy, st.ep, self._want(st), ts), st, ts)

    def wake_at(self, st: RuleState) -> int | None:
        """The persistence or the clear delay."""
        return next_due(self.policy, st.ep)

    def on_wake(self, st: RuleState, now: int) -> list[Fired]:
        """Raise once the contradiction has held, clear once it has been gone."""
        due = next_due(self.policy, st.ep)
        if due is None or due > now:
            return []
        return self._fire(tick(self.policy, st.ep, self._want(st), due), st, due)

    def _want(self, st: RuleState) -> Level | None:
        powered = any(st.on.get(f, False) for f in self.feeds)
        return self.level if st.over and powered else None

    def _fire(self, change: Change | None, st: RuleState, ts: int) -> list[Fired]:
        if change is None:
            return []
        ch4 = max(st.over.values(), default=None)
        sensor = max(st.over, key=lambda s: st.over[s], default=None)
        if change.transition == "cleared" or sensor is None:
            text = f"{self.where} 馈电状态恢复正常（已断电或甲烷浓度已回落）"
            cut = None
        else:
            cut = self.cut[sensor][0]
            on = "、".join(f for f in self.feeds if st.on.get(f))
            text = (f"{self.where} 馈电异常：{sensor} 甲烷浓度 {ch4:g}%CH4 达到断电浓度 "
                    f"{cut:g}%CH4，馈电传感器 {on} 仍显示有电")
        return [Fired(change, ts, RULE, KIND, self.unit, ch4, cut, "%CH4", text, st.drill)]


def compile_power_feed(site: Site, rules: RulesConfig) -> list[CompiledRule]:
    """One rule per unit of a coal mine that has feed sensors and CH4 sensors with a cut."""
    if site.kind != "coal_mine" or not rules.power_feed.enabled:
        return []
    cfg = rules.power_feed
    policy = Policy(cfg.persist_s, cfg.clear_delay_s, None)
    names = {u.id: u.name for u in site.units}
    by_unit: dict[str, list[Sensor]] = {}
    for d in site.devices:
        for s in d.sensors:
            if s.plant_unit is not None:
                by_unit.setdefault(s.plant_unit, []).append(s)
    out: list[CompiledRule] = []
    for unit, sensors in sorted(by_unit.items()):
        feeds = tuple(s.id for s in sensors if s.metric == "feed")
        cut = _cuts(site, rules, sensors)
        if feeds and cut:
            out.append(PowerFeed(f"power_feed:{unit}", (*cut, *feeds), unit,
                                 f"{site.name} {names.get(unit, unit)}", cut, feeds, policy,
                                 cfg.level))
    return out


def _cuts(site: Site, rules: RulesConfig, sensors: list[Sensor]) -> dict[str, tuple[float, float]]:
    """CH4 sensor → (cut value, restore value) of those with a cut stage."""
    return {s.id: (st.value, st.restore) for s in sensors if s.metric == "ch4"
            for st in resolve(rules, site, s).stages if st.name == "cut"}
