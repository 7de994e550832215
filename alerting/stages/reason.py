"""Why a due delivery is not sent (now or at all): one enumerated reason per stage outcome."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """A stage's verdict; None from a stage means "pass it on"."""

    CLEARED = "cleared"  # the warning ended before the delivery went out
    ACKNOWLEDGED = "acknowledged"  # someone acknowledged it in the meantime
    HANDLED = "handled"  # 处置 reported: no reminder needed
    INHIBITED_LEVEL1 = "inhibited_level1"  # its site is at 红 on another warning
    INHIBITED_OFFLINE = "inhibited_offline"  # its device is offline
    SILENCED = "silenced"  # a silence or maintenance window covers it
    DELIVERED = "delivered"  # this delivery id already went out (dedup)
    RATE_LIMITED = "rate_limited"  # no token now: held, tried again later
    ROBOT_BUDGET = "robot_budget"  # the robot's messages per minute are used up: held
    ROBOT_THROTTLED = "robot_throttled"  # the robot throttles after a breach: held
    ROBOT_QUOTA = "robot_quota"  # the robot's monthly quota is spent: held

    @property
    def final(self) -> bool:
        """Dropped for good (the series advances) rather than held for later."""
        return self not in _HELD


_HELD = frozenset({Reason.RATE_LIMITED, Reason.ROBOT_BUDGET, Reason.ROBOT_THROTTLED,
                   Reason.ROBOT_QUOTA})
