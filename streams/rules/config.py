"""Rule packs and grading policy as validated data (deploy/rules/default.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from hazardwatch.contracts.rules import Level
from hazardwatch.contracts.yamlfile import load_yaml
from hazardwatch.resources import packaged
from hazardwatch.streams.rules.episode import Policy

DEFAULT_RULES = packaged("rules", "default.yaml")


class Grading(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Set-point stage → warning level, and GB 18218 grade weighting."""

    h: Level = Level.YELLOW
    hh: Level = Level.ORANGE
    l: Level = Level.YELLOW  # noqa: E741 - the industry's name
    ll: Level = Level.ORANGE
    alarm: Level = Level.YELLOW
    cut: Level = Level.ORANGE
    blue: Level = Level.BLUE
    yellow: Level = Level.YELLOW
    orange: Level = Level.ORANGE
    red: Level = Level.RED
    grade_weighting: bool = False


class PolicyConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Timing of one rule kind."""

    persist_s: float = 0
    clear_delay_s: float = 0
    escalate_after_s: float | None = None

    def policy(self) -> Policy:
        """As an episode Policy."""
        return Policy(self.persist_s, self.clear_delay_s, self.escalate_after_s)


FrozenWhen = Literal["never", "noisy", "in_transfer"]


class FrozenPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """When an unchanged value of one metric is a fault (docs/rules.md, "Frozen values").

    never: a constant value is normal; noisy: the signal always carries noise, so a constant
    value is a fault, except inside the detector's zero dead band; in_transfer: only while the
    sensor's unit of plant is in transfer (a flow, or a moving level).
    """

    when: FrozenWhen = "noisy"
    dead_band: float = 0.0  # |value| ≤ this is the zero band (absolute, the metric's unit)
    dead_band_pct: float = 0.0  # … or this % of the sensor's range span (the larger counts)
    frozen_s: float | None = None  # overrides fault.frozen_s for this metric


class TransferConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """When a unit of plant (a tank) is in transfer: product is moving in or out."""

    level_step_m: float = 0.02  # a level that moved this much since it last moved
    flow_min: float = 0.5  # a flow reading above this (the sensor's unit)
    hold_s: float = 900  # still in transfer this long after the last movement


class FaultConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Sensor faults."""

    level: Level = Level.BLUE
    level_coal_ch4: Level = Level.YELLOW
    frozen_s: float = 1800
    frozen_exempt: list[str] = msgspec.field(default_factory=list)  # as `when: never`
    frozen: dict[str, FrozenPolicy] = msgspec.field(default_factory=dict)  # by metric
    level_clock_fast: Level = Level.BLUE  # a device clock ahead beyond its tolerance (data kept)
    transfer: TransferConfig = msgspec.field(default_factory=TransferConfig)

    def frozen_policy(self, metric: str) -> FrozenPolicy:
        """The frozen-value policy of a metric (noisy, no dead band, when not configured)."""
        if metric in self.frozen_exempt:
            return FrozenPolicy(when="never")
        return self.frozen.get(metric) or FrozenPolicy()


class PowerFeedConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """馈电异常 (streams/rules/kinds/power_feed.py): power fed where CH4 asks for a cut."""

    enabled: bool = True
    persist_s: float = 10.0  # the cut is executed in ≤ 2 s; one polling cycle (≤ 10 s) more
    clear_delay_s: float = 10.0
    level: Level = Level.RED


class OfflineConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Device offline."""

    level: Level = Level.BLUE
    level_coal_mine: Level = Level.YELLOW
    status_offline_persist_s: float = 30
    startup_grace_s: float = 120
    never_connected_s: float = 600  # silent this long after start: 未接入, not offline
    level_never_connected: Level = Level.BLUE


class PackEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Default set-points of one metric for one site kind."""

    unit: str
    source: str
    h: float | None = None
    hh: float | None = None
    l: float | None = None  # noqa: E741
    ll: float | None = None
    restore_h: float | None = None
    restore_hh: float | None = None
    restore_l: float | None = None
    restore_ll: float | None = None
    blue: float | None = None
    yellow: float | None = None
    orange: float | None = None
    red: float | None = None


class CoalCh4(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Alarm, power-cut and restore concentrations of one sensor location."""

    alarm: float
    cut: float
    restore: float


class Term(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One condition of a combination: a sensor of these metrics at this level or worse."""

    metrics: list[str]
    level_at_most: Level


class Combination(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """All terms true in one unit of plant → a warning at `level`."""

    name: str
    site_kind: Literal["tank_farm", "coal_mine", "tailings_dam"]
    level: Level
    message: str
    all: list[Term]


class Counting(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The tailings 4-colour counting rule."""

    blue_to_yellow: int = 4
    yellow_to_orange: int = 3
    orange_to_red: int = 2


class RulesConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything the engine is configured with."""

    version: Literal[1]
    grading: Grading
    policies: dict[str, PolicyConfig]
    fault: FaultConfig
    offline: OfflineConfig
    packs: dict[str, dict[str, PackEntry]]
    toxic_gas_mg_m3: dict[str, tuple[float, float]]
    coal_ch4_by_location: dict[str, CoalCh4]
    wind_speed_by_location: dict[str, tuple[float, float]]
    combinations: list[Combination]
    tailings_counting: Counting
    camera_levels: dict[str, Level]
    power_feed: PowerFeedConfig = msgspec.field(default_factory=PowerFeedConfig)

    def policy(self, kind: str) -> Policy:
        """The episode policy of a rule kind (threshold when not configured)."""
        return (self.policies.get(kind) or self.policies["threshold"]).policy()


REQUIRED_POLICIES = ("threshold", "coal_ch4", "rate", "fault", "offline", "combination",
                     "tailings", "camera")


def load_rules(path: str | Path = DEFAULT_RULES) -> RulesConfig:
    """Load and validate; raise ValueError naming the file and the problem."""
    path = Path(path)
    cfg = load_yaml(path, RulesConfig)
    problems = [f"policies: missing {k!r}" for k in REQUIRED_POLICIES if k not in cfg.policies]
    problems += _level_problems(cfg) + _order_problems(cfg)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return cfg


def _level_problems(cfg: RulesConfig) -> list[str]:
    levels = [*(getattr(cfg.grading, f) for f in ("h", "hh", "l", "ll", "alarm", "cut", "blue",
                                                   "yellow", "orange", "red")),
              *(c.level for c in cfg.combinations), *cfg.camera_levels.values(),
              cfg.power_feed.level]
    return [f"level {lv} outside 1..4" for lv in levels if not 1 <= lv <= 4]


def _order_problems(cfg: RulesConfig) -> list[str]:
    """A more severe stage never maps to a lower level; set-points in their order."""
    problems = []
    if not (cfg.grading.hh <= cfg.grading.h and cfg.grading.ll <= cfg.grading.l
            and cfg.grading.cut <= cfg.grading.alarm
            and cfg.grading.red <= cfg.grading.orange <= cfg.grading.yellow <= cfg.grading.blue):
        problems.append("grading: a more severe stage must not map to a lower level")
    for name, (lo, hi) in cfg.toxic_gas_mg_m3.items():
        if not lo < hi:
            problems.append(f"toxic_gas_mg_m3.{name}: 一级 {lo} must be below 二级 {hi}")
    for loc, c in cfg.coal_ch4_by_location.items():
        if not (c.restore <= c.alarm <= c.cut):
            problems.append(f"coal_ch4_by_location.{loc}: need restore ≤ alarm ≤ cut")
    return problems
