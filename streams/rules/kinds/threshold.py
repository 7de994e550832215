"""Thresholds: a sensor's set-point stages with hysteresis, timed by their policy.

The stages (streams/rules/setpoints.py: the catalog's own, else the rule pack's defaults;
coal CH4's alarm / cut stages under policy `coal_ch4`) ask for the worst level whose value
the reading has reached; a stage active before holds until the value is back past its
restore value (hysteresis). The episode (streams/rules/episode.py) adds persistence, the
clear delay, time escalation and flapping. The sensor's level (`SensorState.want`) is what
rules taking `levels` read (combinations, tailings counting).
"""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules import messages as zh
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Change, Policy, due_changes, next_due, step
from hazardwatch.streams.rules.kinds.base import Fired, SensorCheck, SensorSubject, idle, soon
from hazardwatch.streams.rules.setpoints import Stage, resolve
from hazardwatch.streams.rules.state import SensorState, SiteState


def wanted(stages: tuple[Stage, ...], s: SensorState, v: float) -> Level | None:
    """The level the stages ask for at v, with hysteresis (a stage active before holds until
    v is back past its restore value); s.stages, s.want and s.stage are updated."""
    mask, want, worst, prior = 0, None, None, s.stages
    for i, stage in enumerate(stages):
        if (v >= stage.value if stage.high else v <= stage.value) or (
                prior >> i & 1 and (v >= stage.restore if stage.high else v <= stage.restore)):
            mask |= 1 << i
            if want is None or stage.level < want:
                want, worst = stage.level, stage
    s.stages, s.want = mask, want
    if worst is not None:
        s.stage = worst.name
    return want


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The set-point stages of one sensor and their episode."""

    subject: SensorSubject
    stages: tuple[Stage, ...]
    policy: Policy
    rule: str
    kind: str  # threshold | coal_ch4

    def on_value(self, st: SiteState, s: SensorState, v: float, ts: int,
                 prev_v: float | None, prev_ts: int, fired: list[Fired]) -> bool:
        """Which stages hold now; step the episode; whether the sensor's level changed."""
        old_want = s.want
        want = wanted(self.stages, s, v)
        if want is not None or s.th.active or s.th.pending_since is not None:
            change = step(self.policy, s.th, want, ts)
            st.timed.add(self.subject.sensor.id)
            soon(st, next_due(self.policy, s.th))
            if change:
                self._fire(s, change, ts, fired)
        return want != old_want

    def wake_at(self, s: SensorState) -> int | None:
        """Persistence, clear delay or escalation."""
        return next_due(self.policy, s.th)

    def on_wake(self, s: SensorState, now: int, fired: list[Fired]) -> None:
        """Fire the episode's due timers."""
        for c, t in due_changes(self.policy, s.th, s.want, now):
            self._fire(s, c, t, fired)

    def busy(self, s: SensorState) -> bool:
        """Whether a threshold episode is open or pending."""
        return not idle(s.th)

    def _fire(self, s: SensorState, change: Change, ts: int, fired: list[Fired]) -> None:
        sub, sensor = self.subject, self.subject.sensor
        stage = next((x for x in self.stages if x.name == s.stage), None)
        v = s.last_v if s.last_v is not None else 0.0
        if change.transition == "cleared" or stage is None:
            text = f"{sub.where} {zh.METRIC_ZH.get(sensor.metric, sensor.metric)} " \
                   f"{zh.fmt(v)}{sensor.unit}"
        else:
            text = zh.threshold_text(sub.where, sensor.metric, v, sensor.unit, stage.name,
                                     stage.value, stage.high, stage.restore)
        fired.append(Fired(change, ts, self.rule, self.kind, sensor.plant_unit, v,
                           stage.value if stage else None, sensor.unit, text, s.drill,
                           sub.device.id, sensor=sensor.id))


def compile_thresholds(sub: SensorSubject, rules: RulesConfig) -> SensorCheck | None:
    """The stages of one sensor (None: it has none)."""
    sp = resolve(rules, sub.site, sub.sensor)
    if not sp.stages:
        return None
    kind = "coal_ch4" if sp.policy == "coal_ch4" else "threshold"
    return Thresholds(sub, sp.stages, rules.policy(sp.policy),
                      rule_ids.threshold(sub.site.kind, sub.sensor.metric), kind)
