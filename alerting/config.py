"""Alerting configuration as validated data: people, receivers, channels and the routing tree."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import yaml

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.yamlfile import Loader
from hazardwatch.resources import packaged

DEFAULT_ALERTING = packaged("alerting", "alerting.yaml")
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
ChannelType = Literal["webhook", "dingtalk", "wecom", "feishu", "email", "sms", "voice"]
Role = Literal["principal", "technical", "operator"]


class _C(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


RobotType = Literal["dingtalk", "wecom", "feishu"]
ROBOT_TYPES: frozenset[str] = frozenset({"dingtalk", "wecom", "feishu"})


class RobotLimits(_C, frozen=True):
    """What one chat robot accepts (docs/alerting.md lists the defaults and their sources)."""

    per_min: int  # messages per rolling minute
    throttle_s: float = 0  # after a breach the robot refuses everything this long
    max_bytes: int = 20_000  # request body limit
    monthly: int | None = None  # messages per calendar month (None: no known quota)


# DingTalk: 20/min then 10 min throttled (130101), 20,000-byte body (460101), a monthly quota
# (e.g. 50,000: set your plan's); WeCom: 20/min, markdown content 4,096 bytes; Feishu: 100/min
# (5/s), 20 KB body, "9499 too many request" inside HTTP 200.
DEFAULT_ROBOT_LIMITS: dict[str, RobotLimits] = {
    "dingtalk": RobotLimits(per_min=20, throttle_s=600, max_bytes=20_000, monthly=50_000),
    "wecom": RobotLimits(per_min=20, throttle_s=60, max_bytes=4_096),
    "feishu": RobotLimits(per_min=100, throttle_s=60, max_bytes=20_000),
}


class Robot(_C, frozen=True):
    """One more robot of a pool (the same group, another webhook)."""

    url: str
    secret: str | None = None


class Channel(_C, frozen=True):
    """One way to reach a person: a robot or webhook URL (with its secret), an address, a phone."""

    type: ChannelType
    url: str | None = None
    secret: str | None = None
    to: str | None = None  # e-mail address or phone number
    pool: list[Robot] = msgspec.field(default_factory=list)  # more robots of the same group
    limits: RobotLimits | None = None  # this robot's limits, if not the type's


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
    # 督办 notices only: the duty's administrative level (enterprise, county, city, province);
    # a route with `admin` never takes a warning, only the 督办 of that level
    admin: list[Literal["enterprise", "county", "city", "province"]] | None = None


class Route(_C, frozen=True):
    """A node of the routing tree; unset settings are inherited from the parent."""

    name: str
    match: Match = msgspec.field(default_factory=Match)
    escalation: list[Step] | None = None
    repeat_s: float | None = None  # repeat to the notified steps until acknowledged
    reminder_s: float | None = None  # acknowledged but not handled after this → reminder
    group_wait_s: float | None = None  # transitions of one site within this are one message
    rate_per_min: int | None = None  # per receiver
    fallback_after_s: float | None = None  # 一级/二级 not acknowledged → SMS and voice call
    routes: list[Route] = msgspec.field(default_factory=list)


class Gateways(_C, frozen=True):
    """Shared gateways: SMTP for e-mail and an HTTP SMS gateway."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "hazardwatch@localhost"
    sms_url: str | None = None  # the provider's (or an internal gateway's) send endpoint
    sms_token: str | None = None
    sms_sign: str = ""  # registered signature (签名)
    sms_template: str | None = None  # registered template code: template SMS with parameters
    voice_url: str | None = None  # voice-notification gateway (text-to-speech calls)
    voice_token: str | None = None
    voice_show_number: str = ""  # the caller number shown
    voice_template: str = ""  # registered TTS template code
    voice_callback_token: str | None = None  # the gateway's key-press / SMS-reply callbacks


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
    robot_limits: dict[RobotType, RobotLimits] = msgspec.field(default_factory=dict)

    def limits(self, ch: Channel) -> RobotLimits:
        """The limits of a robot channel: its own, the config's for its type, the defaults."""
        mine = {str(k): v for k, v in self.robot_limits.items()}
        return ch.limits or mine.get(ch.type) or DEFAULT_ROBOT_LIMITS[ch.type]


class AlertingConfigError(ValueError):
    """The alerting config cannot be used; `problems` lists each as 'file:line: problem'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} alerting config problem(s):\n" + "\n".join(problems))
        self.problems = problems


def load_alerting(path: str | Path = DEFAULT_ALERTING, *, catalog: Catalog | None = None,
                  env: Mapping[str, str] | None = None) -> AlertingConfig:
    """Load, resolve secrets (`${ENV}`, `*_file`) and check everything the service will use;
    raise AlertingConfigError naming every problem with file and line."""
    from hazardwatch.alerting.check import check
    from hazardwatch.alerting.secrets import resolve
    from hazardwatch.alerting.yamllines import line_map, line_of, parse_path

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        raw = yaml.load(text, Loader=Loader)  # a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise AlertingConfigError([f"{p}: {exc}"]) from None
    lines = line_map(text)
    raw, found = resolve(raw, os.environ if env is None else env, p.parent)
    problems = [f"{p}:{line_of(lines, at)}: {why}" for at, why in found]
    try:
        cfg = msgspec.convert(raw, AlertingConfig)
    except msgspec.ValidationError as exc:
        msg, _, where = str(exc).rpartition(" - at `")
        at = parse_path(where.rstrip("`")) if msg else ()
        problems.append(f"{p}:{line_of(lines, at)}: {exc}")
        raise AlertingConfigError(problems) from None
    problems += [f"{p}:{line_of(lines, at)}: {why}" for at, why in check(cfg, catalog)]
    if problems:
        raise AlertingConfigError(problems)
    return cfg
