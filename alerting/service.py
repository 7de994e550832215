"""The alerting service: warnings in; plan → group → at flush (and before every retry) the
send-time stages of pipeline.py → rate limit → send/retry.

Every decision takes `now`; the runner's loop only feeds it. Deliveries have ids derived from
the warning, the series and the person-channel, and each is recorded in the store when final,
so a restart neither repeats nor skips one (see docs/alerting.md for the one gap: a crash in
the middle of an HTTP request).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from hazardwatch.alerting.channels.base import Message, Permanent, Retryable, Throttled
from hazardwatch.alerting.config import ROBOT_TYPES, AlertingConfig, Channel, Step
from hazardwatch.alerting.links import ack_link, list_link
from hazardwatch.alerting.pipeline import View, decide
from hazardwatch.alerting.plan import Kind, Planned, finished, next_due, plan, record
from hazardwatch.alerting.recipients import Directory, Recipient
from hazardwatch.alerting.routing import RouteSettings, facts, route_for
from hazardwatch.alerting.stages.fallback import due as fallback_due
from hazardwatch.alerting.stages.fallback import needs_fallback
from hazardwatch.alerting.stages.ratelimit import Bucket, take
from hazardwatch.alerting.stages.reason import Reason
from hazardwatch.alerting.stages.robot_budget import RobotUse, blocked, room, throttled, used
from hazardwatch.alerting.state import (
    Action,
    Alert,
    Fallback,
    Silence,
    Told,
    apply_action,
    apply_warning,
)
from hazardwatch.alerting.statestore import StateStore
from hazardwatch.alerting.texts import body, title
from hazardwatch.alerting.workflow.case import Supervision, supervision_text
from hazardwatch.alerting.workflow.config import WorkflowConfig
from hazardwatch.alerting.workflow.notify import duty_facts, target
from hazardwatch.alerting.workflow.track import event, track_due
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.warnings import WarningRecord

log = logging.getLogger("hazardwatch.alerting")
Send = Callable[[Channel, Message], None]
CHAT = frozenset({"webhook", "dingtalk", "wecom", "feishu"})  # fallback to SMS/voice from these
_alert_codec = (msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder(Alert))


def _rid(ch: Channel) -> str:
    """A robot's id for its budget: a digest of its URL (never the URL: it holds the key)."""
    return hashlib.sha1(str(ch.url).encode()).hexdigest()[:12]


def _copy(a: Alert) -> Alert:
    return _alert_codec[1].decode(_alert_codec[0].encode(a))
Emit = Callable[[dict[str, Any]], None]


@dataclass
class Pending:
    """Deliveries waiting for their group window, a rate-limit token or a retry."""

    recipient: Recipient
    kind: Kind
    items: list[tuple[str, str]] = field(default_factory=list)  # (delivery id, warning id)
    first: int = 0
    wait_ms: int = 0
    attempts: int = 0
    next_try: int = 0
    held: Reason | None = None  # why it waits for a robot (logged once)


