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
states were first created when several are due on one tick. Adding a kind: one module and
one line in kinds/__init__.py (KINDS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.records import VideoEventRecord
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Change
from hazardwatch.streams.rules.state import RuleState


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


LevelOf = Callable[[str], "int | None"]  # a sensor's threshold level now (None: none)


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
