"""Alert state: one alert per warning episode, updated by its transitions and by people.

Pure: `apply_warning` and the action functions take `now` (wall-clock epoch ms) and mutate the
alert (state in, state out). Escalation runs on the alerting service's wall clock, not on the
warning's event time: people are paged in real time, also for a drill replayed from the past.
"""

from __future__ import annotations

import msgspec

from hazardwatch.alerting.config import Channel
from hazardwatch.alerting.workflow.case import Supervision, answer_pending
from hazardwatch.contracts.warnings import WarningRecord


class Told(msgspec.Struct, frozen=True):
    """A person reached on a channel (the resolved notice goes to exactly these)."""

    receiver: str
    person: str
    channel: Channel


class Fallback(msgspec.Struct):
    """A chat notice of an 一级/二级 warning that also goes to SMS and voice if due."""

    receiver: str
    person: str
    phone: str
    at: int  # due from (now: undelivered or held; later: not acknowledged by then)
    done: bool = False


class Alert(msgspec.Struct):
    """A warning episode as the people on duty see it."""

    warning: WarningRecord  # the latest transition
    route: str
    opened_at: int
    level: int
    level_at: int  # when the current level was reached (an upgrade notifies again)
    acked_at: int | None = None
    acked_by: str | None = None
    handled_at: int | None = None
    handled_by: str | None = None
    cause: str | None = None
    action: str | None = None
    cleared_at: int | None = None
    sent: dict[str, list[int]] = msgspec.field(default_factory=dict)  # step key → [n, at]
    told: list[Told] = msgspec.field(default_factory=list)  # actually reached: resolved notice
    done: bool = False  # resolved notice sent (or nobody to tell): archive
    delivered: list[str] = msgspec.field(default_factory=list)  # final delivery ids (dedup)
    fallback: dict[str, Fallback] = msgspec.field(default_factory=dict)  # chat delivery id →
    verdict: str | None = None  # 核查反馈: real, false_alarm, sensor_fault (核查 or 处置)
    verified_at: int | None = None  # the separate 核查 step (POST …/verify)
    verified_by: str | None = None
    verify_note: str | None = None
    closed_at: int | None = None  # 销号 (after 处置 and clearance, by an authorised role)
    closed_by: str | None = None
    supervisions: list[Supervision] = msgspec.field(default_factory=list)  # 督办 (workflow)
    missed: list[str] = msgspec.field(default_factory=list)  # workflow steps past deadline
    downgrades: int = 0  # downgrades so far: each is told as 级别变更 (never as resolved)

    @property
    def active(self) -> bool:
        """Still raised (not cleared)."""
        return self.cleared_at is None

    @property
    def told_receivers(self) -> tuple[str, ...]:
        """Receivers with somebody actually reached (reminders go to these)."""
        return tuple(dict.fromkeys(t.receiver for t in self.told))


class Silence(msgspec.Struct, frozen=True):
    """No notifications for matching alerts between starts and ends (maintenance windows too)."""

    id: str
    starts: int
    ends: int
    by: str
    reason: str
    site: str | None = None
    vehicle: str | None = None
    rule_prefix: str | None = None

    def covers(self, a: Alert, now: int) -> bool:
        """Whether this silence applies to the alert at now."""
        w = a.warning
        return (self.starts <= now < self.ends
                and (self.site is None or w.site_id == self.site)
                and (self.vehicle is None or w.vehicle_id == self.vehicle)
                and (self.rule_prefix is None or w.rule.startswith(self.rule_prefix)))


def apply_warning(alert: Alert | None, w: WarningRecord, route: str, now: int) -> Alert:
    """A transition from hw.warnings; a repeated record (same transition) changes nothing."""
    if alert is None:
        return Alert(w, route, now, w.level, now, cleared_at=now if w.transition == "cleared"
                     else None)
    if (w.transition, w.level, w.ts) == (alert.warning.transition, alert.warning.level,
                                         alert.warning.ts):
        return alert  # the same record again (at-least-once delivery)
    alert.warning = w
    if w.transition == "cleared":
        alert.cleared_at = alert.cleared_at or now
    elif w.level < alert.level:  # upgraded: a new, more urgent episode for the people on duty
        alert.level, alert.level_at = w.level, now
        alert.acked_at = alert.acked_by = None
    else:
        if w.level > alert.level:
            alert.downgrades += 1
        alert.level = w.level
    return alert


class Action(msgspec.Struct, frozen=True):
    """An acknowledgement or a 处置 report, shared between instances (any can take it)."""

    warning_id: str
    what: str  # "ack", "verify", "resolve", "close" or "supervise"
    who: str
    at: int
    cause: str = ""
    action: str = ""
    verdict: str = ""  # 核查反馈 (verify, or with a 处置): real, false_alarm or sensor_fault
    supervision: Supervision | None = None  # a 督办 opened by hand (what == "supervise")
    note: str = ""  # the 核查's note


def apply_action(alert: Alert, act: Action) -> bool:
    """Apply an action; False when it changes nothing (already acknowledged / handled, or
    taken before the current level was reached: an upgrade needs a new acknowledgement)."""
    if act.what == "supervise":  # a 督办 by hand, built by the route from the workflow's rules
        s = act.supervision
        if s is None or alert.handled_at is not None or alert.closed_at is not None or any(
                x.id == s.id for x in alert.supervisions):
            return False
        alert.supervisions.append(s)
        return True
    if act.what == "close":  # 销号: the route checked the role; once, after 处置 and clearance
        if alert.closed_at is not None or alert.handled_at is None or alert.cleared_at is None:
            return False
        alert.closed_at, alert.closed_by = act.at, act.who
        answer_pending(alert.supervisions, act.at, "已销号")  # a 督办 for a late 销号
        return True
    if act.at < alert.level_at:
        return False
    if act.what == "ack":
        return acknowledge(alert, act.who, act.at)
    if alert.handled_at is not None:
        return False
    if act.what == "verify":
        return verify(alert, act.who, act.verdict, act.note, act.at)
    handle(alert, act.who, act.cause, act.action, act.at)
    alert.verdict = act.verdict or alert.verdict  # the 核查's verdict stays unless corrected
    return True


def verify(alert: Alert, who: str, verdict: str, note: str, now: int) -> bool:
    """核查反馈 before the 处置 (acknowledges too); False when it was already given."""
    if alert.verified_at is not None:
        return False
    acknowledge(alert, who, now)
    alert.verified_at, alert.verified_by = now, who
    alert.verdict, alert.verify_note = verdict, note or None
    return True


def acknowledge(alert: Alert, who: str, now: int) -> bool:
    """確認: stops the escalation; False when it was already acknowledged."""
    if alert.acked_at is not None:
        return False
    alert.acked_at, alert.acked_by = now, who
    return True


def handle(alert: Alert, who: str, cause: str, action: str, now: int) -> None:
    """处置 feedback: the cause and the action taken; acknowledges too."""
    acknowledge(alert, who, now)
    alert.handled_at, alert.handled_by, alert.cause, alert.action = now, who, cause, action
    answer_pending(alert.supervisions, now, f"{cause};{action}")
