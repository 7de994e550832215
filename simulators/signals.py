"""Sensor signals that behave like the real thing, kept inside their normal band.

The band comes from the sensor's set-points (the same `resolve` the engine uses), so a
simulated plant is quiet unless an incident is injected: level fill/empty cycles, daily
temperature cycles, gas with noise and rare small spikes, CH4 with ventilation dynamics
(an AR(1) process), slow tailings signals, a dry rain gauge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hazardwatch.contracts.catalog.model import Sensor, Site
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.setpoints import resolve

LOW_FRACTION = {"gas_combustible": 0.08, "gas_toxic": 0.15, "ch4": 0.3, "co": 0.2,
                "displacement": 0.3, "seepage": 0.3, "dust": 0.2, "co2": 0.2}
DAY_S, FILL_S = 86_400, 6 * 3600


class Signal(Protocol):
    """Anything that gives a sensor's simulated value at t_s (seconds since the start)."""

    def value(self, t_s: float) -> float:
        """The reading at t_s, without incidents."""
        ...


def normal_band(rules: RulesConfig, site: Site, sensor: Sensor) -> tuple[float, float]:
    """(lowest, highest) values that trigger no set-point of this sensor."""
    stages = resolve(rules, site, sensor).stages
    highs = [s.value for s in stages if s.high]
    lows = [s.value for s in stages if not s.high]
    rlo, rhi = sensor.range if sensor.range is not None else (None, None)
    lo = max(lows) if lows else rlo
    hi = min(highs) if highs else rhi
    if lo is None and hi is None:
        return 0.0, 10.0
    if lo is None:
        assert hi is not None
        lo = hi - 5 if hi > 200 else 0.0  # above 200: an elevation (pond level, m a.s.l.)
    if hi is None:
        hi = lo * 1.5 if lo > 0 else lo + 10
    return float(lo), float(hi)


@dataclass
class SensorSignal:
    """The simulated value of one sensor over time (seconds since the drill started)."""

    sensor: Sensor
    lo: float
    hi: float
    rng: np.random.Generator
    phase: float = 0.0
    ar: float = 0.0  # CH4 ventilation state

    def __post_init__(self) -> None:
        self.phase = float(self.rng.random() * 2 * math.pi)

    @property
    def base(self) -> float:
        """The signal's mean."""
        frac = LOW_FRACTION.get(self.sensor.metric, 0.45)
        return self.lo + frac * (self.hi - self.lo)

    def value(self, t_s: float) -> float:
        """The reading at t_s, without incidents."""
        m, span, base = self.sensor.metric, self.hi - self.lo, self.base
        noise = float(self.rng.normal(0, (0.0003 if m == "level" else 0.01) * span))
        if m == "rainfall":
            return 0.0
        if m == "level":
            v = base + 0.2 * span * math.sin(2 * math.pi * t_s / FILL_S + self.phase) + noise
        elif m == "temperature":
            v = base + 0.1 * span * math.sin(2 * math.pi * t_s / DAY_S + self.phase) + noise
        elif m == "ch4":
            self.ar = 0.9 * self.ar + float(self.rng.normal(0, 0.02 * span))
            v = base + self.ar
        elif m in ("gas_combustible", "gas_toxic", "co") and self.rng.random() < 0.002:
            v = base + 0.3 * (self.hi - base)  # a rare small spike, below the first set-point
        else:
            v = base + noise
        return round(min(max(v, self.lo + 0.02 * span), self.hi - 0.1 * span), 4)
