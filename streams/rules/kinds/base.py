"""The one interface of a rule kind: compiled per subject, fed readings, woken by ticks.

A kind (kinds/<name>.py) compiles, for a site, the subjects it watches from the catalog and
the rule pack (`RuleKind.compile`). Each compiled rule names the sensors whose valid readings
it takes, keeps its state in `SiteState.rules[key]`, says when it next needs a tick
(`wake_at`) and takes one (`on_wake`). It returns what fired; the engine turns that into
warning records. Adding a kind: one module and one line in kinds/__init__.py (KINDS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hazardwatch.contracts.catalog.model import Site
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
