"""The rule engine: (catalog, rules, prior site state, input, event time) → warning records.

Pure: no broker, no clock, no randomness. `on_record` evaluates one normalised record at its
event time; `on_tick` fires timers (persistence, clear delays, escalation, offline) at `now`.
State is mutated in place (state in, state out) and is serialisable (streams/rules/state.py).

Timers are data: `SiteState.wake_at` is the earliest tick that can change anything. A record
only brings it forward (to the timers it started); a tick before it returns at once, and a
tick that runs computes it again from every timer of the site (`_wake`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.catalog.model import Device, Sensor, Site
from hazardwatch.contracts.records import (
    InputRecord,
    StatusRecord,
    TelemetryRecord,
    VideoEventRecord,
)
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.contracts.warnings import (
    COLOURS,
    EvidenceRecord,
    WarningRecord,
    subject_key,
    warning_id,
)
from hazardwatch.streams.rules import messages as zh
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import (
    Change,
    Episode,
    Policy,
    due_changes,
    next_due,
    step,
)
from hazardwatch.streams.rules.kinds import KINDS
from hazardwatch.streams.rules.kinds.base import CompiledRule, Fired
from hazardwatch.streams.rules.setpoints import SetPoints, Stage, resolve
from hazardwatch.streams.rules.state import (
    DeviceState,
    RuleState,
    SensorState,
    SiteState,
    UnitState,
)


@dataclass(frozen=True, slots=True)
class SensorRule:
    """Everything fixed about one sensor, precomputed once."""

    site: Site
    device: Device
    sensor: Sensor
    setpoints: SetPoints
    policy: Policy
    where: str
    fault_level: Level
    rate_per_min: float | None
    frozen: str  # when an unchanged value is a fault: never | noisy | in_transfer
    dead_band: float  # noisy: |value| at or below this is the detector's zero band
    frozen_ms: int
    transfer_role: str | None  # "flow" / "level": this sensor tells its unit is in transfer
    kinds: tuple[CompiledRule, ...] = ()  # rules of streams/rules/kinds/ taking its readings
    level_rules: tuple[CompiledRule, ...] = ()  # … and those taking its threshold level


@dataclass(frozen=True, slots=True)
class Emit:
    """What a transition is about, to build its WarningRecord."""

    rule: str
    kind: str
    site: Site
    device_id: str | None
    sensor: str | None
    plant_unit: str | None
    value: float | None
    threshold: float | None
    unit: str | None
    text: str
    drill: bool
    evidence: tuple[tuple[str, str], ...] = ()


def _clock_text(ms: int) -> str:
    """UTC+8 wall-clock text of an epoch-ms time, for operators' messages."""
    return time.strftime("%m-%d %H:%M", time.gmtime(ms / 1000 + 8 * 3600))


def _wanted(stages: tuple[Stage, ...], s: SensorState, v: float) -> Level | None:
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


NO_WAKE = 1 << 62  # (no timer pending)


def _soon(st: SiteState, due: int | None) -> None:
    """Bring the site's wake-up forward to `due`."""
    if due is not None and due < st.wake_at:
        st.wake_at = due


def _idle(ep: Episode) -> bool:
    return not ep.active and ep.pending_since is None


