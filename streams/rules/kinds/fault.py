"""Sensor faults: bad quality, out of range, frozen (a screen every reading goes through).

A reading with q "bad" or no value, a value outside the sensor's range, or the same value for
too long under the metric's frozen policy (rule pack `fault.frozen`: `noisy` signals outside
their zero dead band; `in_transfer` ones only while their unit of plant is in transfer) is a
fault: it neither raises nor clears a threshold (no later kind sees it), and the sensor-fault
episode (policy `fault`; coal CH4 at `fault.level_coal_ch4`, 故障闭锁) raises after its
persistence. Flow and level sensors of a unit also note here that their unit is in transfer
(the evidence a frozen `in_transfer` value needs).
"""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules import messages as zh
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Change, Policy, due_changes, next_due, step
from hazardwatch.streams.rules.kinds.base import Fired, Screen, SensorSubject, idle, soon
from hazardwatch.streams.rules.state import SensorState, SiteState, UnitState


@dataclass(frozen=True, slots=True)
class SensorFaults:
    """The fault checks and the sensor-fault episode of one sensor."""

    subject: SensorSubject
    level: Level
    policy: Policy
    range: tuple[float, float] | None
    frozen: str  # when an unchanged value is a fault: never | noisy | in_transfer
    dead_band: float  # noisy: |value| at or below this is the detector's zero band
    frozen_ms: int
    transfer_role: str | None  # "flow" / "level": this sensor tells its unit is in transfer
    hold_ms: int  # rule pack `fault.transfer`: a flow or a level move keeps the unit in
    level_step: float  # transfer this long; a level moved: by at least level_step;
    flow_min: float  # a flow: above flow_min

    def screen(self, st: SiteState, s: SensorState, value: float | None, q: str, ts: int,
               fired: list[Fired]) -> float | None:
        """Classify the reading, record it, step the fault episode; the value if valid."""
        fault = ""
        rng = self.range
        # None: q "bad" with no reading; the last value stands (it is not evaluated)
        v = value if value is not None else s.last_v if s.last_v is not None else 0.0
        if q == "bad" or value is None:
            fault = "bad_quality"
        elif rng is not None and not rng[0] <= v <= rng[1]:
            fault = "out_of_range"
        elif v == s.last_v and ts > s.last_ts and self.frozen != "never":
            fault = self._unchanged(st, s, v, ts)
        else:
            s.same_since = None
        if self.transfer_role is not None:
            self._note_transfer(st, s, v, ts, fault)
        s.last_v, s.last_ts = v, ts
        if fault or s.fault.active or s.fault.pending_since is not None:
            self._step(st, s, fault, ts, fired)
        return None if fault else v

    def wake_at(self, s: SensorState) -> int | None:
        """The persistence or the clear delay of the fault episode."""
        return next_due(self.policy, s.fault)

    def on_wake(self, s: SensorState, now: int, fired: list[Fired]) -> None:
        """Fire the fault episode's due timers."""
        want = self.level if s.fault_reason else None
        for c, t in due_changes(self.policy, s.fault, want, now):
            self._fire(s, c, t, fired)

    def busy(self, s: SensorState) -> bool:
        """Whether a fault episode is open or pending."""
        return not idle(s.fault)

    def _unchanged(self, st: SiteState, s: SensorState, v: float, ts: int) -> str:
        """The same value again: "frozen" once it has been so too long (else "")."""
        if s.same_since is None:
            s.same_since = s.last_ts
        return "frozen" if self._frozen(st, v, ts, s.same_since) else ""

    def _frozen(self, st: SiteState, v: float, ts: int, since: int) -> bool:
        """An unchanged value since `since` is a fault under the metric's policy: noisy
        signals outside the zero dead band, others only in transfer."""
        if self.frozen == "noisy":
            return abs(v) > self.dead_band and ts - since >= self.frozen_ms
        u = st.units.get(self.subject.sensor.plant_unit or "")
        if u is None:
            return False
        hold, start = self.hold_ms, None
        if u.flow_since is not None and ts - u.flow_last <= hold:
            start = u.flow_since
        if self.transfer_role != "level" and u.level_since is not None and (
                ts - u.level_last <= hold):  # (a frozen level cannot vouch for itself)
            start = u.level_since if start is None else min(start, u.level_since)
        return start is not None and ts - max(since, start) >= self.frozen_ms

    def _note_transfer(self, st: SiteState, s: SensorState, v: float, ts: int,
                       fault: str) -> None:
        """Note that the sensor's unit is in transfer: a flow, or a level that moved (a value
        with a fault other than frozen tells nothing)."""
        if fault not in ("", "frozen"):
            return
        unit = str(self.subject.sensor.plant_unit)
        u = st.units.get(unit)
        if u is None:
            u = st.units[unit] = UnitState()
        hold = self.hold_ms
        if self.transfer_role == "flow":
            if abs(v) > self.flow_min:
                if u.flow_since is None or ts - u.flow_last > hold:
                    u.flow_since = ts
                u.flow_last = ts
            return
        if s.moved_at_v is None:
            s.moved_at_v = v
        elif abs(v - s.moved_at_v) >= self.level_step:
            s.moved_at_v = v
            if u.level_since is None or ts - u.level_last > hold:
                u.level_since = ts
            u.level_last = ts

    def _step(self, st: SiteState, s: SensorState, fault: str, ts: int,
              fired: list[Fired]) -> None:
        """The sensor-fault episode: a fault now ("" none), or one open or pending."""
        if fault:
            s.fault_reason = fault
        change = step(self.policy, s.fault, self.level if fault else None, ts)
        st.timed.add(self.subject.sensor.id)
        soon(st, next_due(self.policy, s.fault))
        if change:
            self._fire(s, change, ts, fired)

    def _fire(self, s: SensorState, change: Change, ts: int, fired: list[Fired]) -> None:
        sub = self.subject
        reason = zh.FAULT_ZH.get(s.fault_reason, s.fault_reason)
        text = f"{sub.where} 传感器故障：{reason}"
        if change.transition == "cleared":
            text = f"{sub.where} 传感器数据恢复"
        fired.append(Fired(change, ts, RuleId.SENSOR_FAULT, "fault", sub.sensor.plant_unit,
                           s.last_v, None, sub.sensor.unit, text, s.drill, sub.device.id,
                           sensor=sub.sensor.id))


def compile_faults(sub: SensorSubject, rules: RulesConfig) -> Screen:
    """The fault checks of one sensor, from its range and the rule pack's `fault`."""
    s, cfg = sub.sensor, rules.fault
    level = cfg.level_coal_ch4 if sub.site.kind == "coal_mine" and s.metric == "ch4" \
        else cfg.level
    fp = cfg.frozen_policy(s.metric)
    span = s.range[1] - s.range[0] if s.range is not None else 0.0
    role = s.metric if s.metric in ("flow", "level") and s.plant_unit else None
    t = cfg.transfer
    return SensorFaults(sub, level, rules.policy("fault"), s.range, fp.when,
                        max(fp.dead_band, fp.dead_band_pct / 100 * span),
                        int((fp.frozen_s or cfg.frozen_s) * 1000), role,
                        int(t.hold_s * 1000), t.level_step_m, t.flow_min)
