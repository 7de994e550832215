"""The one interface of a rule kind: compiled per subject, fed its inputs, woken by ticks.

A kind (kinds/<name>.py) compiles, for a site, the subjects it watches from the catalog and
the rule pack (a `RuleKind`). Each compiled rule keeps its state in `SiteState.rules[key]`
(the key is opaque: what the rule is about is in its own typed fields, never parsed back
from the key), says when it next needs a tick (`wake_at`) and takes one (`on_wake`). Its
inputs, each routed by the engine to the rules that name them:

- `sensors` → `on_reading`: valid readings (a reading the fault checks refuse reaches no
  rule; 馈电异常);
- `levels` → `on_levels`: the threshold level of these sensors changed; the rule reads the
  levels it needs through `level_of` (combinations in a unit, tailings counting);
- `events` → `on_event`: video-AI events of (camera device, family) (fixed cameras).

A rule takes the inputs it names (`Inputs` gives the methods of the ones it does not).
It returns what fired; the engine turns that into warning records, in the order the rules'
states were first created when several are due on one tick.

Kinds about one sensor or one site's devices keep their state where it always was (the
sensor's `SensorState`, the device's `DeviceState`) and are compiled per subject too:

- `Screens` (sensor faults): compiled per sensor (`Screen`); every reading goes through it
  first; it records the value and says whether it is valid (a refused reading reaches no
  later kind);
- `PerSensor` (rate of change, thresholds): compiled per sensor (`SensorCheck`), fed the
  valid values with the sensor's previous value; says whether its level changed (that goes
  on to the rules taking `levels`);
- `Devices` (offline and 未接入, clock fast): compiled per site (`DeviceRules`), fed what
  tells a device is there (data, last will, any record), with its own wake.

Adding a kind: one module and one line in kinds/__init__.py (KINDS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hazardwatch.contracts.catalog.model import Device, Sensor, Site
from hazardwatch.contracts.records import InputRecord, VideoEventRecord
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Change, Episode
from hazardwatch.streams.rules.state import RuleState, SensorState, SiteState

NO_WAKE = 1 << 62  # (no timer pending)


def soon(st: SiteState, due: int | None) -> None:
    """Bring the site's wake-up forward to `due` (a timer a record started)."""
    if due is not None and due < st.wake_at:
        st.wake_at = due


def idle(ep: Episode) -> bool:
    """Whether an episode is neither open nor pending."""
    return not ep.active and ep.pending_since is None


@dataclass(frozen=True, slots=True)
class Fired:
    """A transition of a compiled rule, with what its warning says."""

    change: Change
    ts: int
    rule: str
    kind: str
    plant_unit: str | None
    value: float | None
    threshold: float | None
    unit: str | None
    text: str
    drill: bool
    device_id: str | None = None
    evidence: tuple[tuple[str, str], ...] = ()  # (media kind, uri)
    sensor: str | None = None


LevelOf = Callable[[str], Level | None]  # a sensor's threshold level now (None: none)


class CompiledRule(Protocol):
    """A rule kind compiled for one subject of a site."""

    @property
    def key(self) -> str:
        """Its state's key in SiteState.rules."""
        ...

    @property
    def sensors(self) -> tuple[str, ...]:
        """The sensors whose valid readings it takes."""
        ...

    def on_reading(self, st: RuleState, sensor: str, value: float, ts: int,
                   drill: bool) -> list[Fired]:
        """Take one valid reading of one of its sensors at its event time."""
        ...

    @property
    def levels(self) -> tuple[str, ...]:
        """The sensors whose threshold level it takes."""
        ...

    def on_levels(self, st: RuleState, level_of: LevelOf, ts: int,
                  drill: bool) -> list[Fired]:
        """A threshold level of one of its sensors changed at `ts`."""
        ...

    @property
    def events(self) -> tuple[tuple[str, str], ...]:
        """The (device, family) of the video events it takes."""
        ...

    def on_event(self, st: RuleState, rec: VideoEventRecord) -> list[Fired]:
        """Take one video event."""
        ...

    def wake_at(self, st: RuleState) -> int | None:
        """The earliest time a tick can change it (None: no timer pending)."""
        ...

    def on_wake(self, st: RuleState, now: int) -> list[Fired]:
        """Fire what is due at or before `now`."""
        ...


class RuleKind(Protocol):
    """A rule kind: compiles its rules for a site from the catalog and the rule pack."""

    def __call__(self, site: Site, rules: RulesConfig) -> list[CompiledRule]:
        """The compiled rules of this kind for one site (none where it does not apply)."""
        ...


class Inputs:
    """The inputs a rule does not take: mix in and override the ones it does (the rule
    declares all three of `sensors`, `levels` and `events`, empty where it takes none)."""

    __slots__ = ()

    def on_reading(self, st: RuleState, sensor: str, value: float, ts: int,
                   drill: bool) -> list[Fired]:
        """(Takes no readings.)"""
        return []

    def on_levels(self, st: RuleState, level_of: LevelOf, ts: int,
                  drill: bool) -> list[Fired]:
        """(Takes no levels.)"""
        return []

    def on_event(self, st: RuleState, rec: VideoEventRecord) -> list[Fired]:
        """(Takes no events.)"""
        return []


