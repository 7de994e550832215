"""The vehicle engine: (catalog, vehicle rules, prior vehicle state, record, event time) → warnings.

Pure like streams/rules/engine.py: no broker, no clock, no randomness. A thin driver over the
vehicle rule kinds (streams/vehicles/kinds/, one module each, in one table): `on_record` feeds
a position, video-AI event or status to the kinds at its event time; `on_tick` wakes them at
`now` when the state's wake time (timers as data) is due. Closed days' figures are left in
`state.closed` for the caller.
"""

from __future__ import annotations

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.records import (
    InputRecord,
    PositionRecord,
    StatusRecord,
    VideoEventRecord,
)
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.config import VehicleRules
from hazardwatch.streams.vehicles.kinds import compile_kinds
from hazardwatch.streams.vehicles.kinds.base import Fix, Setup, VehicleRule, Wake, overrides
from hazardwatch.streams.vehicles.kinds.connect import NeverConnected
from hazardwatch.streams.vehicles.plan import plan_for
from hazardwatch.streams.vehicles.state import VehicleState

NEVER = 1 << 62  # (the day kind always has a timer: the day's end)


def _with(kinds: list[VehicleRule], hook: str) -> tuple[VehicleRule, ...]:
    return tuple(k for k in kinds if overrides(k, hook))


class VehicleEngine:
    """Evaluates the 两客一危 rules for the catalog's vehicles."""

    def __init__(self, catalog: Catalog, rules: VehicleRules) -> None:
        self.catalog, self.rules = catalog, rules
        setup = Setup.of(catalog, rules)
        self.clock, self.compiled = setup.clock, setup.vehicles
        self.kinds = kinds = compile_kinds(setup)
        self._records, self._videos = _with(kinds, "on_record"), _with(kinds, "on_video")
        self._statuses = _with(kinds, "on_status")
        self._plans = {vid: plan_for(kinds, c) for vid, c in self.compiled.items()}
        self._connect = next(k for k in kinds if isinstance(k, NeverConnected))
        self.moving_kmh = rules.moving_kmh
        self.gap_ms = int(rules.driving.gap_s * 1000)
        self.fixed_offset_ms = self.clock.fixed_offset_ms  # no daylight saving: local = ts + this

    # -- input ------------------------------------------------------------------------------

    def on_record(self, st: VehicleState, rec: InputRecord,
                  now: int | None = None) -> list[WarningRecord]:
        """Evaluate one position, video-AI event or status of a vehicle at its event time.

        now: the latest tick the caller has run (None: not known; see kinds/offline.py for
        blind-area uploads)."""
        out: list[WarningRecord] = []
        vehicle_id = getattr(rec, "vehicle_id", None)
        if vehicle_id is None:
            return out  # (not a vehicle's record)
        for k in self._records:
            k.on_record(st, vehicle_id, rec, out)
        c = self.compiled[vehicle_id]
        if isinstance(rec, PositionRecord):
            if rec.ts > st.last_ts:  # a late or repeated fix changes nothing (0x0704 re-sends)
                self._position(st, c, rec, out, now)
        elif isinstance(rec, VideoEventRecord):
            for k in self._videos:
                k.on_video(st, c, rec, out)
        elif isinstance(rec, StatusRecord):
            st.drill = rec.drill
            for k in self._statuses:
                k.on_status(st, c, rec, now, out)
        st.wake_at = self.wake_at(st, c, rec.ts)
        return out

    def _position(self, st: VehicleState, c: CompiledVehicle, p: PositionRecord,
                  out: list[WarningRecord], now: int | None) -> None:
        """A new fix through the kinds; then it is the last good fix (unless a jump)."""
        ts = p.ts
        st.drill = p.drill
        off = self.fixed_offset_ms
        fix = Fix(p, now, ts + off if off is not None else self.clock.local_ms(ts),
                  p.speed_kmh >= self.moving_kmh)
        if st.lat is not None and st.lon is not None:
            fix.measure(st, self.moving_kmh, self.gap_ms)
        plan = self._plans[c.id]
        for i, on_position in enumerate(plan.positions):
            on_position(st, c, fix, out)
            if fix.jump:  # (a GNSS jump: only the kinds that take one see it)
                for on_jump in plan.after_jump[i]:
                    on_jump(st, c, fix, out)
                return
        st.lat, st.lon, st.fix_ts, st.last_ts = p.lat, p.lon, ts, ts

    # -- timers -----------------------------------------------------------------------------

    def never_connected(self, st: VehicleState, vehicle_id: str, since: int, now: int,
                        drill: bool = False) -> list[WarningRecord]:
        """未接入: a catalogued vehicle that has sent nothing since `since` (the worker's first
        tick, the replay's first line) for offline.never_connected_s is reported once."""
        return self._connect.check(st, vehicle_id, since, now, drill)

    def on_tick(self, st: VehicleState, vehicle_id: str, now: int,
                offline_not_before: int = 0) -> list[WarningRecord]:
        """Fire every timer of a vehicle due at or before `now`."""
        if now < st.wake_at:
            return []  # nothing can be due (see wake_at): most vehicles on most ticks
        c = self.compiled[vehicle_id]
        out: list[WarningRecord] = []
        w = Wake(now, offline_not_before, _driving_due(st))
        plan = self._plans[vehicle_id]
        for on_wake in plan.wakes:
            on_wake(st, c, w, out)
        for on_clear in plan.clears:
            on_clear(st, c, w, out)
        st.wake_at = self.wake_at(st, c, now)
        return out

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int:
        """The earliest tick time at which on_tick can change anything (timers as data): the
        earliest of the kinds' timers; every tick while an episode that follows the clock is
        open (rare). Never later than the first due timer; an earlier time only costs one
        on_tick that finds nothing due."""
        plan, at = self._plans[c.id], NEVER
        for wake_at in plan.timers:
            due = wake_at(st, c, now)
            if due is not None and due < at:
                at = due
        if at > now + 1:
            for every_tick in plan.every:
                if every_tick(st):
                    return now + 1
        return at


def _driving_due(st: VehicleState) -> bool:
    """Whether a tick evaluates the driving-time rules: stopped after driving (a rest may
    complete), or a 24-hour or night-ban episode open or pending."""
    return bool(st.last_ts and ((st.stop_since is not None and st.cont_ms) or st.daily.active
                                or st.night_ban.active or st.night_ban.pending_since is not None))
