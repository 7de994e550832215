"""Inhibition and silences: why a due notification is not sent (None: send it). Pure."""

from __future__ import annotations

from collections.abc import Iterable

from hazardwatch.alerting.state import Alert, Silence


def suppressed(a: Alert, others: Iterable[Alert], silences: Iterable[Silence],
               now: int) -> str | None:
    """A reason to hold back this alert's notification, or None.

    - a silence or maintenance window covers it;
    - its site is at level 1 (红) on another warning and this one is lower;
    - its device is offline and this is one of the device's sensors.
    """
    for s in silences:
        if s.covers(a, now):
            return f"silenced: {s.reason} ({s.by})"
    w = a.warning
    for o in others:
        ow = o.warning
        if o is a or not o.active or ow.warning_id == w.warning_id:
            continue
        if w.site_id and ow.site_id == w.site_id and o.level == 1 and a.level > 1:
            return f"inhibited: site at level 1 ({ow.rule})"
        if (w.sensor and ow.rule == "device.offline" and ow.site_id == w.site_id
                and ow.device_id == w.device_id):
            return f"inhibited: device {w.device_id} offline"
    return None
