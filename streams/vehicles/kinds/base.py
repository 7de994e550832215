"""The one interface of a vehicle rule kind: compiled for the fleet, fed records, woken by ticks.

A kind (kinds/<name>.py) is a class built once from the catalog and the vehicle rules
(`Setup`, which compiles every vehicle); every hook takes one vehicle's `CompiledVehicle` and
its `VehicleState`. The engine (streams/vehicles/engine.py) calls the hooks of the kinds in
the order of the table (kinds/__init__.py): `on_record` for every record of the vehicle,
`on_position` for a new fix (`Fix`: the facts every kind reads, computed once), `on_video`,
`on_status`; `wake_at` / `every_tick` say when the vehicle next needs a tick (timers as data,
`VehicleState.wake_at`); a due tick (`Wake`) calls every `on_wake` (timers), then every
`on_clear` (the clear delays of moments). A hook a kind does not override is not called.
Adding a kind: one module and one line in the table. Site kinds have the same shape
(streams/rules/kinds/base.py); streams/kinds.py lists both tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hazardwatch.clock import DAY_MS, LocalClock
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.records import (
    InputRecord,
    PositionRecord,
    StatusRecord,
    VideoEventRecord,
)
from hazardwatch.contracts.rules import Level
from hazardwatch.contracts.warnings import COLOURS, EvidenceRecord, WarningRecord, warning_id
from hazardwatch.streams.rules.episode import Change, Episode, Policy, next_due, settled, step, tick
from hazardwatch.streams.rules.messages import transition_suffix
from hazardwatch.streams.vehicles import geo
from hazardwatch.streams.vehicles.classes import CompiledVehicle, compile_vehicles, minute_table
from hazardwatch.streams.vehicles.config import VehicleRules
from hazardwatch.streams.vehicles.state import VehicleState

Out = list[WarningRecord]
Emit = Callable[[Change, int], None]
INSTANT = Policy(0, 0, None)  # raised and cleared at once


@dataclass(frozen=True, slots=True)
class Setup:
    """What every kind is compiled from: the catalog, the vehicle rules and the local clock."""

    catalog: Catalog
    rules: VehicleRules
    clock: LocalClock
    vehicles: dict[str, CompiledVehicle]
    night: bytes  # 1 for each local minute of the night (speed.night)

    @classmethod
    def of(cls, catalog: Catalog, rules: VehicleRules) -> Setup:
        """Compile the per-vehicle rules once."""
        return cls(catalog, rules, LocalClock(rules.timezone), compile_vehicles(catalog, rules),
                   minute_table(rules.speed.night))


class Fix:
    """A new position as the kinds see it: its local minute, whether it moves, and the
    interval since the last good fix (`dt`, `dist`, `drove`), computed once by the engine.
    `jump` is set by the drift kind: the kinds after it skip the fix unless `on_jump`."""

    __slots__ = (
        "dist",
        "drove",
        "dt",
        "interval",
        "jump",
        "kmh",
        "local",
        "minute",
        "moving",
        "now",
        "p",
        "prev",
        "ts",
    )

    def __init__(self, p: PositionRecord, now: int | None, local: int, moving: bool) -> None:
        self.p, self.ts, self.now, self.local = p, p.ts, now, local
        self.minute = local % DAY_MS // 60_000
        self.moving, self.interval, self.jump = moving, False, False
        self.prev = self.dt = 0
        self.dist = self.kmh = 0.0
        self.drove = False

    def measure(self, st: VehicleState, moving_kmh: float, gap_ms: int) -> None:
        """The interval since the last good fix (st.lat/lon known), and whether it drove:
        after a GNSS gap only if it got somewhere, otherwise sample and hold (the interval
        takes the state of its first fix)."""
        assert st.lat is not None and st.lon is not None
        p = self.p
        self.interval, self.prev = True, st.fix_ts
        self.dt = dt = self.ts - st.fix_ts
        self.dist = geo.short_distance_m(st.lat, st.lon, p.lat, p.lon)
        self.kmh = kmh = self.dist * 3600 / dt
        self.drove = kmh >= moving_kmh if dt > gap_ms else st.stop_since is None


@dataclass(frozen=True, slots=True)
class Wake:
    """A due tick as the kinds see it; `driving`: the driving-time rules are evaluated (taken
    before any kind changes the state)."""

    now: int
    offline_not_before: int
    driving: bool


class VehicleRule:
    """A vehicle rule kind compiled for the fleet; the hooks a kind overrides are called."""

    name = ""  # the kind's name in the table
    on_jump = False  # whether on_position also takes a fix that is a GNSS jump (drift)

    def __init__(self, setup: Setup) -> None:
        self.setup, self.rules, self.clock = setup, setup.rules, setup.clock

    def applies(self, c: CompiledVehicle) -> bool:
        """Whether it has anything to do for vehicle c (compiled per vehicle: streams/vehicles/
        plan.py); the engine calls the position and timer hooks of the kinds that apply."""
        return True

    def on_record(self, st: VehicleState, vehicle_id: str, rec: InputRecord, out: Out) -> None:
        """Any record of the vehicle, before the record's own hooks."""

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """A fix newer than the last one."""

    def on_video(self, st: VehicleState, c: CompiledVehicle, e: VideoEventRecord,
                 out: Out) -> None:
        """A video-AI event of the vehicle."""

    def on_status(self, st: VehicleState, c: CompiledVehicle, rec: StatusRecord,
                  now: int | None, out: Out) -> None:
        """A terminal status (online, or a last will)."""

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """The earliest tick that can change this kind's state (None: no timer)."""
        return None

    def every_tick(self, st: VehicleState) -> bool:
        """Whether any tick may change it (an open episode that follows the clock)."""
        return False

    def on_wake(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Fire the timers due at or before w.now."""

    def on_clear(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Fire a clear delay due at or before w.now (after every kind's on_wake)."""


def overrides(kind: VehicleRule, hook: str) -> bool:
    """Whether the kind implements the hook (the engine calls only those)."""
    return getattr(type(kind), hook) is not getattr(VehicleRule, hook)


def episode(ep: Episode, policy: Policy, want: int | None, now: int, emit: Emit) -> None:
    """Step an episode towards `want` at `now`; emit its change."""
    if settled(ep, want):
        return
    change = step(policy, ep, want, now)
    if change:
        emit(change, now)


def timers(ep: Episode, policy: Policy, now: int, emit: Emit) -> None:
    """Fire an episode's clear delay if it is due at `now`."""
    due = next_due(policy, ep)
    if due is not None and due <= now:
        change = tick(policy, ep, None, due)
        if change:
            emit(change, due)


def level(value: int) -> Level:
    """A configured level as a Level."""
    return Level(value)


def warn(change: Change, ts: int, rule: str, kind: str, c: CompiledVehicle, text: str,
         drill: bool, out: Out, value: float | None = None, threshold: float | None = None,
         unit: str | None = None, evidence: tuple[tuple[str, str], ...] = ()) -> None:
    """Append the warning record of a change."""
    out.append(WarningRecord(
        warning_id=warning_id(rule, c.subject, change.started_at),
        transition=change.transition, ts=ts, level=change.level,
        colour=COLOURS[change.level], rule=rule, kind=kind, site_id=None, device_id=None,
        sensor=None, vehicle_id=c.id, value=value, threshold=threshold, unit=unit,
        started_at=change.started_at,
        message=text + transition_suffix(change.transition, change.level, change.escalated,
                                         (ts - change.started_at) / 60000),
        evidence=[EvidenceRecord(k, u) for k, u in evidence], drill=drill))
