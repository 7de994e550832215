"""Silence stage: silences and maintenance windows active at `now`."""

from __future__ import annotations

from collections.abc import Iterable

from hazardwatch.alerting.stages.reason import Reason
from hazardwatch.alerting.state import Alert, Silence


def silenced(a: Alert, silences: Iterable[Silence], now: int) -> Reason | None:
    """SILENCED when a silence covers the alert at `now`, else None."""
    return Reason.SILENCED if any(s.covers(a, now) for s in silences) else None
