"""Drill participants (pure): who takes which notified warning, when each scripted 签收, 核查,
处置 and 销号 is due, and the score of what they did against the workflow's deadlines (in
Chinese)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hazardwatch.alerting.workflow.config import StepDeadlines, WorkflowConfig
from hazardwatch.simulators.scenario import Participant

What = Literal["ack", "verify", "resolve", "close"]
STEPS: tuple[What, ...] = ("ack", "verify", "resolve", "close")
LEVEL_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
WHAT_ZH = {"ack": "签收", "verify": "核查", "resolve": "处置", "close": "销号"}
MISSING_ZH = {"ack": "未签收", "verify": "未核查", "resolve": "未处置", "close": "未销号"}


@dataclass(frozen=True, slots=True)
class Act:
    """One scripted action: who, what, on which warning, due at (wall ms)."""

    at: int
    who: str
    what: What
    warning_id: str


@dataclass(frozen=True, slots=True)
class StepScore:
    """One step of a participant's duty on one warning: seconds from its push (销号: from the
    moment it became possible, the later of the clear and the 处置, as the workflow's
    `close_after_s`) (None: not done) and its deadline."""

    what: What
    took_s: float | None
    limit_s: int | None

    @property
    def on_time(self) -> bool:
        """Done, and within the deadline when there is one."""
        return self.took_s is not None and (self.limit_s is None or self.took_s <= self.limit_s)


@dataclass(frozen=True, slots=True)
class Score:
    """One participant's handling of one warning: the steps that are their duty."""

    name: str
    role: str
    warning_id: str
    level: int
    steps: tuple[StepScore, ...]
    title: str = ""  # the warning's Chinese name and subject (default: its id)

    def step(self, what: What) -> StepScore | None:
        """The step, when it is this participant's duty."""
        return next((s for s in self.steps if s.what == what), None)

    def took(self, what: What) -> float | None:
        """Seconds from the push to the step (None: not done or not their duty)."""
        s = self.step(what)
        return None if s is None else s.took_s

    @property
    def on_time(self) -> bool:
        """Every step of their duty done within its deadline."""
        return all(s.on_time for s in self.steps)


def delays(p: Participant) -> dict[What, float]:
    """The steps a participant is scripted to take, in order: seconds after the push."""
    after: dict[What, float | None] = {"ack": p.ack_after_s, "verify": p.verify_after_s,
                                       "resolve": p.handle_after_s, "close": p.close_after_s}
    return {w: d for w in STEPS if (d := after[w]) is not None}


def duties(p: Participant) -> tuple[What, ...]:
    """The steps a participant answers for: those with a scripted delay; someone scripted
    for nothing is still expected to 签收 and 处置 (and is scored as missing both)."""
    return tuple(delays(p)) or ("ack", "resolve")


def takers(people: list[Participant], rule: str) -> list[Participant]:
    """The participants told of warnings of this rule (each answers for themselves)."""
    return [p for p in people if p.rules is None or rule in p.rules]


def schedule(people: list[Participant], warning_id: str, rule: str, notified_at: int
             ) -> list[Act]:
    """The scripted actions a notification of a warning causes."""
    out = []
    for p in takers(people, rule):
        for what, after in delays(p).items():
            out.append(Act(notified_at + int(after * 1000), p.name, what, warning_id))
    return sorted(out, key=lambda a: a.at)


def limit_of(d: StepDeadlines, what: What) -> int | None:
    """The deadline of a step (seconds from the push; 销号: from when it became possible)."""
    return {"ack": d.ack_s, "verify": d.verify_s, "resolve": d.handle_s,
            "close": d.close_after_s}[what]


def close_from(wid: str, done: dict[tuple[str, str, What], int],
               cleared_at: dict[str, int]) -> int | None:
    """When a warning's 销号 became possible: the later of its clear and its first 处置 (None
    while either is missing): how long the warning stayed raised is not the person's doing."""
    handled = [at for (w, _, what), at in done.items() if w == wid and what == "resolve"]
    cleared = cleared_at.get(wid)
    return None if cleared is None or not handled else max(cleared, min(handled))


def score(people: list[Participant], taken: dict[tuple[str, str], int],
          done: dict[tuple[str, str, What], int], raised_at: dict[str, int],
          cfg: WorkflowConfig, names: dict[str, str] | None = None,
          cleared_at: dict[str, int] | None = None) -> list[Score]:
    """Each taken warning ((id, participant) → level) scored from its push (`raised_at`) to
    each step of the participant's duty they got through the API (`done`: (id, who, what) →
    ms), the 销号 from the later of the warning's clear (`cleared_at`) and its 处置; `names`:
    warning id → its Chinese name for the report."""
    person = {p.name: p for p in people}
    out = []
    for (wid, name), level in sorted(taken.items(), key=lambda x: (x[0][1], x[0][0])):
        t0, d, p = raised_at.get(wid), cfg.steps[level], person.get(name)
        steps = []
        for what in duties(p) if p is not None else ("ack", "resolve"):
            at = done.get((wid, name, what))
            start = close_from(wid, done, cleared_at or {}) if what == "close" else t0
            took = None if at is None or start is None else max(0.0, (at - start) / 1000)
            steps.append(StepScore(what, took, limit_of(d, what)))
        out.append(Score(name, p.role if p else "", wid, level, tuple(steps),
                         (names or {}).get(wid, wid)))
    return out


def _cell(s: StepScore | None) -> str:
    if s is None:
        return "—"
    limit = "无时限" if s.limit_s is None else f"时限 {s.limit_s} 秒"
    if s.took_s is None:
        return f"✗ {MISSING_ZH[s.what]}({limit})"
    ok = "✓ 按时" if s.on_time else "✗ 超时"
    return f"{s.took_s:.0f} 秒 {ok}({limit})"


def assessment_zh(scores: list[Score]) -> list[str]:
    """The report's lines: a table per warning and a verdict per participant."""
    if not scores:
        return []
    lines = ["### 参演人员响应评分(对照处置流程时限,自预警推送起计)", "",
             "| 人员 | 岗位 | 预警 | 级别 | 签收 | 核查 | 处置 | 销号 |",
             "|---|---|---|---|---|---|---|---|"]
    for s in scores:
        lines.append(f"| {s.name} | {s.role} | {s.title or s.warning_id} | {LEVEL_ZH[s.level]} | "
                     + " | ".join(_cell(s.step(w)) for w in STEPS) + " |")
    lines.append("")
    for name in dict.fromkeys(s.name for s in scores):
        mine = [s for s in scores if s.name == name]
        good = sum(s.on_time for s in mine)
        what = "、".join(WHAT_ZH[x.what] for x in mine[0].steps)
        lines.append(f"- {name}:{good}/{len(mine)} 条预警按时完成{what},"
                     f"{'合格' if good == len(mine) else '不合格'}")
    return lines
