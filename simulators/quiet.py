"""A realistic normal day of the demo plant, seeded: what a monitoring center sees when nothing
is wrong, so that the rules can be shown to stay silent on it (bench/quiet_day.py).

Unlike the drills' signals (always moving, inside their band), this day has the flat signals
real plants have: gas detectors at zero inside their dead band, a tank at rest between
transfers (level, pressure and product temperature unchanged), gateways that report by
exception (a point only when it changed, and every point at a refresh interval), coal-mine
sensors with their real small values, slow tailings signals with hourly GNSS solutions, a
camera that only says it is online, and vehicles parked outside their duty hours and driving
legally within them. A scenario's incidents can be played on top of it (QuietDayPlayer with
the scenario's incidents).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hazardwatch.clock import in_window, minutes
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.simulators.motion import VehicleMotion
from hazardwatch.simulators.player import ScenarioPlayer
from hazardwatch.simulators.scenario import Incident, Scenario
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.vehicles.config import VehicleRules

# local hours: tank T101 (gasoline) receives 08:00–11:00 and dispatches 19:00–23:00
T101_FILL, T101_EMPTY = (8.0, 11.0), (19.0, 23.0)
DUTY = {"hazmat": (("08:00", "12:00"), ("14:00", "17:00")),  # vehicles drive only on duty
        "coach": (("07:30", "11:30"), ("13:30", "17:30")),
        "tour_bus": (("08:30", "12:00"), ("14:00", "17:30"))}
REFRESH_S = {"dcs-gw-01": 30, "gds-01": 30, "rtu-01": 300}  # else: every point every step


@dataclass
class QuietSignal:
    """One sensor's value on a normal day: a function of seconds since the start."""

    fn: Callable[[float], float]

    def value(self, t_s: float) -> float:
        """The reading at t_s."""
        return self.fn(t_s)


def _in(h: float, window: tuple[float, float]) -> bool:
    return window[0] <= h < window[1]


def _t101_level(h: float) -> float:
    if h < T101_FILL[0]:
        return 6.0
    if h < T101_FILL[1]:
        return 6.0 + 0.9 * (h - T101_FILL[0])
    if h < T101_EMPTY[0]:
        return 8.7
    if h < T101_EMPTY[1]:
        return 8.7 - 0.675 * (h - T101_EMPTY[0])
    return 6.0


