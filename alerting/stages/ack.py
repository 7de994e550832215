"""Acknowledgement stage: a notice that asks for attention is stale once acknowledged/cleared."""

from __future__ import annotations

from hazardwatch.alerting.plan import Kind
from hazardwatch.alerting.stages.reason import Reason
from hazardwatch.alerting.state import Alert


def stale(a: Alert, kind: Kind) -> Reason | None:
    """CLEARED / ACKNOWLEDGED / HANDLED when the alert no longer needs this kind of notice."""
    if kind == "resolved":
        return None
    if not a.active:
        return Reason.CLEARED
    if kind == "level_change":  # the people told must know, acknowledged or not
        return None
    if kind == "reminder":
        return Reason.HANDLED if a.handled_at is not None else None
    return Reason.ACKNOWLEDGED if a.acked_at is not None else None
