"""Everything the service will use, checked before it starts: references, time zone, roster
coverage of every hour for every route that needs people, URLs, channel fields, secrets.
Pure: the config and the catalog in, (path, problem) out; the loader adds file and line."""

from __future__ import annotations

import re
import urllib.parse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hazardwatch.alerting.config import AlertingConfig, Receiver, Route
from hazardwatch.clock import in_window, minutes
from hazardwatch.contracts.catalog import Catalog

Where = tuple[str | int, ...]
Problem = tuple[Where, str]
_PHONE = re.compile(r"^\+?[\d\s-]{6,20}$")


def url_problem(url: str) -> str | None:
    """Why a URL cannot be used (None: fine): it needs http(s) and a host."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        return f"{url!r} is not an http(s) URL with a host"
    return None


def roster_gaps(r: Receiver) -> list[tuple[int, int]]:
    """Minute-of-day windows [start, end) when a shift-only receiver has nobody on duty."""
    if r.people or r.site_role or r.company_monitors:
        return []
    covered = [any(s.people and in_window(m, (minutes(s.start), minutes(s.end)))
                   for s in r.shifts) for m in range(1440)]
    gaps, start = [], None
    for m, ok in enumerate([*covered, True]):
        if not ok and start is None:
            start = m
        elif ok and start is not None:
            gaps.append((start, m))
            start = None
    return gaps


def _hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _routes(root: Route) -> list[tuple[Route, Where]]:
    out: list[tuple[Route, Where]] = []
    stack: list[tuple[Route, Where]] = [(root, ("route",))]
    while stack:
        node, at = stack.pop()
        out.append((node, at))
        stack.extend((c, (*at, "routes", i)) for i, c in enumerate(node.routes))
    return out


def check(cfg: AlertingConfig, catalog: Catalog | None = None) -> list[Problem]:
    """Every problem found, in file order as far as practical."""
    out: list[Problem] = []
    try:
        ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        out.append((("timezone",), f"unknown time zone {cfg.timezone!r} (e.g. Asia/Shanghai)"))
    if (why := url_problem(cfg.public_url)) is not None:
        out.append((("public_url",), why))
    people = {x.id for x in cfg.people}
    receivers = {r.id: (i, r) for i, r in enumerate(cfg.receivers)}
    for i, person in enumerate(cfg.people):
        for j, ch in enumerate(person.channels):
            at: Where = ("people", i, "channels", j)
            if ch.type in ("webhook", "dingtalk", "wecom", "feishu"):
                if not ch.url:
                    out.append((at, f"person {person.id}: a {ch.type} channel needs a url"))
                elif (why := url_problem(ch.url)) is not None:
                    out.append(((*at, "url"), f"person {person.id}: {why}"))
            for k, robot in enumerate(ch.pool):
                if ch.type not in ("dingtalk", "wecom", "feishu"):
                    out.append(((*at, "pool"), f"person {person.id}: only robots have a pool"))
                elif (why := url_problem(robot.url)) is not None:
                    out.append(((*at, "pool", k, "url"), f"person {person.id}: {why}"))
            if ch.type in ("email", "sms") and not ch.to:
                out.append((at, f"person {person.id}: an {ch.type} channel needs 'to'"))
            elif ch.type == "email" and "@" not in str(ch.to):
                out.append(((*at, "to"), f"person {person.id}: {ch.to!r} is not an e-mail"))
            elif ch.type == "sms" and not _PHONE.match(str(ch.to)):
                out.append(((*at, "to"), f"person {person.id}: {ch.to!r} is not a phone number"))
    for i, r in enumerate(cfg.receivers):
        for j, x in enumerate(r.people):
            if x not in people:
                out.append((("receivers", i, "people", j),
                            f"receiver {r.id}: unknown person {x!r}"))
        for j, s in enumerate(r.shifts):
            for k, x in enumerate(s.people):
                if x not in people:
                    out.append((("receivers", i, "shifts", j, "people", k),
                                f"receiver {r.id}: unknown person {x!r}"))
    used: dict[str, list[str]] = {}
    for node, at in _routes(cfg.route):
        for j, step in enumerate(node.escalation or []):
            for k, x in enumerate(step.receivers):
                if x not in receivers:
                    out.append(((*at, "escalation", j, "receivers", k),
                                f"route {node.name}: unknown receiver {x!r}"))
                else:
                    used.setdefault(x, []).append(node.name)
        for field, known in (("site", catalog.sites if catalog else None),
                             ("company", catalog.companies if catalog else None)):
            for k, x in enumerate(getattr(node.match, field) or []):
                if known is not None and x not in known:
                    out.append(((*at, "match", field, k),
                                f"route {node.name}: {field} {x!r} is not in the catalog"))
    for x in cfg.drill_receivers:
        used.setdefault(x, []).append("drill_receivers")
    for rid, names in used.items():
        if rid not in receivers:
            continue
        i, r = receivers[rid]
        for start, end in roster_gaps(r):
            out.append((("receivers", i, "shifts"),
                        f"receiver {rid}: nobody on duty {_hhmm(start)}–{_hhmm(end)} "
                        f"({cfg.timezone}), needed by {', '.join(sorted(set(names)))}"))
    for k, x in enumerate(cfg.drill_receivers):
        if x not in receivers:
            out.append((("drill_receivers", k), f"drill_receivers: unknown receiver {x!r}"))
        elif not receivers[x][1].drill:
            out.append((("drill_receivers", k),
                        f"drill_receivers: {x!r} is not marked drill: true"))
    if not cfg.drill_receivers:
        out.append((("drill_receivers",), "at least one drill receiver is needed"))
    if cfg.route.escalation is None:
        out.append((("route",), "the root route needs an escalation"))
    for key in ("sms_url", "voice_url"):
        url = getattr(cfg.gateways, key)
        if url and (why := url_problem(url)) is not None:
            out.append((("gateways", key), why))
    return out


def secret_problems(cfg: AlertingConfig, host: str) -> list[Problem]:
    """Placeholder secrets, refused unless the API and its links stay on this machine."""
    from hazardwatch.alerting.secrets import LOOPBACK, is_loopback_url, is_placeholder

    if is_loopback_url(cfg.public_url) and host in LOOPBACK:
        return []  # the local stack: shipped placeholders are fine
    why = "is a placeholder (shorter than 16 characters or marked local/example/change-me)"
    out: list[Problem] = []
    if is_placeholder(cfg.link_secret):
        out.append((("link_secret",), f"link_secret {why}; set link_secret_file or ${{ENV}}"))
    out += [(("api_tokens", token), f"an API token (of {who}) {why}")
            for token, who in cfg.api_tokens.items() if is_placeholder(token)]
    for i, p in enumerate(cfg.people):
        for j, ch in enumerate(p.channels):
            if ch.secret is not None and is_placeholder(ch.secret):
                out.append((("people", i, "channels", j, "secret"),
                            f"person {p.id}: the {ch.type} secret {why}"))
            for k, robot in enumerate(ch.pool):
                if robot.secret is not None and is_placeholder(robot.secret):
                    out.append((("people", i, "channels", j, "pool", k, "secret"),
                                f"person {p.id}: a pool robot's secret {why}"))
    for key in ("smtp_password", "sms_token", "voice_token", "voice_callback_token"):
        v = getattr(cfg.gateways, key)
        if v is not None and is_placeholder(v):
            out.append((("gateways", key), f"gateways.{key} {why}"))
    return out
