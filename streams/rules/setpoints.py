"""Which set-points apply to a sensor: the catalog's own, else the rule pack's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hazardwatch.contracts.catalog.model import Sensor, Site
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules.config import RulesConfig

DEFAULT_DEADBAND = 0.05  # restore 5 % inside a set-point unless a restore value is given


@dataclass(frozen=True, slots=True)
class Stage:
    """One set-point: active at `value` or beyond, stays active until back past `restore`."""

    name: str  # h, hh, l, ll, alarm, cut, blue, yellow, orange, red
    high: bool  # True: dangerous above; False: dangerous below
    value: float
    restore: float
    level: Level


@dataclass(frozen=True, slots=True)
class SetPoints:
    """The stages of one sensor, the policy kind that times them, and where they come from."""

    stages: tuple[Stage, ...]
    policy: str  # threshold | coal_ch4 | tailings
    source: str


def _restore(value: float, high: bool, explicit: float | None) -> float:
    if explicit is not None:
        return explicit
    return value - abs(value) * DEFAULT_DEADBAND if high else value + abs(value) * DEFAULT_DEADBAND


def _from_fields(cfg: RulesConfig, t: Any, source: str, policy: str) -> SetPoints:
    g = cfg.grading
    stages = []
    for name, high in (("h", True), ("hh", True), ("l", False), ("ll", False)):
        value = getattr(t, name, None)
        if value is not None:
            stages.append(Stage(name, high, value,
                                _restore(value, high, getattr(t, f"restore_{name}", None)),
                                getattr(g, name)))
    colour_high = getattr(t, "direction", "high") == "high"
    for name in ("blue", "yellow", "orange", "red"):
        value = getattr(t, name, None)
        if value is not None:
            policy = "tailings"
            stages.append(Stage(name, colour_high, value, _restore(value, colour_high, None),
                                getattr(g, name)))
    return SetPoints(tuple(stages), policy, source)


def resolve(cfg: RulesConfig, site: Site, sensor: Sensor) -> SetPoints:
    """The sensor's set-points with grade weighting applied (GB 18218 一级 sites one level up)."""
    sp = _resolve(cfg, site, sensor)
    if cfg.grading.grade_weighting and site.grade == 1:
        sp = SetPoints(tuple(Stage(s.name, s.high, s.value, s.restore, Level(max(1, s.level - 1)))
                             for s in sp.stages), sp.policy, sp.source + "; GB 18218 一级 +1")
    return sp


def _resolve(cfg: RulesConfig, site: Site, sensor: Sensor) -> SetPoints:
    if sensor.thresholds is not None:
        return _from_fields(cfg, sensor.thresholds, "catalog thresholds", "threshold")
    g = cfg.grading
    if site.kind == "coal_mine" and sensor.metric == "ch4":
        loc = sensor.location or "T1"
        c = cfg.coal_ch4_by_location.get(loc, cfg.coal_ch4_by_location["T1"])
        return SetPoints((Stage("alarm", True, c.alarm, c.restore, g.alarm),
                          Stage("cut", True, c.cut, c.restore, g.cut)), "coal_ch4",
                         f"煤矿安全规程/AQ 1029 CH4 {loc}: alarm {c.alarm}, cut {c.cut}, "
                         f"restore <{c.restore}")
    if site.kind == "coal_mine" and sensor.metric == "wind_speed":
        lo, hi = cfg.wind_speed_by_location.get(sensor.location or "", (None, None))
        if lo is not None and hi is not None:
            stages = [Stage("h", True, hi, hi * 0.98, g.h)]
            if lo > 0:
                stages.append(Stage("l", False, lo, lo * 1.02, g.l))
            return SetPoints(tuple(stages), "threshold",
                             f"煤矿安全规程 wind speed {sensor.location}: {lo}–{hi} m/s")
    if sensor.metric == "gas_toxic" and sensor.gas in cfg.toxic_gas_mg_m3:
        first, second = cfg.toxic_gas_mg_m3[sensor.gas]
        return SetPoints((Stage("h", True, first, _restore(first, True, None), g.h),
                          Stage("hh", True, second, _restore(second, True, None), g.hh)),
                         "threshold", f"GB/T 50493-2019 {sensor.gas} {first}/{second} mg/m3")
    entry = cfg.packs.get(site.kind, {}).get(sensor.metric)
    if entry is not None:
        return _from_fields(cfg, entry, entry.source, "threshold")
    return SetPoints((), "threshold", "no set-points")
