"""What is due for an alert at `now`: escalation steps, repeats until acknowledged, reminders
for acknowledged-but-not-handled warnings, 级别变更 after a downgrade (to the people told),
and the resolved notice. Pure; ids deterministic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hazardwatch.alerting.routing import RouteSettings
from hazardwatch.alerting.state import Alert

Kind = Literal["alert", "upgrade", "repeat", "reminder", "resolved", "level_change"]


@dataclass(frozen=True, slots=True)
class Planned:
    """One notification to some receivers; `nid` is the same before and after a restart."""

    nid: str
    key: str  # the series: step<i>@L<level>, reminder, resolved
    n: int  # 0 first, then repeats
    kind: Kind
    receivers: tuple[str, ...]


def plan(a: Alert, r: RouteSettings, now: int) -> list[Planned]:
    """The notifications due now (each series advances one at a time, in order)."""
    wid, out = a.warning.warning_id, []
    if a.active and a.acked_at is None:
        for i, s in enumerate(r.escalation):
            if now < a.level_at + s.after_s * 1000:
                continue
            key = f"step{i}@L{a.level}"
            last = a.sent.get(key)
            if last is None:
                kind: Kind = "upgrade" if a.level_at > a.opened_at else "alert"
                out.append(Planned(f"{wid}:{key}:0", key, 0, kind, tuple(s.receivers)))
            elif r.repeat_s > 0 and now >= last[1] + r.repeat_s * 1000:
                n = last[0] + 1
                out.append(Planned(f"{wid}:{key}:{n}", key, n, "repeat", tuple(s.receivers)))
    if a.active and a.acked_at is not None and a.handled_at is None and r.reminder_s > 0:
        last = a.sent.get("reminder")
        since = last[1] if last else a.acked_at
        if now >= since + r.reminder_s * 1000:
            n = last[0] + 1 if last else 1
            out.append(Planned(f"{wid}:reminder:{n}", "reminder", n, "reminder",
                               a.told_receivers))
    told = a.sent.get("level_change")
    if a.active and a.told and a.downgrades > (told[0] if told else 0):  # 级别变更, not resolved
        out.append(Planned(f"{wid}:level_change:{a.downgrades}", "level_change", a.downgrades,
                           "level_change", a.told_receivers))
    if not a.active and not a.done and a.told and "resolved" not in a.sent:
        out.append(Planned(f"{wid}:resolved:0", "resolved", 0, "resolved", a.told_receivers))
    return out


def next_due(a: Alert, r: RouteSettings) -> int:
    """The earliest time anything may be due for this alert (0: at once); plan() finds
    nothing before it unless the alert changes."""
    told = a.sent.get("level_change")
    if (finished(a) or (not a.active and not a.done and a.told and "resolved" not in a.sent)
            or (a.active and a.told and a.downgrades > (told[0] if told else 0))):
        return 0
    times: list[float] = []
    if a.active and a.acked_at is None:
        for i, s in enumerate(r.escalation):
            last = a.sent.get(f"step{i}@L{a.level}")
            if last is None:
                times.append(a.level_at + s.after_s * 1000)
            elif r.repeat_s > 0:
                times.append(last[1] + r.repeat_s * 1000)
        times += [f.at for f in a.fallback.values() if not f.done]
    if a.active and a.acked_at is not None and a.handled_at is None and r.reminder_s > 0:
        last = a.sent.get("reminder")
        times.append((last[1] if last else a.acked_at) + r.reminder_s * 1000)
    return int(min(times)) if times else 2**62


def record(a: Alert, p: Planned, now: int) -> None:
    """The planned notification is final (sent, failed or deliberately not): advance its series."""
    a.sent[p.key] = [p.n, now]
    if p.kind == "resolved":
        a.done = True


def finished(a: Alert) -> bool:
    """Nothing more will ever be due: cleared, the resolved notice is out (or not needed) and
    the warning is closed (销号). Until then it keeps its workflow deadlines, also when it
    cleared by itself before anyone took it up (its 签收 or 处置 still gets a 督办 when late)."""
    return not a.active and (a.done or not a.told) and a.closed_at is not None
