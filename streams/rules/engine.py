"""The rule engine: (catalog, rules, prior site state, input, event time) → warning records.

Pure: no broker, no clock, no randomness. `on_record` evaluates one normalised record at its
event time; `on_tick` fires timers (persistence, clear delays, escalation, offline) at `now`.
State is mutated in place (state in, state out) and is serialisable (streams/rules/state.py).

Routing only: every rule is a kind of streams/rules/kinds/ (one table, KINDS), compiled once
per site, sensor or site's devices; the engine hands each input to the compiled rules that
take it, in the table's order, and turns what fired into warning records.

Timers are data: `SiteState.wake_at` is the earliest tick that can change anything. A record
only brings it forward (to the timers it started); a tick before it returns at once, and a
tick that runs computes it again from every timer of the site (`_wake`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.records import (
    InputRecord,
    StatusRecord,
    TelemetryRecord,
    VideoEventRecord,
)
from hazardwatch.contracts.rules import Level
from hazardwatch.contracts.warnings import (
    COLOURS,
    EvidenceRecord,
    WarningRecord,
    subject_key,
    warning_id,
)
from hazardwatch.streams.rules import messages as zh
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.kinds import KINDS
from hazardwatch.streams.rules.kinds.base import (
    NO_WAKE,
    CompiledRule,
    DeviceRules,
    Devices,
    Fired,
    PerSensor,
    Screen,
    Screens,
    SensorCheck,
    SensorSubject,
    soon,
)
from hazardwatch.streams.rules.state import RuleState, SensorState, SiteState

__all__ = ["NO_WAKE", "Engine", "Route"]

ScreenFn = Callable[[SiteState, SensorState, float | None, str, int, list[Fired]], float | None]
CheckFn = Callable[[SiteState, SensorState, float, int, float | None, int, list[Fired]], bool]


@dataclass(slots=True)
class Route:
    """Where one sensor's readings go: its screens, then (valid values) its checks in the
    table's order, then (its level changed) the rules taking its level."""

    subject: SensorSubject
    screens: tuple[Screen, ...] = ()
    checks: tuple[SensorCheck, ...] = ()
    level_rules: tuple[CompiledRule, ...] = ()
    wakers: tuple[Screen | SensorCheck, ...] = field(default=())  # checks, then screens
    screen: ScreenFn | None = None  # (the hot path: the screens and the checks, each as
    check: CheckFn | None = None  # one bound method, or one function calling them in order)


@dataclass(frozen=True, slots=True)
class SiteReadings:
    """A site-compiled rule taking a sensor's valid readings, as one of its checks."""

    rule: CompiledRule
    sensor: str

    def on_value(self, st: SiteState, s: SensorState, v: float, ts: int,
                 prev_v: float | None, prev_ts: int, fired: list[Fired]) -> bool:
        """To the rule's own state; never changes the sensor's level."""
        rule = self.rule
        rs = _rule_state(st, rule)
        fired += rule.on_reading(rs, self.sensor, v, ts, s.drill)
        soon(st, rule.wake_at(rs))
        return False

    def wake_at(self, s: SensorState) -> int | None:
        """(Its timers are the rule's: ticked with the site's rules.)"""
        return None

    def on_wake(self, s: SensorState, now: int, fired: list[Fired]) -> None:
        """(Ticked with the site's rules.)"""

    def busy(self, s: SensorState) -> bool:
        """(Its episode is the rule's.)"""
        return False


def _screens(screens: tuple[Screen, ...]) -> ScreenFn | None:
    """The screens as one function: each in turn, the first refusal ends (None: none)."""
    if len(screens) <= 1:
        return screens[0].screen if screens else None
    fns = tuple(sc.screen for sc in screens)

    def chained(st: SiteState, s: SensorState, value: float | None, q: str, ts: int,
                fired: list[Fired]) -> float | None:
        v = value
        for fn in fns:
            v = fn(st, s, value, q, ts, fired)
            if v is None:
                return None
        return v

    return chained


def _checks(checks: tuple[SensorCheck, ...]) -> CheckFn | None:
    """The checks as one function: every one in turn; whether any changed the level."""
    if len(checks) <= 1:
        return checks[0].on_value if checks else None
    fns = tuple(ck.on_value for ck in checks)

    def chained(st: SiteState, s: SensorState, v: float, ts: int, prev_v: float | None,
                prev_ts: int, fired: list[Fired]) -> bool:
        changed = False
        for fn in fns:
            if fn(st, s, v, ts, prev_v, prev_ts, fired):
                changed = True
        return changed

    return chained