@dataclass(frozen=True, slots=True)
class SensorSubject:
    """One catalogued sensor with what a per-sensor kind compiles from."""

    site: Site
    device: Device
    sensor: Sensor
    where: str  # site, unit of plant and sensor, for operators' messages


class Screen(Protocol):
    """A per-sensor kind every reading goes through first (sensor faults)."""

    def screen(self, st: SiteState, s: SensorState, value: float | None, q: str, ts: int,
               fired: list[Fired]) -> float | None:
        """Record the reading; its value when valid, None when refused."""
        ...

    def wake_at(self, s: SensorState) -> int | None:
        """The earliest time a tick can change it (None: no timer pending)."""
        ...

    def on_wake(self, s: SensorState, now: int, fired: list[Fired]) -> None:
        """Fire what is due at or before `now`."""
        ...

    def busy(self, s: SensorState) -> bool:
        """Whether it has an open or pending episode (the sensor stays in SiteState.timed)."""
        ...


class SensorCheck(Protocol):
    """A per-sensor kind fed the valid values (rate of change, thresholds)."""

    def on_value(self, st: SiteState, s: SensorState, v: float, ts: int,
                 prev_v: float | None, prev_ts: int, fired: list[Fired]) -> bool:
        """Take a valid value (prev: the sensor's reading before); whether its level changed."""
        ...

    def wake_at(self, s: SensorState) -> int | None:
        """The earliest time a tick can change it (None: no timer pending)."""
        ...

    def on_wake(self, s: SensorState, now: int, fired: list[Fired]) -> None:
        """Fire what is due at or before `now`."""
        ...

    def busy(self, s: SensorState) -> bool:
        """Whether it has an open or pending episode (the sensor stays in SiteState.timed)."""
        ...


class DeviceRules(Protocol):
    """A device kind compiled for one site: its devices' liveness and clocks."""

    def on_data(self, st: SiteState, device_id: str, ts: int, drill: bool, now: int | None,
                fired: list[Fired]) -> None:
        """The device sent data or said it is online (before its readings are evaluated)."""
        ...

    def on_last_will(self, st: SiteState, device_id: str, ts: int, drill: bool) -> None:
        """The device (or the broker for it) said it is offline."""
        ...

    def on_heard(self, st: SiteState, device_id: str, rec: InputRecord,
                 fired: list[Fired]) -> None:
        """Any record of the device (after the record was evaluated)."""
        ...

    def wake_at(self, st: SiteState, now: int, offline_not_before: int,
                started: int | None) -> int | None:
        """The earliest tick that can change it (None: no timer pending)."""
        ...

    def on_wake(self, st: SiteState, now: int, offline_not_before: int, started: int | None,
                drill: bool, fired: list[Fired]) -> None:
        """Fire what is due at or before `now` (the arguments: as Engine.on_tick's)."""
        ...


class DeviceInputs:
    """The device inputs a device kind does not take: mix in and override."""

    __slots__ = ()

    def on_data(self, st: SiteState, device_id: str, ts: int, drill: bool, now: int | None,
                fired: list[Fired]) -> None:
        """(Takes no data.)"""

    def on_last_will(self, st: SiteState, device_id: str, ts: int, drill: bool) -> None:
        """(Takes no last will.)"""

    def on_heard(self, st: SiteState, device_id: str, rec: InputRecord,
                 fired: list[Fired]) -> None:
        """(Takes no records.)"""

    def wake_at(self, st: SiteState, now: int, offline_not_before: int,
                started: int | None) -> int | None:
        """(No timers.)"""
        return None

    def on_wake(self, st: SiteState, now: int, offline_not_before: int, started: int | None,
                drill: bool, fired: list[Fired]) -> None:
        """(No timers.)"""


@dataclass(frozen=True, slots=True)
class Screens:
    """A table entry: a kind compiled for each sensor as a screen (None: not for it)."""

    compile: Callable[[SensorSubject, RulesConfig], Screen | None]

    @property
    def name(self) -> str:
        """The kind's name: its compiler's."""
        return self.compile.__name__


@dataclass(frozen=True, slots=True)
class PerSensor:
    """A table entry: a kind compiled for each sensor, fed its valid values."""

    compile: Callable[[SensorSubject, RulesConfig], SensorCheck | None]

    @property
    def name(self) -> str:
        """The kind's name: its compiler's."""
        return self.compile.__name__


@dataclass(frozen=True, slots=True)
class Devices:
    """A table entry: a kind compiled for each site's devices."""

    compile: Callable[[Site, RulesConfig], DeviceRules | None]

    @property
    def name(self) -> str:
        """The kind's name: its compiler's."""
        return self.compile.__name__


Kind = RuleKind | Screens | PerSensor | Devices  # an entry of the table (KINDS)
