"""Alerting configuration as validated data: people, receivers, channels and the routing tree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from hazardwatch.contracts.yamlfile import load_yaml
from hazardwatch.resources import packaged

DEFAULT_ALERTING = packaged("alerting", "alerting.yaml")
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
ChannelType = Literal["webhook", "dingtalk", "wecom", "feishu", "email", "sms"]
Role = Literal["principal", "technical", "operator"]


class _C(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class Channel(_C, frozen=True):
    """One way to reach a person: a robot or webhook URL (with its secret), an address, a phone."""

    type: ChannelType
    url: str | None = None
    secret: str | None = None
    to: str | None = None  # e-mail address or phone number


class Person(_C, frozen=True):
    """Somebody who can be notified."""

    id: str
    name: str
    channels: list[Channel]


class Shift(_C, frozen=True):
    """Who is on duty in a local-time window (may wrap midnight)."""

    start: HHMM
    end: HHMM
    people: list[str]


class Receiver(_C, frozen=True):
    """A person list, a duty roster, or a role at the warning's site (from the catalog)."""

    id: str
    people: list[str] = msgspec.field(default_factory=list)
    shifts: list[Shift] = msgspec.field(default_factory=list)
    site_role: Role | None = None  # the site's 主要负责人 / 技术负责人 / 操作负责人
    role_channels: list[ChannelType] = msgspec.field(default_factory=lambda: ["sms", "email"])
    company_monitors: bool = False  # the vehicle's company's monitoring staff
    drill: bool = False  # may receive drill notifications (and only these receivers may)


class Step(_C, frozen=True):
    """An escalation step: these receivers, this long after the warning was raised."""

    after_s: float
    receivers: list[str]


class Match(_C, frozen=True):
    """Which warnings a route takes (all given conditions must hold)."""

    level_max: int | None = None  # 1 = only 红; 2 = 红 and 橙 …
    region_prefix: str | None = None
    site_kind: list[str] | None = None
    site: list[str] | None = None
    company: list[str] | None = None
    vehicle: bool | None = None
    drill: bool | None = None


class Route(_C, frozen=True):
    """A node of the routing tree; unset settings are inherited from the parent."""

    name: str
    match: Match = msgspec.field(default_factory=Match)
    escalation: list[Step] | None = None
    repeat_s: float | None = None  # repeat to the notified steps until acknowledged
    reminder_s: float | None = None  # acknowledged but not handled after this → reminder
    group_wait_s: float | None = None  # transitions of one site within this are one message
    rate_per_min: int | None = None  # per receiver
    routes: list[Route] = msgspec.field(default_factory=list)


class Gateways(_C, frozen=True):
    """Shared gateways: SMTP for e-mail and an HTTP SMS gateway."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "hazardwatch@localhost"
    sms_url: str | None = None
    sms_token: str | None = None


class AlertingConfig(_C, frozen=True):
    """Everything the alerting service is configured with."""

    version: Literal[1]
    timezone: str
    public_url: str  # acknowledgement links point here
    link_secret: str  # signs one-time acknowledgement links
    api_tokens: dict[str, str]  # token → who (recorded with every action)
    people: list[Person]
    receivers: list[Receiver]
    route: Route
    drill_receivers: list[str]  # drill warnings go here and only here
    gateways: Gateways = msgspec.field(default_factory=Gateways)


def load_alerting(path: str | Path = DEFAULT_ALERTING) -> AlertingConfig:
    """Load and validate; raise ValueError naming every problem (unknown receivers first)."""
    p = Path(path)
    cfg = load_yaml(p, AlertingConfig)
    people = {x.id for x in cfg.people}
    receivers = {r.id: r for r in cfg.receivers}
    problems = [f"receiver {r.id}: unknown person {x!r}" for r in cfg.receivers
                for x in [*r.people, *(y for s in r.shifts for y in s.people)] if x not in people]
    stack = [cfg.route]
    while stack:
        node = stack.pop()
        stack.extend(node.routes)
        problems += [f"route {node.name}: unknown receiver {x!r}" for s in node.escalation or []
                     for x in s.receivers if x not in receivers]
    problems += [f"drill_receivers: unknown receiver {x!r}" for x in cfg.drill_receivers
                 if x not in receivers]
    problems += [f"drill_receivers: {x!r} is not marked drill: true" for x in cfg.drill_receivers
                 if x in receivers and not receivers[x].drill]
    if not cfg.drill_receivers:
        problems.append("drill_receivers: at least one drill receiver is needed")
    if cfg.route.escalation is None:
        problems.append("route: the root route needs an escalation")
    for person in cfg.people:
        for ch in person.channels:
            if ch.type in ("webhook", "dingtalk", "wecom", "feishu") and not ch.url:
                problems.append(f"person {person.id}: a {ch.type} channel needs a url")
            if ch.type in ("email", "sms") and not ch.to:
                problems.append(f"person {person.id}: an {ch.type} channel needs 'to'")
    if problems:
        raise ValueError(f"{p}: " + "; ".join(problems))
    return cfg
