"""Episode timing: persistence, clear delay, level changes, escalation, flapping (pure)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hazardwatch.streams.rules.episode import Episode, Policy, next_due, step, tick

S = 1000  # ms


def run(policy: Policy, seq: list[tuple[int, int | None]]) -> list[tuple[int, str, int]]:
    ep, out = Episode(), []
    for t, want in seq:
        c = step(policy, ep, want, t)
        if c:
            out.append((t, c.transition, c.level))
    return out


def test_persistence_raises_only_after_the_condition_held() -> None:
    p = Policy(persist_s=10, clear_delay_s=0, escalate_after_s=None)
    assert run(p, [(0, 3), (5 * S, 3), (9 * S, 3), (10 * S, 3)]) == [(10 * S, "raised", 3)]
    # interrupted before persistence: nothing, and the clock restarts
    assert run(p, [(0, 3), (9 * S, None), (12 * S, 3), (21 * S, 3), (22 * S, 3)]) == [
        (22 * S, "raised", 3)]


def test_raise_uses_the_level_that_holds_and_the_onset_time() -> None:
    ep = Episode()
    p = Policy(persist_s=10, escalate_after_s=None)
    step(p, ep, 3, 0)
    step(p, ep, 2, 4 * S)  # a brief spike while pending is not a level of its own
    c = step(p, ep, 3, 10 * S)
    assert c is not None and (c.transition, c.level, c.started_at) == ("raised", 3, 0)


def test_clear_delay_and_level_changes() -> None:
    p = Policy(persist_s=0, clear_delay_s=30, escalate_after_s=None)
    got = run(p, [(0, 3), (10 * S, 2), (20 * S, 3), (30 * S, None), (59 * S, None),
                  (60 * S, None)])
    assert got == [(0, "raised", 3), (10 * S, "upgraded", 2), (20 * S, "downgraded", 3),
                   (60 * S, "cleared", 3)]


def test_condition_returning_within_clear_delay_keeps_one_episode() -> None:
    p = Policy(persist_s=0, clear_delay_s=30, escalate_after_s=None)
    assert run(p, [(0, 3), (10 * S, None), (20 * S, 3), (45 * S, None), (75 * S, None)]) == [
        (0, "raised", 3), (75 * S, "cleared", 3)]


def test_time_escalation_one_level_per_interval_until_red() -> None:
    p = Policy(persist_s=0, escalate_after_s=60)
    ep = Episode()
    step(p, ep, 3, 0)
    assert next_due(p, ep) == 60 * S
    c1 = tick(p, ep, 3, 60 * S)
    assert c1 is not None and (c1.transition, c1.level, c1.escalated) == ("upgraded", 2, True)
    c2 = tick(p, ep, 3, 120 * S)
    assert c2 is not None and c2.level == 1
    assert next_due(p, ep) is None  # red is the top
    c3 = step(p, ep, None, 130 * S)
    assert c3 is not None and c3.transition == "cleared"


def test_flapping_holds_the_episode_open() -> None:
    p = Policy(persist_s=0, clear_delay_s=0, escalate_after_s=None, flap_window_s=600,
               flap_max=3, flap_hold_s=300)
    seq: list[tuple[int, int | None]] = []
    for k in range(6):  # bounce every 10 s
        seq += [(k * 20 * S, 3), (k * 20 * S + 10 * S, None)]
    got = run(p, seq)
    raised = [g for g in got if g[1] == "raised"]
    assert len(raised) == 3  # the third raise makes it flapping: no further clear/raise spam
    assert got[-1][1] == "raised"


@settings(max_examples=300, deadline=None)
@given(persist=st.integers(0, 120), seq=st.lists(
    st.tuples(st.integers(0, 20 * S), st.one_of(st.none(), st.integers(1, 4))),
    min_size=1, max_size=40))
def test_nothing_is_raised_before_its_persistence_time(
        persist: int, seq: list[tuple[int, int | None]]) -> None:
    p = Policy(persist_s=persist, clear_delay_s=5, escalate_after_s=None)
    ep, t, onset = Episode(), 0, None
    for dt, want in seq:
        t += dt
        if want is None:
            if not ep.active:
                onset = None
        elif onset is None and not ep.active:
            onset = t
        c = step(p, ep, want, t)
        if c is not None and c.transition == "raised":
            assert onset is not None and t - onset >= persist * S
            assert c.started_at == onset
            onset = None
