"""Vehicle figures (上线率, 轨迹完整率, 漂移率) from the engine's day counters; the stretch rule.

The vehicle engine counts per vehicle and day (hw.vehicle-daily); this module is the only
place that turns those counters into rates, and `stretch_complete` is the one rule that the
engine applies to each stretch between two good fixes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hazardwatch.contracts.daily import VehicleDayRecord
from hazardwatch.kpis.figures import ratio


def stretch_complete(dt_ms: int, dist_m: float, gap_ms: int, gap_m: float) -> bool:
    """A stretch between two good fixes is complete unless longer than the gap time or distance."""
    return dt_ms <= gap_ms and dist_m <= gap_m


@dataclass(frozen=True)
class VehicleFigures:
    """Rates of a set of vehicles (a company, a region, all) over a set of days."""

    vehicles: int
    online: int
    positions: int
    drift: int
    complete_m: float
    incomplete_m: float

    @property
    def online_rate(self) -> float | None:
        """上线率."""
        return ratio(self.online, self.vehicles)

    @property
    def track_complete_rate(self) -> float | None:
        """轨迹完整率."""
        return ratio(self.complete_m, self.complete_m + self.incomplete_m)

    @property
    def drift_rate(self) -> float | None:
        """漂移率."""
        return ratio(self.drift, self.positions)


def vehicle_figures(days: Iterable[VehicleDayRecord], catalogued: int) -> VehicleFigures:
    """Figures of `catalogued` vehicles from their day records (a vehicle without one: offline)."""
    online: set[str] = set()
    positions = drift = 0
    complete = incomplete = 0.0
    for d in days:
        if d.positions > d.drift:
            online.add(d.vehicle_id)
        positions += d.positions
        drift += d.drift
        complete += d.complete_m
        incomplete += d.incomplete_m
    return VehicleFigures(catalogued, len(online), positions, drift, complete, incomplete)
