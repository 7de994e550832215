"""API request bodies as validated data: types, known sites and vehicles, sane durations.
Pure; each failure is a BadRequest with a precise (Chinese) reason for the 400 answer."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

import msgspec

from hazardwatch.alerting.state import Silence
from hazardwatch.contracts.catalog import Catalog

T = TypeVar("T")
MAX_SILENCE_MIN = 7 * 24 * 60  # a week: longer is a configuration change, not a silence
MAX_PAST_MS = 3_600_000  # a silence may start at most an hour ago


class BadRequest(ValueError):
    """The request cannot be used; the message says why."""


class SilenceBody(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/silences."""

    site: str | None = None
    vehicle: str | None = None
    rule_prefix: str | None = None
    reason: str = ""
    minutes: float | None = None
    starts: int | None = None
    ends: int | None = None


class ResolveBody(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/warnings/<id>/resolve: 处置反馈."""

    cause: str
    action: str
    verdict: Literal["real", "false_alarm", "sensor_fault"] | None = None  # 核查反馈 result


class VerifyBody(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/warnings/<id>/verify: 核查反馈 (real / false alarm / sensor fault, a note)."""

    verdict: Literal["real", "false_alarm", "sensor_fault"]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class SuperviseBody(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/warnings/<id>/supervise: a 督办 by hand from a higher level."""

    admin: Literal["county", "city", "province"]
    deadline_s: Annotated[int, msgspec.Meta(gt=0, le=604_800)] | None = None  # default: config


class AckBody(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/warnings/<id>/ack (nothing required)."""

    note: str = ""


def decode(raw: bytes, into: type[T]) -> T:
    """JSON of the given shape, or BadRequest naming the field and the problem."""
    try:
        return msgspec.json.decode(raw or b"{}", type=into)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"请求字段无效: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"请求体不是有效的 JSON: {exc}") from None


def silence(raw: bytes, catalog: Catalog, who: str, now: int, new_id: str) -> Silence:
    """A silence from a request body, checked against the catalog and the clock."""
    b = decode(raw, SilenceBody)
    if b.site is None and b.vehicle is None and not b.rule_prefix:
        raise BadRequest("静默需要 site、vehicle 或 rule_prefix 至少一项")
    if b.rule_prefix is not None and not b.rule_prefix.strip():
        raise BadRequest("rule_prefix 不能为空字符串")
    if b.site is not None and b.site not in catalog.sites:
        raise BadRequest(f"未知场所 site {b.site!r}（不在目录中）")
    if b.vehicle is not None and b.vehicle not in catalog.vehicles:
        raise BadRequest(f"未知车辆 vehicle {b.vehicle!r}（不在目录中）")
    if b.minutes is not None and (b.ends is not None):
        raise BadRequest("minutes 与 ends 只能给出其一")
    starts = now if b.starts is None else b.starts
    if starts < now - MAX_PAST_MS:
        raise BadRequest("starts 早于一小时前")
    if b.ends is not None:
        ends = b.ends
    else:
        minutes = 60.0 if b.minutes is None else b.minutes
        if not 1 <= minutes <= MAX_SILENCE_MIN:
            raise BadRequest(f"minutes 须在 1 到 {MAX_SILENCE_MIN}（7 天）之间")
        ends = starts + int(minutes * 60_000)
    if ends <= starts or ends <= now:
        raise BadRequest("ends 须晚于 starts 和当前时间")
    if ends - starts > MAX_SILENCE_MIN * 60_000:
        raise BadRequest("静默最长 7 天")
    return Silence(id=new_id, starts=starts, ends=ends, by=who, reason=b.reason, site=b.site,
                   vehicle=b.vehicle, rule_prefix=b.rule_prefix)