class AlertingService:
    """Holds the alerts and turns them into deliveries."""

    def __init__(self, cfg: AlertingConfig, catalog: Catalog, store: StateStore,
                 senders: dict[str, Send], emit: Emit = lambda _e: None) -> None:
        self.cfg, self.catalog, self.store, self.senders, self.emit = (cfg, catalog, store,
                                                                      senders, emit)
        self.directory = Directory(cfg, catalog)
        self.alerts = store.alerts()  # the alerts this instance owns (all, when alone)
        self.others: dict[str, Alert] = {}  # owned by other instances: seen, not acted on
        self.silences = store.silences()  # changed only through silence(): no read per step
        self.pending: dict[tuple[str, str, str], Pending] = {}
        self.open: dict[str, tuple[str, Planned, set[str]]] = {}  # nid → (wid, plan, left)
        self.buckets: dict[str, Bucket] = {}  # rate limit per person-channel
        self.workflow = WorkflowConfig()  # deadlines and 督办 (defaults: docs/alerting.md)
        self.robots: dict[str, RobotUse] = {}  # budget use per chat robot (by URL)
        self.held_notes: set[str] = set()  # 督办 texts whose hold was logged
        self.wake: dict[str, int] = {}  # alert → nothing due before (skipped by _plan)
        self.due: dict[str, int] = {}  # alert → no workflow deadline before (_supervise)
        self._routes: dict[tuple[int, str | None, str | None, bool], RouteSettings] = {}
        self.outbox: list[tuple[Channel, Message, int, int]] = []  # 督办 texts: next try, tries

    # -- input ------------------------------------------------------------------------------

    def on_warning(self, w: WarningRecord, now: int) -> None:
        """Apply one transition (call inside a store transaction)."""
        prior = self.alerts.get(w.warning_id)
        a = apply_warning(prior, w, self.settings_for(w).name, now)
        self.alerts[w.warning_id] = a
        self._changed(w.warning_id)
        self.store.put_alert(a)

    def settings_for(self, w: WarningRecord) -> RouteSettings:
        """The route; a drill warning goes to the drill receivers only, whatever the tree says."""
        key = (w.level, w.site_id, w.vehicle_id, w.drill)
        cached = self._routes.get(key)
        if cached is None:
            cached = self._routes[key] = self._settings(w)
        return cached

    def _settings(self, w: WarningRecord) -> RouteSettings:
        r = route_for(self.cfg.route, facts(w, self.catalog))
        if w.drill:
            return RouteSettings(f"{r.name} [drill]", (Step(0, list(self.cfg.drill_receivers)),),
                                 r.repeat_s, r.reminder_s, r.group_wait_s, r.rate_per_min)
        return r

    # -- the pipeline -----------------------------------------------------------------------

    def step(self, now: int) -> int:
        """Plan, group and send what is due at `now`; returns deliveries sent."""
        with self.store.tx():
            self._supervise(now)
            self._plan(now)
        self._digest(now)
        self._send_outbox(now)
        sent, view = 0, None
        for key in list(self.pending):
            p = self.pending.get(key)
            if p is not None and now >= max(p.first + p.wait_ms, p.next_try):
                if view is None:  # once per step: the stages' view of every alert (one
                    # merged dict: iterating a ChainMap of thousands of kept alerts is slow)
                    view = View({**self.others, **self.alerts}, self.silences,
                                self._delivered)
                sent += self._flush(key, p, now, view)
        return sent

    def _changed(self, wid: str) -> None:
        """The alert changed (or left): plan and run its deadlines again at the next step."""
        self.wake.pop(wid, None)
        self.due.pop(wid, None)

    def _supervise(self, now: int) -> None:
        """督办 for owned alerts past a workflow deadline, pushed up the chain when unanswered
        (alerting/workflow); each one an event on hw.alert-actions and logged in Chinese. An
        alert is looked at only when its next deadline is due or it changed (`due`)."""
        due = self.due
        for wid, a in self.alerts.items():
            if due.get(wid, 0) > now:
                continue
            notices, due[wid] = track_due(a, self.catalog, self.workflow, now)
            for n in notices:
                self.store.put_alert(a)
                self.emit(event(a, n, now))
                log.warning("%s: %s", a.warning.warning_id, n.text)
                self._tell(a, n.text, now)

    def _tell(self, a: Alert, text: str, now: int, sup: Supervision | None = None) -> None:
        """The 【督办】 text to the supervising and the supervised duty through the 督办 routes
        (`match.admin` + region prefix); a drill 督办 goes to the drill receivers only."""
        s, w = sup or a.supervisions[-1], a.warning
        rids: list[str] = []
        for f in duty_facts(s, a.level, w.site_id or "", w.drill, self.catalog):
            t = target(self.cfg.route, f)
            if not t.receivers:
                log.warning("%s: 督办无人可通知(%s级 %s 无督办路由)", s.id, f.admin, f.region)
                self.emit({"action": "unrouted", "warning_id": w.warning_id, "nid": s.id,
                           "receivers": [], "at": now, "drill": w.drill})
            rids += t.receivers
        if w.drill:
            rids = list(self.cfg.drill_receivers)
        site = self.catalog.sites.get(w.site_id or "")
        where = site.name if site else (w.vehicle_id or "")
        for rcp in {x.key: x for rid in dict.fromkeys(rids)
                    for x in self.directory.recipients(rid, w, now)}.values():
            did = f"{s.id}|{rcp.key}"
            if self._delivered(did):
                continue
            full = f"{text}({where},预警 {w.warning_id})"
            msg = Message(did, f"【督办】{where}", full, full,
                          {"kind": "supervise", "receiver": rcp.receiver, "person": rcp.person,
                           "supervision": s.id, "admin": s.admin, "warning_id": w.warning_id,
                           "deadline": s.deadline, "from": s.from_region, "to": s.to_region,
                           "level": a.level, "text": full, "drill": w.drill})
            self.outbox.append((rcp.channel, msg, now, 0))

    def _send_outbox(self, now: int) -> None:
        """Send the 督办 texts due, through the same robot-budget and rate stages as the
        notifications (held while a robot is over its budget, throttled or out of quota, or
        the person's rate is used up: tried every second); a retryable failure is tried again
        (up to 8 times)."""
        keep: list[tuple[Channel, Message, int, int]] = []
        for ch, msg, at, tries in self.outbox:
            if at > now:
                keep.append((ch, msg, at, tries))
                continue
            via = self._gate(ch, msg, now)
            if via is None:
                keep.append((ch, msg, now + 1000, tries))
                continue
            status = "sent"
            try:
                self.senders[via.type](via, msg)
                if via.type in ROBOT_TYPES:
                    self.robots[_rid(via)] = used(self.robots.get(_rid(via), RobotUse()), now)
            except Throttled as exc:  # the robot is out for its throttle time: not an attempt
                self.robots[_rid(via)] = throttled(self.robots.get(_rid(via), RobotUse()),
                                                   self.cfg.limits(via), now)
                keep.append((ch, msg, now + 1000, tries))
                log.warning("督办 %s: %s; robot held", msg.delivery_id, exc)
                continue
            except Retryable as exc:
                if tries + 1 < 8:
                    keep.append((ch, msg, now + min(60_000, 1000 * 2 ** tries), tries + 1))
                    log.warning("督办 %s: %s; 稍后重试", msg.delivery_id, exc)
                    continue
                status = "failed"
            except Exception as exc:  # one bad channel must not stop the others
                log.error("督办 %s 发送失败: %s", msg.delivery_id, exc.__class__.__name__)
                status = "failed"
            with self.store.tx():
                self.store.mark_delivery(msg.delivery_id, status, now)
        self.outbox = keep

    def _gate(self, ch: Channel, msg: Message, now: int) -> Channel | None:
        """The channel a 督办 text goes through now (a robot of the pool with room), or None
        while it is held by the robot budget or the person's rate (logged once per text)."""
        why: Reason | str | None = None
        via: Channel | None = ch
        if ch.type in ROBOT_TYPES:
            via, why = self._robot(ch, now)
        if via is not None:
            key = msg.delivery_id.split("|", 1)[-1]  # the recipient (its notifications' key)
            a = self.alerts.get(str(msg.data.get("warning_id", "")))
            rate = self.settings_for(a.warning).rate_per_min if a else 30
            allowed, self.buckets[key] = take(self.buckets.get(key), rate, now)
            if allowed:
                return via
            why = "rate limit"
        if msg.delivery_id not in self.held_notes:
            self.held_notes.add(msg.delivery_id)
            log.warning("督办 %s held: %s", msg.delivery_id, why)
        return None

    def _digest(self, now: int) -> None:
        """Due groups for one robot that exceed what its pool takes now become one digest."""
        groups: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        for key, p in self.pending.items():
            if (p.recipient.channel.type in ROBOT_TYPES
                    and now >= max(p.first + p.wait_ms, p.next_try)):
                groups.setdefault((p.recipient.key, p.kind), []).append(key)
        for keys in groups.values():
            head = self.pending[keys[0]]
            if len(keys) < 2 or len(keys) <= self._room(head.recipient.channel, now):
                continue
            for key in keys[1:]:
                head.items += self.pending.pop(key).items
            log.info("%s: %d groups merged into one digest (robot budget)",
                     head.recipient.key, len(keys))

    def _pool(self, ch: Channel) -> list[Channel]:
        return [ch, *(Channel(type=ch.type, url=r.url, secret=r.secret) for r in ch.pool)]

    def _room(self, ch: Channel, now: int) -> int:
        lim = self.cfg.limits(ch)
        return sum(room(self.robots.get(_rid(c), RobotUse()), lim, now) for c in self._pool(ch))

    def _robot(self, ch: Channel, now: int) -> tuple[Channel | None, Reason | None]:
        """The first robot of the pool that takes a message now, or why none does."""
        lim, why = self.cfg.limits(ch), None
        for c in self._pool(ch):
            w = blocked(self.robots.get(_rid(c), RobotUse()), lim, now)
            if w is None:
                return c, None
            why = why or w
        return None, why

    def _plan(self, now: int) -> None:
        """Queue what is due; every decision about sending is left to the flush."""
        for wid, a in list(self.alerts.items()):
            if self.wake.get(wid, 0) > now:
                continue  # nothing can be due before then unless the alert changes
            if finished(a) and not any(o[0] == wid for o in self.open.values()):
                del self.alerts[wid]
                self.store.drop_alert(wid)
                self._changed(wid)
                continue
            r = self.settings_for(a.warning)
            self._queue_fallback(wid, a, now)
            for p in plan(a, r, now):
                if p.nid in self.open:
                    continue
                if p.kind in ("resolved", "level_change"):  # exactly the people who were told
                    rcps = [Recipient(t.receiver, t.person, t.channel) for t in a.told]
                else:
                    rcps = [x for rid in p.receivers
                            for x in self.directory.recipients(rid, a.warning, now)]
                left = set()
                for rcp in rcps:
                    did = f"{p.nid}|{rcp.key}"
                    if did in left or self._delivered(did):
                        continue
                    left.add(did)
                    gkey = (rcp.key, p.kind, a.warning.site_id or a.warning.vehicle_id or "")
                    wait = 0 if p.kind == "resolved" else int(r.group_wait_s * 1000)
                    pend = self.pending.get(gkey)
                    if pend is None:
                        pend = self.pending[gkey] = Pending(rcp, p.kind, first=now, wait_ms=wait)
                    pend.wait_ms = min(pend.wait_ms, wait)  # a 红 joining a group goes now
                    pend.items.append((did, wid))
                if left:
                    self.open[p.nid] = (wid, p, left)
                else:
                    if p.kind != "resolved":
                        log.warning("%s: 无人可通知（%s 此刻无人值守或无渠道）", p.nid,
                                    ",".join(p.receivers))
                        self.emit({"action": "unrouted", "warning_id": wid, "nid": p.nid,
                                   "receivers": list(p.receivers), "at": now,
                                   "drill": a.warning.drill})
                    record(a, p, now)
                    self.store.put_alert(a)
            self.wake[wid] = next_due(a, r)

    def _queue_fallback(self, wid: str, a: Alert, now: int) -> None:
        """SMS and a voice call for chat notices of an 一级/二级 that are due for fallback."""
        taken = fallback_due(a, now)
        for fk in taken:
            f = a.fallback[fk]
            f.done = True
            for t in ("sms", "voice"):
                rcp = Recipient(f.receiver, f.person, Channel(type=t, to=f.phone))
                did = f"{wid}:fallback@{fk}|{rcp.key}"
                if self._delivered(did):
                    continue
                gkey = (rcp.key, "alert", f"fallback:{wid}")
                self.pending.setdefault(gkey, Pending(rcp, "alert", first=now)).items.append(
                    (did, wid))
            log.warning("%s: 一级/二级未送达或未确认，转短信和语音呼叫 %s", wid, f.person)
        if taken:
            self.store.put_alert(a)

    def _want_fallback(self, a: Alert | None, p: Pending, now: int, at: int) -> None:
        """Remember a chat notice of an 一级/二级 for SMS and voice from `at` (once per person
        and level; never for drills)."""
        if (a is None or p.kind not in ("alert", "upgrade", "repeat")
                or p.recipient.channel.type not in CHAT or not needs_fallback(a)):
            return
        phone = self.directory.phone(p.recipient.person)
        fk = f"L{a.level}:{p.recipient.person}"
        if phone is None or fk in a.fallback:
            return
        a.fallback[fk] = Fallback(p.recipient.receiver, p.recipient.person, phone, at)
        self._changed(a.warning.warning_id)
        self.store.put_alert(a)

    def _flush(self, key: tuple[str, str, str], p: Pending, now: int, view: View) -> int:
        """Run the stages on every item as it is now; send what passes; 1 if a message went."""
        keep: list[tuple[str, str]] = []
        dropped: list[tuple[str, str, Reason]] = []
        for did, wid in p.items:
            a = self.alerts.get(wid)
            why = Reason.CLEARED if a is None else decide(did, a, p.kind, view, now)
            if why is None:
                keep.append((did, wid))
            else:
                dropped.append((did, wid, why))
        if dropped:
            with self.store.tx():
                for did, wid, why in dropped:
                    self._final(did, wid, "suppressed", p, now, why)
        p.items = keep
        if not keep:
            del self.pending[key]
            return 0
        via = p.recipient.channel
        if via.type in ROBOT_TYPES:
            robot, why = self._robot(via, now)
            if robot is None:  # held: over budget, throttled or out of quota
                if why is not None and p.held != why:
                    p.held = why
                    log.warning("%s held: %s", p.recipient.key, why)
                    with self.store.tx():  # an 一级/二级 held by a robot has reached nobody
                        for _, wid in p.items:
                            self._want_fallback(self.alerts.get(wid), p, now, now)
                return 0
            via = robot
        allowed, self.buckets[p.recipient.key] = take(
            self.buckets.get(p.recipient.key), self._rate(p), now)
        if not allowed:
            return 0
        return self._send(key, p, now, via)

    def _delivered(self, did: str) -> bool:
        a = self.alerts.get(did.split(":", 1)[0])
        return (a is not None and did in a.delivered) or self.store.delivered(did)

    def _rate(self, p: Pending) -> int:
        a = self.alerts.get(p.items[0][1])
        return self.settings_for(a.warning).rate_per_min if a else 30

    def _send(self, key: tuple[str, str, str], p: Pending, now: int, via: Channel) -> int:
        alerts = [self.alerts[w] for _, w in p.items]
        links = [ack_link(self.cfg, w, p.recipient.person, now) for _, w in p.items]
        kind = p.kind
        robot = via.type in ROBOT_TYPES
        limit = self.cfg.limits(via).max_bytes if robot else None
        full = list_link(self.cfg, p.recipient.person, now) if robot else ""
        data = {"kind": kind, "receiver": p.recipient.receiver, "person": p.recipient.person,
                "warnings": [msgspec.to_builtins(a.warning) for a in alerts],
                "ack_links": links, "delivery_ids": [d for d, _ in p.items],
                "list_link": list_link(self.cfg, p.recipient.person, now),
                "drill": any(a.warning.drill for a in alerts)}
        msg = Message(p.items[0][0], title(kind, alerts),
                      body(kind, alerts, links, self.cfg.timezone, False, limit, full),
                      body(kind, alerts, links, self.cfg.timezone, True, limit, full), data)
        status = "sent"
        try:
            self.senders[via.type](via, msg)
            if robot:
                self.robots[_rid(via)] = used(self.robots.get(_rid(via), RobotUse()), now)
        except Throttled as exc:  # this robot is out for its throttle time; not an attempt
            self.robots[_rid(via)] = throttled(self.robots.get(_rid(via), RobotUse()),
                                               self.cfg.limits(via), now)
            p.next_try = now + 1000
            log.warning("%s to %s: %s; robot held", kind, p.recipient.key, exc)
            return 0
        except Retryable as exc:
            p.attempts += 1
            if p.attempts < 8:
                p.next_try = now + min(60_000, 1000 * 2 ** (p.attempts - 1))
                log.warning("%s to %s: %s; retry %d in %d ms", kind, p.recipient.key, exc,
                            p.attempts, p.next_try - now)
                return 0
            status = "failed"
        except Permanent as exc:
            log.error("%s to %s failed for good: %s", kind, p.recipient.key, exc)
            status = "failed"
        except Exception as exc:  # a channel bug must not stop the other notifications
            log.error("%s to %s: unexpected %s, not retried", kind, p.recipient.key,
                      exc.__class__.__name__)
            status = "failed"
        del self.pending[key]
        with self.store.tx():
            for did, wid in p.items:
                self._final(did, wid, status, p, now, None)
        return 1 if status == "sent" else 0

    def _final(self, did: str, wid: str, status: str, p: Pending, now: int,
               why: Reason | None) -> None:
        """A delivery is final: record it, remember who was told, advance its series."""
        self.store.mark_delivery(did, status, now)
        a = self.alerts.get(wid)
        if a is not None:
            a.delivered.append(did)
            told = Told(p.recipient.receiver, p.recipient.person, p.recipient.channel)
            if status == "sent" and told not in a.told:
                a.told.append(told)
            if status in ("sent", "failed"):
                after = self.settings_for(a.warning).fallback_after_s
                self._want_fallback(a, p, now, now + int(after * 1000) if status == "sent"
                                    else now)
            self.store.put_alert(a)
        self._done(did, now)
        event: dict[str, Any] = {
            "action": {"sent": "notified", "failed": "notify_failed"}.get(status, "suppressed"),
            "warning_id": wid, "delivery_id": did, "kind": p.kind,
            "channel": p.recipient.channel.type, "receiver": p.recipient.receiver,
            "person": p.recipient.person, "at": now,
            "warning_ts": a.warning.ts if a else None, "level": a.level if a else None,
            "drill": bool(a and a.warning.drill)}
        if why is not None:
            event["reason"] = str(why)
            log.info("%s not sent: %s", did, why)
        self.emit(event)

    def _done(self, did: str, now: int) -> None:
        nid = did.split("|", 1)[0]
        entry = self.open.get(nid)
        if entry is None:
            return
        wid, p, left = entry
        left.discard(did)
        if not left:
            del self.open[nid]
            self._changed(wid)
            a = self.alerts.get(wid)
            if a is not None:
                record(a, p, now)
                self.store.put_alert(a)

    # -- people -----------------------------------------------------------------------------

    def find(self, warning_id: str) -> Alert | None:
        """The alert, whichever instance owns it."""
        return self.alerts.get(warning_id) or self.others.get(warning_id)

    def act(self, what: str, warning_id: str, who: str, now: int, cause: str = "",
            action: str = "", verdict: str = "", supervision: Supervision | None = None,
            note: str = "") -> Alert | None:
        """ack or resolve (处置 with cause and action) on any instance: applied here when this
        instance owns the alert, else shared through the store for the owner; an event on
        hw.alert-actions. Returns the alert as it is after the action (None: unknown)."""
        rec = Action(warning_id, what, who, now, cause, action, verdict, supervision, note)
        with self.store.tx():
            a = self.alerts.get(warning_id)
            owned = a is not None
            if a is None:
                seen = self.others.get(warning_id)
                if seen is None:
                    return None
                a = _copy(seen)
            if not apply_action(a, rec):
                return a
            if owned:
                self.store.put_alert(a)
                self._respond(a, rec)
                self._changed(warning_id)
            self.store.put_action(rec)
            if supervision is not None:
                self.emit({"action": "supervise", "warning_id": warning_id, "level": a.level,
                           "at": now, "who": f"{supervision.from_region} {who}",
                           "receiver": supervision.to_region, "reason": "人工督办",
                           "delivery_id": supervision.id, "kind": supervision.admin,
                           "deadline": supervision.deadline, "drill": a.warning.drill})
                return a
            self.emit({"action": what, "warning_id": warning_id, "who": who, "at": now,
                       "level": a.level, "cause": cause, "taken": action,
                       "verdict": (verdict or a.verdict) or None, "note": note or None,
                       "site": a.warning.site_id,
                       "vehicle": a.warning.vehicle_id, "drill": a.warning.drill})
        return a

    def on_action(self, rec: Action) -> None:
        """An action taken on another instance, for an alert this one owns."""
        with self.store.tx():
            a = self.alerts.get(rec.warning_id)
            if a is not None and apply_action(a, rec):
                self.store.put_alert(a)
                self._respond(a, rec)
                self._changed(rec.warning_id)

    def _respond(self, a: Alert, rec: Action) -> None:
        if rec.what == "supervise" and rec.supervision is not None:  # by hand: told once, here
            self._tell(a, supervision_text(rec.supervision, a.level, "人工督办"), rec.at,
                       rec.supervision)
            return
        if rec.what in ("close", "supervise", "verify"):
            if rec.what == "verify":  # a 核查 acknowledges too
                self.store.put_response(a.warning.warning_id, "ack", a.level,
                                        (a.acked_at or rec.at) - a.opened_at)
            return
        if rec.what == "resolve":
            self.store.put_response(a.warning.warning_id, "handle", a.level, rec.at - a.opened_at)
        self.store.put_response(a.warning.warning_id, "ack", a.level,
                                (a.acked_at or rec.at) - a.opened_at)

    # -- ownership (several instances) --------------------------------------------------------

    def adopt(self, alerts: dict[str, Alert]) -> None:
        """Take over these alerts (restored from the shared changelog)."""
        for wid, a in alerts.items():
            self.others.pop(wid, None)
            self.alerts[wid] = a
            self._changed(wid)

    def release(self, wids: set[str]) -> None:
        """Hand these alerts over: forget their pending work (the new owner plans it again)."""
        for wid in wids & set(self.alerts):
            self.others[wid] = self.alerts.pop(wid)
            self._changed(wid)
        for key, p in list(self.pending.items()):
            p.items = [x for x in p.items if x[1] not in wids]
            if not p.items:
                del self.pending[key]
        for nid, entry in list(self.open.items()):
            if entry[0] in wids:
                del self.open[nid]

    def silence(self, s: Silence) -> None:
        """Add a silence or maintenance window; an event on hw.alert-actions."""
        with self.store.tx():
            self.store.put_silence(s)
            self.silences.append(s)
            self.emit({"action": "silence", **msgspec.to_builtins(s)})

    def end_silence(self, silence_id: str, who: str, now: int) -> Silence | None:
        """End an active silence now; None when there is none with this id."""
        old = next((x for x in self.silences if x.id == silence_id and x.ends > now), None)
        if old is None:
            return None
        new = msgspec.structs.replace(old, ends=now)
        with self.store.tx():
            self.store.put_silence(new)
            self.silences = [new if x.id == silence_id else x for x in self.silences]
            self.emit({"action": "silence_end", "by_end": who, **msgspec.to_builtins(new)})
        return new

    def stats(self) -> dict[str, dict[str, float]]:
        """Time to acknowledge and to handle per level: count, mean and p90 in seconds."""
        out: dict[str, dict[str, float]] = {}
        groups: dict[str, list[int]] = {}
        for what, level, ms in self.store.responses():
            groups.setdefault(f"{what}.level{level}", []).append(ms)
        for k, v in sorted(groups.items()):
            v.sort()
            out[k] = {"count": len(v), "mean_s": sum(v) / len(v) / 1000,
                      "p90_s": v[min(len(v) - 1, int(0.9 * len(v)))] / 1000}
        return out