class Engine:
    """Evaluates every rule kind for fixed sites (vehicles: streams/vehicles/engine.py)."""

    def __init__(self, catalog: Catalog, rules: RulesConfig) -> None:
        self.catalog = catalog
        self.rules = rules
        self.fault_policy = rules.policy("fault")
        self.rate_policy = rules.policy("rate")
        self.offline_policy = rules.policy("offline")
        self.clock_policy = rules.policy("clock")
        self.never_policy = rules.policy("never_connected")
        transfer = rules.fault.transfer
        self.transfer_hold_ms = int(transfer.hold_s * 1000)
        self.level_step, self.flow_min = transfer.level_step_m, transfer.flow_min
        self.site_sensors: dict[str, dict[str, SensorRule]] = {}
        self.site_rules: dict[str, dict[str, CompiledRule]] = {}  # kinds/: site → key → rule
        self.event_rules: dict[tuple[str, str, str], CompiledRule] = {}  # (site, device, family)
        self.timeout_ms = {key: d.offline_timeout_s * 1000 for key, d in catalog.devices.items()}
        self.never_ms = int(rules.offline.never_connected_s * 1000)
        for site in catalog.sites.values():
            self._index_site(site)

    def _index_site(self, site: Site) -> None:
        units = {u.id: u for u in site.units}
        sensors = self.site_sensors.setdefault(site.id, {})
        for dev in site.devices:
            for s in dev.sensors:
                unit = units.get(s.plant_unit or "")
                sensors[s.id] = self._sensor_rule(site, dev, s, unit.name if unit else "")
        compiled = [rule for kind in KINDS for rule in kind(site, self.rules)]
        self.site_rules[site.id] = {kr.key: kr for kr in compiled}
        for kr in compiled:
            for sid in kr.sensors:
                sensors[sid] = replace(sensors[sid], kinds=(*sensors[sid].kinds, kr))
            for sid in kr.levels:
                sensors[sid] = replace(sensors[sid], level_rules=(*sensors[sid].level_rules, kr))
            for device, family in kr.events:
                self.event_rules[(site.id, device, family)] = kr

    def _sensor_rule(self, site: Site, dev: Device, s: Sensor, unit_name: str) -> SensorRule:
        """Everything fixed about one sensor, from the catalog and the rule pack."""
        sp = resolve(self.rules, site, s)
        where = " ".join(p for p in (site.name, unit_name, s.id) if p)
        fault_level = (self.rules.fault.level_coal_ch4
                       if site.kind == "coal_mine" and s.metric == "ch4"
                       else self.rules.fault.level)
        rate = s.thresholds.rate_per_min if s.thresholds is not None else None
        fp = self.rules.fault.frozen_policy(s.metric)
        span = s.range[1] - s.range[0] if s.range is not None else 0.0
        role = s.metric if s.metric in ("flow", "level") and s.plant_unit else None
        return SensorRule(site, dev, s, sp, self.rules.policy(sp.policy), where,
                          fault_level, rate, fp.when,
                          max(fp.dead_band, fp.dead_band_pct / 100 * span),
                          int((fp.frozen_s or self.rules.fault.frozen_s) * 1000), role)

    # -- input ------------------------------------------------------------------------------

    def on_record(self, st: SiteState, rec: InputRecord,
                  now: int | None = None) -> list[WarningRecord]:
        """Evaluate one normalised record of a fixed site at its event time.

        now: the latest tick the caller has run (None: not known). Data older than a device's
        offline timeout before it is a buffered upload (断点续传): it does not end the
        device's offline warning, or the next tick would raise it again (flapping).
        """
        out: list[WarningRecord] = []
        if isinstance(rec, TelemetryRecord):
            site = self.catalog.sites[rec.site_id]
            self._seen(st, site, rec.device_id, rec.ts, rec.drill, out, now)
            rules, states, reading, drill = (self.site_sensors[rec.site_id], st.sensors,
                                             self._reading, rec.drill)
            for p in rec.points:
                s = states.get(p.sensor)
                if s is None:
                    s = states[p.sensor] = SensorState()
                reading(st, rules[p.sensor], s, p.value, p.q, p.ts, drill, out)
        elif isinstance(rec, StatusRecord) and rec.site_id is not None:
            site = self.catalog.sites[rec.site_id]
            assert rec.device_id is not None
            if rec.status == "online":
                self._seen(st, site, rec.device_id, rec.ts, rec.drill, out, now)
            else:
                dev = st.devices.setdefault(rec.device_id, DeviceState(last_seen=rec.ts))
                dev.status_offline_at, dev.drill = rec.ts, rec.drill
        elif isinstance(rec, VideoEventRecord) and rec.site_id is not None:
            site = self.catalog.sites[rec.site_id]
            rule = self.event_rules[(rec.site_id, str(rec.device_id), rec.family)]
            rs = self._rule_state(st, rule)
            out += [self._fired(site, f) for f in rule.on_event(rs, rec)]
            _soon(st, rule.wake_at(rs))
        site_id, device_id = getattr(rec, "site_id", None), getattr(rec, "device_id", None)
        if site_id is not None and device_id is not None:
            self._heard(st, self.catalog.sites[site_id], device_id, rec, out)
            _soon(st, self._device_wake(site_id, device_id, st.devices[device_id], 0))
        return out

    def _heard(self, st: SiteState, site: Site, device_id: str, rec: InputRecord,
               out: list[WarningRecord]) -> None:
        """Any record of a device: it is connected (ends 未接入); its clock is checked."""
        dev = st.devices.get(device_id)
        if dev is None:
            dev = st.devices[device_id] = DeviceState()
        fast = rec.clock_fast_ms
        if dev.heard and fast is None and not dev.clock.active:
            return  # (the usual case: nothing to do)
        dev.heard = True
        if dev.never.active:
            self._device_change(RuleId.DEVICE_NEVER_CONNECTED, site, device_id, dev.never,
                                step(self.never_policy, dev.never, None, rec.ts), rec.ts,
                                f"{site.name} 设备{device_id} 已接入", rec.drill, out)
        if fast is not None or dev.clock.active:
            if fast is not None:
                dev.clock_fast_ms = fast
            level = self.rules.fault.level_clock_fast if fast is not None else None
            change = step(self.clock_policy, dev.clock, level, rec.ts)
            text = (f"{site.name} 设备{device_id} 时钟已恢复正常" if change is not None
                    and change.transition == "cleared" else
                    f"{site.name} 设备{device_id} 时钟超前{dev.clock_fast_ms / 1000:.0f}秒"
                    "（超出允许偏差），数据按接收时间保存")
            self._device_change(RuleId.DEVICE_CLOCK_FAST, site, device_id, dev.clock, change,
                                rec.ts, text, rec.drill, out, float(dev.clock_fast_ms / 1000),
                                "s")

    def _device_change(self, rule: str, site: Site, device_id: str, ep: Episode,
                       change: Change | None, ts: int, text: str, drill: bool,
                       out: list[WarningRecord], value: float | None = None,
                       unit: str | None = None) -> None:
        if change is not None:
            out.append(self._warning(change, ts, Emit(rule, "device", site, device_id, None,
                                                      None, value, None, unit, text, drill)))

    def _never_connected(self, st: SiteState, site: Site, since: int, connect_by: int,
                         drill: bool, out: list[WarningRecord]) -> None:
        """未接入: every catalogued device of the site that has sent nothing by connect_by."""
        level = self.rules.offline.level_never_connected
        for device in site.devices:
            dev = st.devices.get(device.id)
            if dev is not None and (dev.spoke or dev.never.active):
                continue
            if dev is None:
                dev = st.devices[device.id] = DeviceState()
            text = (f"{site.name} 设备{device.id} 未接入（自{_clock_text(since)}起"
                    f"{(connect_by - since) / 1000:.0f}秒内未收到任何数据）")
            self._device_change(RuleId.DEVICE_NEVER_CONNECTED, site, device.id, dev.never,
                                step(self.never_policy, dev.never, level, connect_by),
                                connect_by, text, drill, out)

    def _seen(self, st: SiteState, site: Site, device_id: str, ts: int, drill: bool,
              out: list[WarningRecord], now: int | None) -> None:
        dev = st.devices.get(device_id)
        if dev is None:
            dev = st.devices[device_id] = DeviceState()
        dev.last_seen, dev.status_offline_at, dev.drill = max(dev.last_seen, ts), None, drill
        if dev.offline.active and now is not None and ts + self.timeout_ms[
                (site.id, device_id)] < now:
            return  # a buffered upload: still offline by event time until data is current
        if dev.offline.active or dev.offline.pending_since is not None:
            self._offline_change(site, device_id, dev,
                                 step(self.offline_policy, dev.offline, None, ts), ts, out)

    def _reading(self, st: SiteState, r: SensorRule, s: SensorState, value: float | None,
                 q: str, ts: int, drill: bool, out: list[WarningRecord]) -> None:
        s.drill = drill
        fault = ""
        rng = r.sensor.range
        # None: q "bad" with no reading; the last value stands (it is not evaluated)
        v = value if value is not None else s.last_v if s.last_v is not None else 0.0
        if q == "bad" or value is None:
            fault = "bad_quality"
        elif rng is not None and not rng[0] <= v <= rng[1]:
            fault = "out_of_range"
        elif v == s.last_v and ts > s.last_ts and r.frozen != "never":
            fault = self._unchanged(st, r, s, v, ts)
        else:
            s.same_since = None
        if r.transfer_role is not None:
            self._transfer(st, r, s, v, ts, fault)
        prev_v, prev_ts = s.last_v, s.last_ts
        s.last_v, s.last_ts = v, ts
        if fault or s.fault.active or s.fault.pending_since is not None:
            self._fault_step(st, r, s, fault, ts, out)
        if not fault:  # an untrusted value neither raises nor clears a threshold warning
            self._valid(st, r, s, v, ts, prev_v, prev_ts, drill, out)

    def _valid(self, st: SiteState, r: SensorRule, s: SensorState, v: float, ts: int,
               prev_v: float | None, prev_ts: int, drill: bool,
               out: list[WarningRecord]) -> None:
        """A trusted value: rule kinds, rate of change, thresholds, the groups it feeds."""
        if r.kinds:
            self._kinds(st, r, v, ts, drill, out)
        if r.rate_per_min is not None and prev_v is not None and ts > prev_ts:
            self._rate(r, s, (v - prev_v) * 60_000 / (ts - prev_ts), ts, out)
        if not r.setpoints.stages:
            return
        old_want = s.want
        want = _wanted(r.setpoints.stages, s, v)
        if want is not None or s.th.active or s.th.pending_since is not None:
            change = step(r.policy, s.th, want, ts)
            st.timed.add(r.sensor.id)
            _soon(st, next_due(r.policy, s.th))
            if change:
                self._threshold(r, s, change, ts, out)
        if want != old_want and r.level_rules:
            self._levels(st, r, ts, drill, out)

    def _unchanged(self, st: SiteState, r: SensorRule, s: SensorState, v: float,
                   ts: int) -> str:
        """The same value again: "frozen" once it has been so too long (else "")."""
        if s.same_since is None:
            s.same_since = s.last_ts
        return "frozen" if self._frozen(st, r, v, ts, s.same_since) else ""

    def _fault_step(self, st: SiteState, r: SensorRule, s: SensorState, fault: str, ts: int,
                    out: list[WarningRecord]) -> None:
        """The sensor-fault episode: a fault now ("" none), or one open or pending."""
        if fault:
            s.fault_reason = fault
        change = step(self.fault_policy, s.fault, r.fault_level if fault else None, ts)
        st.timed.add(r.sensor.id)
        _soon(st, next_due(self.fault_policy, s.fault))
        if change:
            self._sensor_fault(r, s, change, ts, out)

    def _kinds(self, st: SiteState, r: SensorRule, v: float, ts: int, drill: bool,
               out: list[WarningRecord]) -> None:
        """A valid reading to the rules of streams/rules/kinds/ that take it."""
        for rule in r.kinds:
            rs = self._rule_state(st, rule)
            out += [self._fired(r.site, f) for f in rule.on_reading(rs, r.sensor.id, v, ts, drill)]
            _soon(st, rule.wake_at(rs))

    def _levels(self, st: SiteState, r: SensorRule, ts: int, drill: bool,
                out: list[WarningRecord]) -> None:
        """A sensor's threshold level changed: to the rules of kinds/ that take it."""
        sensors = st.sensors

        def level_of(sensor: str) -> Level | None:
            s = sensors.get(sensor)
            return s.want if s is not None else None

        for rule in r.level_rules:
            rs = self._rule_state(st, rule)
            out += [self._fired(r.site, f) for f in rule.on_levels(rs, level_of, ts, drill)]
            _soon(st, rule.wake_at(rs))

    @staticmethod
    def _rule_state(st: SiteState, rule: CompiledRule) -> RuleState:
        rs = st.rules.get(rule.key)
        if rs is None:
            rs = st.rules[rule.key] = RuleState()
        return rs

    def _fired(self, site: Site, f: Fired) -> WarningRecord:
        return self._warning(f.change, f.ts, Emit(
            f.rule, f.kind, site, f.device_id, None, f.plant_unit, f.value, f.threshold, f.unit,
            f.text, f.drill, f.evidence))

    def _frozen(self, st: SiteState, r: SensorRule, v: float, ts: int, since: int) -> bool:
        """An unchanged value since `since` is a fault under the metric's policy (rule pack
        `fault.frozen`): noisy signals outside the zero dead band, others only in transfer."""
        if r.frozen == "noisy":
            return abs(v) > r.dead_band and ts - since >= r.frozen_ms
        u = st.units.get(r.sensor.plant_unit or "")
        if u is None:
            return False
        hold, start = self.transfer_hold_ms, None
        if u.flow_since is not None and ts - u.flow_last <= hold:
            start = u.flow_since
        if r.transfer_role != "level" and u.level_since is not None and (
                ts - u.level_last <= hold):  # (a frozen level cannot vouch for itself)
            start = u.level_since if start is None else min(start, u.level_since)
        return start is not None and ts - max(since, start) >= r.frozen_ms

    def _transfer(self, st: SiteState, r: SensorRule, s: SensorState, v: float,
                  ts: int, fault: str) -> None:
        """Note that the sensor's unit is in transfer: a flow, or a level that moved (a value
        with a fault other than frozen tells nothing)."""
        if fault not in ("", "frozen"):
            return
        unit = str(r.sensor.plant_unit)
        u = st.units.get(unit)
        if u is None:
            u = st.units[unit] = UnitState()
        hold = self.transfer_hold_ms
        if r.transfer_role == "flow":
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

    # -- rule kinds -------------------------------------------------------------------------

    def _threshold(self, r: SensorRule, s: SensorState, change: Change, ts: int,
                   out: list[WarningRecord]) -> None:
        stage = next((x for x in r.setpoints.stages if x.name == s.stage), None)
        v = s.last_v if s.last_v is not None else 0.0
        if change.transition == "cleared" or stage is None:
            text = f"{r.where} {zh.METRIC_ZH.get(r.sensor.metric, r.sensor.metric)} " \
                   f"{zh.fmt(v)}{r.sensor.unit}"
        else:
            text = zh.threshold_text(r.where, r.sensor.metric, v, r.sensor.unit, stage.name,
                                     stage.value, stage.high, stage.restore)
        kind = "coal_ch4" if r.setpoints.policy == "coal_ch4" else "threshold"
        out.append(self._warning(change, ts, Emit(
            rule_ids.threshold(r.site.kind, r.sensor.metric), kind, r.site, r.device.id,
            r.sensor.id, r.sensor.plant_unit, v, stage.value if stage else None, r.sensor.unit,
            text, s.drill)))

    def _sensor_fault(self, r: SensorRule, s: SensorState, change: Change, ts: int,
                      out: list[WarningRecord]) -> None:
        reason = zh.FAULT_ZH.get(s.fault_reason, s.fault_reason)
        text = f"{r.where} 传感器故障：{reason}"
        if change.transition == "cleared":
            text = f"{r.where} 传感器数据恢复"
        out.append(self._warning(change, ts, Emit(
            RuleId.SENSOR_FAULT, "fault", r.site, r.device.id, r.sensor.id, r.sensor.plant_unit,
            s.last_v, None, r.sensor.unit, text, s.drill)))

    def _rate(self, r: SensorRule, s: SensorState, per_min: float, ts: int,
              out: list[WarningRecord]) -> None:
        limit = r.rate_per_min or 0.0
        s.rate_active = abs(per_min) >= limit or (s.rate_active and abs(per_min) >= 0.8 * limit)
        want = self.rules.grading.h if s.rate_active else None
        if want is None and not s.rate.active and s.rate.pending_since is None:
            return
        change = step(self.rate_policy, s.rate, want, ts)
        if change:
            name = zh.METRIC_ZH.get(r.sensor.metric, r.sensor.metric)
            text = (f"{r.where} {name}变化速率 {zh.fmt(per_min)}{r.sensor.unit}/分钟，"
                    f"超过 {zh.fmt(limit)}{r.sensor.unit}/分钟")
            out.append(self._warning(change, ts, Emit(
                rule_ids.rate(r.site.kind, r.sensor.metric), "rate", r.site, r.device.id,
                r.sensor.id, r.sensor.plant_unit, per_min, limit, f"{r.sensor.unit}/min", text,
                s.drill)))

    def _offline_change(self, site: Site, device_id: str, dev: DeviceState,
                        change: Change | None, ts: int, out: list[WarningRecord]) -> None:
        if change is None:
            return
        silent = (ts - dev.last_seen) / 1000
        text = (f"{site.name} 设备{device_id} 已恢复在线" if change.transition == "cleared"
                else f"{site.name} 设备{device_id} 离线（{silent:.0f}秒无数据）")
        out.append(self._warning(change, ts, Emit(
            RuleId.DEVICE_OFFLINE, "offline", site, device_id, None, None, None, None, None, text,
            dev.drill)))

    # -- timers -----------------------------------------------------------------------------

    def on_tick(self, st: SiteState, site_id: str, now: int,
                offline_not_before: int = 0, started: int | None = None,
                drill: bool = False) -> list[WarningRecord]:
        """Fire every timer of a site due at or before `now`, each at its own due time.

        offline_not_before: no offline warning is raised before this time (start-up grace).
        started: when the caller (worker, replay) started; a catalogued device silent since,
        for offline.never_connected_s, is reported 未接入 (None: not checked); drill: the
        caller plays drill traffic only (a silent device's warning is then a drill's).
        """
        if now < st.wake_at:
            return []  # nothing can be due (see _wake): most sites on most ticks
        out: list[WarningRecord] = []
        site = self.catalog.sites[site_id]
        if started is not None and now >= started + self.never_ms:
            self._never_connected(st, site, started, started + self.never_ms, drill, out)
        for dev_id, dev in st.devices.items():
            if dev.last_seen == 0 and dev.status_offline_at is None:
                continue  # no data yet (未接入, above; or a camera's events only): not offline
            self._device_timer(site, dev_id, dev, now, offline_not_before, out)
        self._sensor_timers(st, site_id, now, out)
        compiled = self.site_rules[site_id]
        for key, rs in st.rules.items():  # (in the order the states were made)
            c = compiled[key]
            if (wake := c.wake_at(rs)) is not None and wake <= now:
                out += [self._fired(site, f) for f in c.on_wake(rs, now)]
        st.wake_at = self._wake(st, site, now, offline_not_before, started)
        return out

    def _wake(self, st: SiteState, site: Site, now: int, offline_not_before: int,
              started: int | None) -> int:
        """The earliest tick that can change the site: 未接入 still to check, offline and its
        escalation, sensor and group episodes, the compiled rules' own timers."""
        dues = [self._device_wake(site.id, dev_id, dev, offline_not_before)
                for dev_id, dev in st.devices.items()]
        if started is not None and now < started + self.never_ms and any(
                (dev := st.devices.get(d.id)) is None or not (dev.spoke or dev.never.active)
                for d in site.devices):
            dues.append(started + self.never_ms)
        rules, fault = self.site_sensors[site.id], self.fault_policy
        for sid in st.timed:
            s = st.sensors[sid]
            dues += (next_due(rules[sid].policy, s.th), next_due(fault, s.fault))
        compiled = self.site_rules[site.id]
        dues += [compiled[key].wake_at(rs) for key, rs in st.rules.items()]
        return min((d for d in dues if d is not None), default=NO_WAKE)

    def _device_wake(self, site_id: str, dev_id: str, dev: DeviceState,
                     offline_not_before: int) -> int | None:
        """When a device's offline warning may be raised (the tick after its timeout or last
        will, not before the grace) or escalated; None: not timed (no data yet)."""
        if dev.offline.active:
            return next_due(self.offline_policy, dev.offline)
        if dev.status_offline_at is not None:
            due = dev.status_offline_at + int(self.rules.offline.status_offline_persist_s * 1000)
        elif dev.last_seen == 0:
            return None
        else:
            due = dev.last_seen + self.timeout_ms[(site_id, dev_id)]
        return max(due + 1, offline_not_before)

    def _device_timer(self, site: Site, dev_id: str, dev: DeviceState, now: int,
                      offline_not_before: int, out: list[WarningRecord]) -> None:
        """Offline after the device's timeout (or its last will), not before the grace; an
        open offline warning's escalation."""
        cfg = self.rules.offline
        if dev.status_offline_at is not None:
            due = dev.status_offline_at + int(cfg.status_offline_persist_s * 1000)
        else:
            due = dev.last_seen + self.timeout_ms[(site.id, dev_id)]
        if due < now and max(due, offline_not_before) <= now and not dev.offline.active:
            level = cfg.level_coal_mine if site.kind == "coal_mine" else cfg.level
            at = max(due, offline_not_before)
            self._offline_change(site, dev_id, dev,
                                 step(self.offline_policy, dev.offline, level, at), at, out)
        if dev.offline.active:
            for c, t in due_changes(self.offline_policy, dev.offline, dev.offline.base_level,
                                    now):
                self._offline_change(site, dev_id, dev, c, t, out)

    def _sensor_timers(self, st: SiteState, site_id: str, now: int,
                       out: list[WarningRecord]) -> None:
        """Persistence, clear delays and escalation of the sensors with an open episode."""
        rules = self.site_sensors[site_id]
        for sid in sorted(st.timed):
            s, r = st.sensors[sid], rules[sid]
            for c, t in due_changes(r.policy, s.th, s.want, now):
                self._threshold(r, s, c, t, out)
            fault = r.fault_level if s.fault_reason else None
            for c, t in due_changes(self.fault_policy, s.fault, fault, now):
                self._sensor_fault(r, s, c, t, out)
            if _idle(s.th) and _idle(s.fault) and _idle(s.rate):
                st.timed.discard(sid)

    # -- records ----------------------------------------------------------------------------

    def _warning(self, change: Change, ts: int, e: Emit) -> WarningRecord:
        subject = subject_key(e.site.id, e.device_id, e.sensor, None, e.plant_unit)
        minutes = (ts - change.started_at) / 60000
        return WarningRecord(
            warning_id=warning_id(e.rule, subject, change.started_at),
            transition=change.transition, ts=ts, level=change.level,
            colour=COLOURS[change.level], rule=e.rule, kind=e.kind, site_id=e.site.id,
            device_id=e.device_id, sensor=e.sensor, vehicle_id=None, value=e.value,
            threshold=e.threshold, unit=e.unit, started_at=change.started_at,
            message=e.text + zh.transition_suffix(change.transition, change.level,
                                                   change.escalated, minutes),
            evidence=[EvidenceRecord(k, u) for k, u in e.evidence], drill=e.drill,
            plant_unit=e.plant_unit,
        )
