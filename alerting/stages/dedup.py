"""Dedup stage: a delivery id that already went out is never sent again."""

from __future__ import annotations

from collections.abc import Callable

from hazardwatch.alerting.stages.reason import Reason


def duplicate(delivery_id: str, delivered: Callable[[str], bool]) -> Reason | None:
    """DELIVERED when the id is recorded as final, else None."""
    return Reason.DELIVERED if delivered(delivery_id) else None
