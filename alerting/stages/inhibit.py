"""Inhibition stage: a 红 on the site holds back lower levels; an offline device its sensors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hazardwatch.alerting.stages.reason import Reason
from hazardwatch.alerting.state import Alert
from hazardwatch.contracts.rules import RuleId


@dataclass(frozen=True, slots=True)
class Inhibitors:
    """The active alerts that inhibit others, indexed (built once per step, not per item)."""

    red: dict[str, frozenset[str]]  # site → warning ids at level 1
    offline: dict[tuple[str, str], frozenset[str]]  # (site, device) → device.offline ids


def inhibitors(alerts: Iterable[Alert]) -> Inhibitors:
    """Index the active 红 warnings by site and the offline devices."""
    red: dict[str, set[str]] = {}
    offline: dict[tuple[str, str], set[str]] = {}
    for o in alerts:
        w = o.warning
        if not o.active or not w.site_id:
            continue
        if o.level == 1:
            red.setdefault(w.site_id, set()).add(w.warning_id)
        if w.rule == RuleId.DEVICE_OFFLINE and w.device_id:
            offline.setdefault((w.site_id, w.device_id), set()).add(w.warning_id)
    return Inhibitors({k: frozenset(v) for k, v in red.items()},
                      {k: frozenset(v) for k, v in offline.items()})


def inhibited(a: Alert, by: Inhibitors) -> Reason | None:
    """INHIBITED_* when another active alert makes this one's notice noise, else None."""
    w = a.warning
    if not w.site_id:
        return None
    if a.level > 1 and by.red.get(w.site_id, frozenset()) - {w.warning_id}:
        return Reason.INHIBITED_LEVEL1
    if w.sensor and w.device_id and by.offline.get((w.site_id, w.device_id),
                                                  frozenset()) - {w.warning_id}:
        return Reason.INHIBITED_OFFLINE
    return None
