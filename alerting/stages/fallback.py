"""Fallback stage: which chat notices of an 一级/二级 warning must now also go to the person's
SMS and a voice call (undelivered, held by a robot, or not acknowledged in time). Pure."""

from __future__ import annotations

from hazardwatch.alerting.state import Alert

LEVEL_MAX = 2  # 一级 and 二级


def needs_fallback(a: Alert) -> bool:
    """Only real (never drill) 一级/二级 warnings that are still raised and unacknowledged."""
    return (not a.warning.drill and a.level <= LEVEL_MAX and a.active
            and a.acked_at is None)


def due(a: Alert, now: int) -> list[str]:
    """The chat delivery ids whose fallback is due now (each is taken once)."""
    if not needs_fallback(a):
        return []
    return [did for did, f in a.fallback.items() if not f.done and now >= f.at]
