"""Inhibition stage: a 红 on the site holds back lower levels; an offline device its sensors."""

from __future__ import annotations

from collections.abc import Iterable

from hazardwatch.alerting.stages.reason import Reason
from hazardwatch.alerting.state import Alert
from hazardwatch.contracts.rules import RuleId


def inhibited(a: Alert, others: Iterable[Alert]) -> Reason | None:
    """INHIBITED_* when another active alert makes this one's notice noise, else None."""
    w = a.warning
    for o in others:
        ow = o.warning
        if o is a or not o.active or ow.warning_id == w.warning_id:
            continue
        if w.site_id and ow.site_id == w.site_id and o.level == 1 and a.level > 1:
            return Reason.INHIBITED_LEVEL1
        if (w.sensor and ow.rule == RuleId.DEVICE_OFFLINE and ow.site_id == w.site_id
                and ow.device_id == w.device_id):
            return Reason.INHIBITED_OFFLINE
    return None
