"""Robot budget stage: a chat robot's messages per minute, its throttle after a breach and its
monthly quota (pure: usage in, usage out; `now` passed in)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from hazardwatch.alerting.config import RobotLimits
from hazardwatch.alerting.stages.reason import Reason

MINUTE = 60_000


@dataclass(frozen=True, slots=True)
class RobotUse:
    """What one robot has been sent recently."""

    sent: tuple[int, ...] = ()  # send times within the last minute
    throttled_until: int = 0
    month: str = ""
    month_count: int = 0


def month_of(now: int) -> str:
    """The quota month (UTC+8: the providers' calendar)."""
    return datetime.fromtimestamp(now / 1000 + 8 * 3600, UTC).strftime("%Y-%m")


def room(use: RobotUse, lim: RobotLimits, now: int) -> int:
    """How many messages the robot takes now."""
    if now < use.throttled_until:
        return 0
    used = sum(1 for t in use.sent if t > now - MINUTE)
    left = lim.per_min - used
    if lim.monthly is not None and use.month == month_of(now):
        left = min(left, lim.monthly - use.month_count)
    return max(0, left)


def blocked(use: RobotUse, lim: RobotLimits, now: int) -> Reason | None:
    """ROBOT_THROTTLED / ROBOT_QUOTA / ROBOT_BUDGET when the robot cannot take one now."""
    if now < use.throttled_until:
        return Reason.ROBOT_THROTTLED
    if (lim.monthly is not None and use.month == month_of(now)
            and use.month_count >= lim.monthly):
        return Reason.ROBOT_QUOTA
    return Reason.ROBOT_BUDGET if room(use, lim, now) < 1 else None


def used(use: RobotUse, now: int) -> RobotUse:
    """After one message went out."""
    month = month_of(now)
    return replace(use, sent=(*(t for t in use.sent if t > now - MINUTE), now), month=month,
                   month_count=(use.month_count if use.month == month else 0) + 1)


def throttled(use: RobotUse, lim: RobotLimits, now: int) -> RobotUse:
    """The robot said "too fast": nothing more for its throttle time (a minute at least)."""
    return replace(use, throttled_until=now + int(max(lim.throttle_s, 60) * 1000))