class QuietDayPlayer(ScenarioPlayer):
    """The drills' player on a quiet baseline; with no incidents, a normal day."""

    def __init__(self, scenario: Scenario, catalog: Catalog, rules: RulesConfig,
                 vrules: VehicleRules, start: int) -> None:
        super().__init__(scenario, catalog, rules, vrules, start)
        rng = np.random.default_rng(scenario.seed + 1)
        self.sent: dict[tuple[str, str], float] = {}
        self.refreshed: dict[tuple[str, str], float] = {}
        self.duty = {k: [(minutes(a), minutes(b)) for a, b in w] for k, w in DUTY.items()}
        for (sid, sensor) in list(self.signals):
            self.signals[(sid, sensor)] = QuietSignal(self._signal(sensor, rng))

    def _hour(self, t_s: float) -> float:
        return self.clock.minute_of_day(self.start + int(t_s * 1000)) / 60

    def _signal(self, sensor: str, rng: np.random.Generator) -> Callable[[float], float]:
        hour = self._hour

        def moving(h: float) -> bool:
            return _in(h, T101_FILL) or _in(h, T101_EMPTY)

        def zero_suppressed(mean: float, sd: float, band: float) -> Callable[[float], float]:
            def f(t_s: float) -> float:  # a GDS transmits 0 inside its zero dead band
                raw = float(rng.normal(mean, sd))
                return 0.0 if raw < band else round(raw, 1)
            return f

        def ar(base: float, step_sd: float, digits: int) -> Callable[[float], float]:
            state = [0.0]

            def f(t_s: float) -> float:  # ventilation dynamics: an AR(1) process
                state[0] = 0.95 * state[0] + float(rng.normal(0, step_sd))
                return round(max(base + state[0], 0.0), digits)
            return f

        def hourly(base: float, sd: float) -> Callable[[float], float]:
            cache: dict[int, float] = {}

            def f(t_s: float) -> float:  # a GNSS static solution per hour
                k = int(t_s // 3600)
                if k not in cache:
                    cache[k] = round(base + float(rng.normal(0, sd)), 1)
                return cache[k]
            return f

        def daily(base: float, amp: float, digits: int) -> Callable[[float], float]:
            return lambda t_s: round(base + amp * math.sin(2 * math.pi * (hour(t_s) - 9) / 24),
                                     digits)

        table: dict[str, Callable[[float], float]] = {
            "T101-LT": lambda t_s: round(_t101_level(hour(t_s)) + (
                float(rng.normal(0, 0.002)) if moving(hour(t_s)) else 0.0), 3),
            "T101-TT": lambda t_s: round(15 + 3 * math.sin(2 * math.pi * (hour(t_s) - 9) / 24)
                                         + (float(rng.normal(0, 0.15)) if moving(hour(t_s))
                                            else 0.0), 1),
            "T101-PT": lambda t_s: (round(1.8 + float(rng.normal(0, 0.1)), 2)
                                    if _in(hour(t_s), T101_FILL) else
                                    round(0.4 + float(rng.normal(0, 0.1)), 2)
                                    if _in(hour(t_s), T101_EMPTY) else 1.2),
            "T102-LT": lambda t_s: 7.35,  # the ammonia tank rests all day
            "T102-TT": daily(12, 2, 1),
            "T102-PT": daily(0.62, 0.02, 2),
            "T101-GAS1": zero_suppressed(1.0, 1.2, 5.0),
            "T101-GAS2": zero_suppressed(0.8, 1.0, 5.0),
            "T102-NH3": zero_suppressed(0.5, 1.0, 2.0),
            "WF3102-T0": ar(0.32, 0.01, 2), "WF3102-T1": ar(0.24, 0.01, 2),
            "WF3102-T2": ar(0.21, 0.01, 2), "HD3104-T1": ar(0.16, 0.008, 2),
            "HD3104-T2": ar(0.13, 0.008, 2), "WF3102-CO": ar(4.0, 0.6, 0),
            "WF3102-WS": lambda t_s: round(1.8 + float(rng.normal(0, 0.08)), 2),
            "POND-LV": lambda t_s: round(1031.40 + 0.02 * t_s / 86_400, 2),
            "S1-PZ1": lambda t_s: 7.62, "S2-PZ1": lambda t_s: 7.85,
            "BEACH-1": lambda t_s: 126.0,
            "S1-GNSS1": hourly(2.4, 0.6), "S2-GNSS1": hourly(3.1, 0.6),
            "RAIN-1": lambda t_s: 0.0,
        }
        return table.get(sensor, lambda t_s: 0.0)

    def _points(self, sid: str, did: str, sensors: list[str],
                t_s: float) -> list[dict[str, object]]:
        """Report by exception: changed points, and every point each refresh interval."""
        refresh = REFRESH_S.get(did)
        points = super()._points(sid, did, sensors, t_s)
        if refresh is None:
            return points
        full = t_s - self.refreshed.get((sid, did), -1e9) >= refresh
        if full:
            self.refreshed[(sid, did)] = t_s
        out = [p for p in points if full or self.sent.get((sid, str(p["sensor"]))) != p["value"]]
        for p in out:
            self.sent[(sid, str(p["sensor"]))] = float(p["value"])  # type: ignore[arg-type]
        return out

    def _parked(self, vid: str, mo: VehicleMotion, t_s: float, minute: int,
                inc: dict[str, Incident]) -> bool:
        """Parked outside duty hours; an incident of this vehicle takes the drills' course."""
        if inc:
            return super()._parked(vid, mo, t_s, minute, inc)
        duty = self.duty[self.cat.vehicles[vid].vehicle_class]
        return not any(in_window(minute, w) for w in duty) or mo.resting(t_s)


def quiet_day(seed: int = 7) -> Scenario:
    """The normal day as a scenario without incidents: 24 hours from 00:00 local."""
    return Scenario(name="quiet_day", title="正常运行日", start_local="00:00",
                    duration_min=24 * 60, incidents=[], seed=seed)
