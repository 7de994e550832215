"""Rate of change: a sensor's value moving faster than its `rate_per_min` (catalog).

Active from the limit on, held down to 80 % of it (hysteresis), raised at the rule pack's
`h` level under policy `rate`. No timers: the episode is stepped by valid values only.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules import messages as zh
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Policy, step
from hazardwatch.streams.rules.kinds.base import Fired, SensorCheck, SensorSubject, idle
from hazardwatch.streams.rules.state import SensorState, SiteState


@dataclass(frozen=True, slots=True)
class Rate:
    """The rate-of-change limit of one sensor."""

    subject: SensorSubject
    limit: float  # per minute
    policy: Policy
    level: Level
    rule: str

    def on_value(self, st: SiteState, s: SensorState, v: float, ts: int,
                 prev_v: float | None, prev_ts: int, fired: list[Fired]) -> bool:
        """The rate since the previous reading; never changes the sensor's level."""
        if prev_v is None or ts <= prev_ts:
            return False
        per_min = (v - prev_v) * 60_000 / (ts - prev_ts)
        limit = self.limit
        s.rate_active = abs(per_min) >= limit or (s.rate_active and abs(per_min) >= 0.8 * limit)
        want = self.level if s.rate_active else None
        if want is None and not s.rate.active and s.rate.pending_since is None:
            return False
        change = step(self.policy, s.rate, want, ts)
        if change:
            sub, sensor = self.subject, self.subject.sensor
            name = zh.METRIC_ZH.get(sensor.metric, sensor.metric)
            text = (f"{sub.where} {name}变化速率 {zh.fmt(per_min)}{sensor.unit}/分钟，"
                    f"超过 {zh.fmt(limit)}{sensor.unit}/分钟")
            fired.append(Fired(change, ts, self.rule, "rate", sensor.plant_unit, per_min, limit,
                               f"{sensor.unit}/min", text, s.drill, sub.device.id,
                               sensor=sensor.id))
        return False

    def wake_at(self, s: SensorState) -> int | None:
        """(No timers: values step it.)"""
        return None

    def on_wake(self, s: SensorState, now: int, fired: list[Fired]) -> None:
        """(No timers.)"""

    def busy(self, s: SensorState) -> bool:
        """Whether a rate episode is open or pending."""
        return not idle(s.rate)


def compile_rate(sub: SensorSubject, rules: RulesConfig) -> SensorCheck | None:
    """The rate limit of one sensor (None: the catalog gives none)."""
    th = sub.sensor.thresholds
    if th is None or th.rate_per_min is None:
        return None
    return Rate(sub, th.rate_per_min, rules.policy("rate"), rules.grading.h,
                rule_ids.rate(sub.site.kind, sub.sensor.metric))
