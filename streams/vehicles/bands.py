"""Overspeed levels by how far over the limit, with hysteresis against GNSS speed noise."""

from __future__ import annotations

from collections.abc import Sequence

from hazardwatch.streams.vehicles.config import Band


def band_level(over_pct: float, bands: Sequence[Band]) -> int | None:
    """The level of a speed over_pct % over its limit; None at or under the limit."""
    level = None
    if over_pct > 0:
        for band in bands:
            if over_pct >= band.over_pct:
                level = band.level
    return level


def speed_level(over_pct: float, bands: Sequence[Band], held: int | None,
                hysteresis_pct: float) -> int | None:
    """The level an overspeed episode should have now.

    A more severe band is taken at once. The level `held` by an active episode is kept until
    the speed is hysteresis_pct below its band (and the episode clears only once the speed
    is that far under the limit), so speed noise around a band edge (JT/T 794: ±2 m/s)
    does not make upgraded/downgraded pairs on every fix.
    """
    level = band_level(over_pct, bands)
    if held is None or (level is not None and level < held):
        return level
    kept = band_level(over_pct + hysteresis_pct, bands)
    return held if kept is not None and kept <= held else kept