def _rule_state(st: SiteState, rule: CompiledRule) -> RuleState:
    rs = st.rules.get(rule.key)
    if rs is None:
        rs = st.rules[rule.key] = RuleState()
    return rs


class Engine:
    """Routes a fixed site's records and ticks to its compiled rule kinds (vehicles:
    streams/vehicles/engine.py)."""

    def __init__(self, catalog: Catalog, rules: RulesConfig) -> None:
        self.catalog = catalog
        self.rules = rules
        self.site_sensors: dict[str, dict[str, Route]] = {}
        self.site_rules: dict[str, dict[str, CompiledRule]] = {}  # site → key → rule
        self.site_devices: dict[str, tuple[DeviceRules, ...]] = {}
        self.event_rules: dict[tuple[str, str, str], CompiledRule] = {}  # (site, device, family)
        for site in catalog.sites.values():
            self._index_site(site)

    def _index_site(self, site: Site) -> None:
        units = {u.id: u.name for u in site.units}
        routes = self.site_sensors.setdefault(site.id, {})
        for dev in site.devices:
            for s in dev.sensors:
                where = " ".join(p for p in (site.name, units.get(s.plant_unit or "", ""), s.id)
                                 if p)
                routes[s.id] = Route(SensorSubject(site, dev, s, where))
        compiled: dict[str, CompiledRule] = {}
        devices: list[DeviceRules] = []
        for kind in KINDS:
            if isinstance(kind, Screens | PerSensor):
                self._per_sensor(kind, routes)
            elif isinstance(kind, Devices):
                if (d := kind.compile(site, self.rules)) is not None:
                    devices.append(d)
            else:
                for kr in kind(site, self.rules):
                    compiled[kr.key] = kr
                    self._route_rule(site.id, kr, routes)
        self.site_rules[site.id], self.site_devices[site.id] = compiled, tuple(devices)
        for r in routes.values():
            r.wakers = (*r.checks, *r.screens)
            r.screen, r.check = _screens(r.screens), _checks(r.checks)

    def _per_sensor(self, kind: Screens | PerSensor, routes: dict[str, Route]) -> None:
        for r in routes.values():
            if isinstance(kind, Screens):
                if (sc := kind.compile(r.subject, self.rules)) is not None:
                    r.screens += (sc,)
            elif (ck := kind.compile(r.subject, self.rules)) is not None:
                r.checks += (ck,)

    def _route_rule(self, site_id: str, kr: CompiledRule, routes: dict[str, Route]) -> None:
        for sid in kr.sensors:
            routes[sid].checks += (SiteReadings(kr, sid),)
        for sid in kr.levels:
            routes[sid].level_rules += (kr,)
        for device, family in kr.events:
            self.event_rules[(site_id, device, family)] = kr

    # -- input ------------------------------------------------------------------------------

    def on_record(self, st: SiteState, rec: InputRecord,
                  now: int | None = None) -> list[WarningRecord]:
        """Evaluate one normalised record of a fixed site at its event time.

        now: the latest tick the caller has run (None: not known). Data older than a device's
        offline timeout before it is a buffered upload (断点续传): it does not end the
        device's offline warning, or the next tick would raise it again (flapping).
        """
        site_id = getattr(rec, "site_id", None)
        if site_id is None:
            return []
        fired: list[Fired] = []
        devices = self.site_devices[site_id]
        if isinstance(rec, TelemetryRecord):
            for d in devices:
                d.on_data(st, rec.device_id, rec.ts, rec.drill, now, fired)
            self._points(st, rec, fired)
        elif isinstance(rec, StatusRecord):
            assert rec.device_id is not None
            for d in devices:
                if rec.status == "online":
                    d.on_data(st, rec.device_id, rec.ts, rec.drill, now, fired)
                else:
                    d.on_last_will(st, rec.device_id, rec.ts, rec.drill)
        elif isinstance(rec, VideoEventRecord):
            rule = self.event_rules[(site_id, str(rec.device_id), rec.family)]
            rs = _rule_state(st, rule)
            fired += rule.on_event(rs, rec)
            soon(st, rule.wake_at(rs))
        device_id = getattr(rec, "device_id", None)
        if device_id is not None:
            for d in devices:
                d.on_heard(st, device_id, rec, fired)
        if not fired:
            return []
        site = self.catalog.sites[site_id]
        return [self._warning(site, f) for f in fired]

    def _points(self, st: SiteState, rec: TelemetryRecord, fired: list[Fired]) -> None:
        """Each reading: the screens (a refused one goes no further), the checks, the rules
        taking the sensor's level if it changed (the hot path: one loop, bound methods)."""
        routes, states, drill = self.site_sensors[rec.site_id], st.sensors, rec.drill
        for p in rec.points:
            s = states.get(p.sensor)
            if s is None:
                s = states[p.sensor] = SensorState()
            r, value, ts = routes[p.sensor], p.value, p.ts
            s.drill = drill
            prev_v, prev_ts = s.last_v, s.last_ts
            screen, check = r.screen, r.check
            v = value if screen is None else screen(st, s, value, p.q, ts, fired)
            if v is None:
                continue
            if check is not None and check(st, s, v, ts, prev_v, prev_ts, fired) and (
                    r.level_rules):
                self._levels(st, r, ts, drill, fired)

    @staticmethod
    def _levels(st: SiteState, r: Route, ts: int, drill: bool, fired: list[Fired]) -> None:
        """A sensor's threshold level changed: to the rules that take it."""
        sensors = st.sensors

        def level_of(sensor: str) -> Level | None:
            s = sensors.get(sensor)
            return s.want if s is not None else None

        for rule in r.level_rules:
            rs = _rule_state(st, rule)
            fired += rule.on_levels(rs, level_of, ts, drill)
            soon(st, rule.wake_at(rs))

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
        fired: list[Fired] = []
        for d in self.site_devices[site_id]:
            d.on_wake(st, now, offline_not_before, started, drill, fired)
        self._sensor_timers(st, site_id, now, fired)
        compiled = self.site_rules[site_id]
        for key, rs in st.rules.items():  # (in the order the states were made)
            c = compiled[key]
            if (wake := c.wake_at(rs)) is not None and wake <= now:
                fired += c.on_wake(rs, now)
        st.wake_at = self._wake(st, site_id, now, offline_not_before, started)
        site = self.catalog.sites[site_id]
        return [self._warning(site, f) for f in fired]

    def _wake(self, st: SiteState, site_id: str, now: int, offline_not_before: int,
              started: int | None) -> int:
        """The earliest tick that can change the site: its devices' kinds, its sensors with
        an open or pending episode, the compiled rules' own timers."""
        dues = [d.wake_at(st, now, offline_not_before, started)
                for d in self.site_devices[site_id]]
        routes = self.site_sensors[site_id]
        for sid in st.timed:
            s = st.sensors[sid]
            dues += [w.wake_at(s) for w in routes[sid].wakers]
        compiled = self.site_rules[site_id]
        dues += [compiled[key].wake_at(rs) for key, rs in st.rules.items()]
        return min((d for d in dues if d is not None), default=NO_WAKE)

    def _sensor_timers(self, st: SiteState, site_id: str, now: int,
                       fired: list[Fired]) -> None:
        """The timers of the sensors with an open or pending episode (value kinds, then
        screens); a sensor with none left is no longer timed."""
        routes = self.site_sensors[site_id]
        for sid in sorted(st.timed):
            s, wakers = st.sensors[sid], routes[sid].wakers
            for w in wakers:
                w.on_wake(s, now, fired)
            if not any(w.busy(s) for w in wakers):
                st.timed.discard(sid)

    # -- records ----------------------------------------------------------------------------

    @staticmethod
    def _warning(site: Site, f: Fired) -> WarningRecord:
        change, ts = f.change, f.ts
        subject = subject_key(site.id, f.device_id, f.sensor, None, f.plant_unit)
        minutes = (ts - change.started_at) / 60000
        return WarningRecord(
            warning_id=warning_id(f.rule, subject, change.started_at),
            transition=change.transition, ts=ts, level=change.level,
            colour=COLOURS[change.level], rule=f.rule, kind=f.kind, site_id=site.id,
            device_id=f.device_id, sensor=f.sensor, vehicle_id=None, value=f.value,
            threshold=f.threshold, unit=f.unit, started_at=change.started_at,
            message=f.text + zh.transition_suffix(change.transition, change.level,
                                                   change.escalated, minutes),
            evidence=[EvidenceRecord(k, u) for k, u in f.evidence], drill=f.drill,
            plant_unit=f.plant_unit,
        )
