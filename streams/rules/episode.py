"""Warning episodes: persistence, clear delay, level changes, time escalation, flapping.

`step` is a pure function of (policy, prior episode state, wanted level, now). Hysteresis is
the rules' job (they keep a condition active until the value passes its restore value); this
module decides when a condition becomes a raised warning and when it is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from hazardwatch.contracts.rules import Level
from hazardwatch.contracts.warnings import Transition


@dataclass(frozen=True, slots=True)
class Policy:
    """Timing of one rule's episodes (seconds)."""

    persist_s: float = 0.0  # the condition must hold this long before raising
    clear_delay_s: float = 0.0  # and be gone this long before clearing
    escalate_after_s: float | None = 1800.0  # not cleared within → one level up (None: off)
    flap_window_s: float = 600.0  # raises within this window count as flapping …
    flap_max: int = 3  # … from this many on
    flap_hold_s: float = 300.0  # then a flapping episode clears only after this long quiet


class Episode(msgspec.Struct, omit_defaults=True):
    """The state of one rule on one subject; serialisable for Faust tables."""

    active: bool = False
    warning_id: str = ""
    # levels as the int of a Level (RED=1 … BLUE=4), 0 while no episode is open: kept as a
    # plain int so the state's encoding stays a small integer and 0 can mean "none"
    level: int = 0  # current level (after escalation)
    base_level: int = 0  # level the condition asks for
    escalations: int = 0
    started_at: int = 0
    level_since: int = 0
    pending_since: int | None = None  # condition seen, waiting for persistence
    normal_since: int | None = None  # condition gone, waiting for clear delay
    raises: list[int] = msgspec.field(default_factory=list)  # recent raise times (flapping)


@dataclass(frozen=True, slots=True)
class Change:
    """A transition decided by `step`; the engine turns it into a WarningRecord."""

    transition: Transition
    level: Level
    started_at: int
    escalated: bool = False


def settled(ep: Episode, want: int | None) -> bool:
    """Whether `step` with this wanted level would change nothing: no condition and nothing
    pending, or an open episode asked for its own level again (most calls; callers may skip)."""
    if not ep.active:
        return want is None and ep.pending_since is None
    return want == ep.base_level and ep.normal_since is None


def step(policy: Policy, ep: Episode, want: int | None, now: int) -> Change | None:
    """Advance ep to `now` given the level the condition wants (None: condition absent).

    Mutates ep (state in, state out) and returns the transition, if any. Times are epoch ms.
    """
    if settled(ep, want):
        return None
    if not ep.active:
        if want is None:
            ep.pending_since = None
            return None
        if ep.pending_since is None:
            ep.pending_since = now
        if now - ep.pending_since < policy.persist_s * 1000:
            return None
        return _raise(policy, ep, want, now)
    if want is None:
        if ep.normal_since is None:
            ep.normal_since = now
        hold = policy.clear_delay_s
        if len([t for t in ep.raises if now - t <= policy.flap_window_s * 1000]) >= policy.flap_max:
            hold = max(hold, policy.flap_hold_s)
        if now - ep.normal_since < hold * 1000:
            return None
        change = Change("cleared", Level(ep.level), ep.started_at)
        _reset(ep)
        return change
    ep.normal_since = None
    ep.base_level = want
    return _relevel(policy, ep, now, escalate=False)


def tick(policy: Policy, ep: Episode, want: int | None, now: int) -> Change | None:
    """Timers without new input: persistence elapsed, clear delay elapsed, escalation due."""
    if ep.active and want is not None:
        return _relevel(policy, ep, now, escalate=True)
    if ep.active or ep.pending_since is not None:
        return step(policy, ep, want, now)
    return None


def next_due(policy: Policy, ep: Episode) -> int | None:
    """The earliest time at which `tick` may change this episode (None: nothing pending)."""
    if not ep.active:
        return None if ep.pending_since is None else ep.pending_since + int(policy.persist_s * 1000)
    if ep.normal_since is not None:
        return ep.normal_since + int(max(policy.clear_delay_s, 0) * 1000)
    if policy.escalate_after_s is not None and ep.level > 1:
        return ep.level_since + int(policy.escalate_after_s * 1000)
    return None


def due_changes(policy: Policy, ep: Episode, want: int | None,
                now: int) -> list[tuple[Change, int]]:
    """Every timer of ep due at or before `now`, fired at its own due time: (change, time)."""
    out = []
    for _ in range(4):  # at most one escalation step per level
        due = next_due(policy, ep)
        if due is None or due > now:
            break
        change = tick(policy, ep, want, due)
        if change is None:
            break
        out.append((change, due))
    return out


def _raise(policy: Policy, ep: Episode, want: int, now: int) -> Change:
    started = ep.pending_since if ep.pending_since is not None else now
    level = Level(want)  # the level that holds now; a brief worse spike is not a level
    ep.active, ep.level, ep.base_level, ep.escalations = True, level, level, 0
    ep.started_at, ep.level_since, ep.pending_since, ep.normal_since = started, now, None, None
    ep.raises = [t for t in ep.raises if now - t <= policy.flap_window_s * 1000] + [now]
    return Change("raised", level, started)


def _relevel(policy: Policy, ep: Episode, now: int, escalate: bool) -> Change | None:
    due = (policy.escalate_after_s is not None and ep.level > 1
           and now - ep.level_since >= policy.escalate_after_s * 1000)
    if escalate and due:
        ep.escalations += 1
    level = Level(max(1, ep.base_level - ep.escalations))
    if level == ep.level:
        return None
    transition: Transition = "upgraded" if level < ep.level else "downgraded"
    ep.level, ep.level_since = level, now
    return Change(transition, level, ep.started_at, escalated=escalate and due)


def _reset(ep: Episode) -> None:
    raises = ep.raises
    for field in ep.__struct_fields__:
        setattr(ep, field, getattr(Episode(), field))
    ep.raises = raises
