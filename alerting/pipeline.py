"""The send-time pipeline: run when a group is flushed and before every retry, on the alerts as
they are then. Order, top to bottom: acknowledged/cleared → inhibited → silenced → already
delivered; the rate limit (stages/ratelimit.py) then holds what passes until a token is free."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hazardwatch.alerting.plan import Kind
from hazardwatch.alerting.stages.ack import stale
from hazardwatch.alerting.stages.dedup import duplicate
from hazardwatch.alerting.stages.inhibit import Inhibitors, inhibited, inhibitors
from hazardwatch.alerting.stages.reason import Reason
from hazardwatch.alerting.stages.silence import silenced
from hazardwatch.alerting.state import Alert, Silence


@dataclass(frozen=True, slots=True)
class View:
    """What the stages look at: every alert (indexed for inhibition), the silences, the
    delivered ids. Build one per step."""

    alerts: Mapping[str, Alert]
    silences: Sequence[Silence]
    delivered: Callable[[str], bool]
    inhibitors: Inhibitors = field(init=False)

    def __post_init__(self) -> None:
        """Index the inhibiting alerts once."""
        object.__setattr__(self, "inhibitors", inhibitors(self.alerts.values()))


def decide(delivery_id: str, a: Alert, kind: Kind, view: View, now: int) -> Reason | None:
    """The first stage's reason not to send this delivery now, or None: send it."""
    if (why := stale(a, kind)) is not None:
        return why
    if kind != "resolved":  # a resolved notice goes to whoever was told, muted or not
        if (why := inhibited(a, view.inhibitors)) is not None:
            return why
        if (why := silenced(a, view.silences, now)) is not None:
            return why
    return duplicate(delivery_id, view.delivered)
