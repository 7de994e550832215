"""Drill participants (pure): who takes which notified warning, when each scripted 签收, 核查,
处置 and 销号 is due, and the score of what they did against the workflow's deadlines (in
Chinese)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hazardwatch.alerting.workflow.config import WorkflowConfig
from hazardwatch.simulators.scenario import Participant

What = Literal["ack", "verify", "resolve", "close"]
LEVEL_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
WHAT_ZH = {"ack": "签收", "verify": "核查", "resolve": "处置", "close": "销号"}


@dataclass(frozen=True, slots=True)
class Act:
    """One scripted action: who, what, on which warning, due at (wall ms)."""

    at: int
    who: str
    what: What
    warning_id: str


@dataclass(frozen=True, slots=True)
class Score:
    """One participant's handling of one warning: times from its push (s) and deadlines."""

    name: str
    role: str
    warning_id: str
    level: int
    ack_s: float | None
    ack_limit_s: int
    handle_s: float | None
    handle_limit_s: int

    @property
    def on_time(self) -> bool:
        """签收 and 处置 both done within their deadlines."""
        return (self.ack_s is not None and self.ack_s <= self.ack_limit_s
                and self.handle_s is not None and self.handle_s <= self.handle_limit_s)


def takers(people: list[Participant], rule: str) -> list[Participant]:
    """The participants told of warnings of this rule (each answers for themselves)."""
    return [p for p in people if p.rules is None or rule in p.rules]


def schedule(people: list[Participant], warning_id: str, rule: str, notified_at: int
             ) -> list[Act]:
    """The scripted actions a notification of a warning causes."""
    out = []
    for p in takers(people, rule):
        steps: tuple[tuple[What, float | None], ...] = (
            ("ack", p.ack_after_s), ("verify", p.verify_after_s),
            ("resolve", p.handle_after_s), ("close", p.close_after_s))
        for what, after in steps:
            if after is not None:
                out.append(Act(notified_at + int(after * 1000), p.name, what, warning_id))
    return sorted(out, key=lambda a: a.at)


def score(people: list[Participant], taken: dict[tuple[str, str], int],
          done: dict[tuple[str, str, What], int], raised_at: dict[str, int],
          cfg: WorkflowConfig) -> list[Score]:
    """Each taken warning ((id, participant) → level) scored from its push (`raised_at`) to
    the 签收 and 处置 the participant got through the API (`done`: (id, who, what) → ms)."""
    role = {p.name: p.role for p in people}
    out = []
    for (wid, name), level in sorted(taken.items(), key=lambda x: (x[0][1], x[0][0])):
        t0, d = raised_at.get(wid), cfg.steps[level]

        def took(what: What, t0: int | None = t0, wid: str = wid, name: str = name
                 ) -> float | None:
            at = done.get((wid, name, what))
            return None if at is None or t0 is None else max(0.0, (at - t0) / 1000)

        out.append(Score(name, role.get(name, ""), wid, level, took("ack"), d.ack_s,
                         took("resolve"), d.handle_s))
    return out


def _cell(took: float | None, limit: int, missing: str) -> str:
    if took is None:
        return f"✗ {missing}"
    return f"{took:.0f} 秒 {'✓ 按时' if took <= limit else '✗ 超时'}"


def assessment_zh(scores: list[Score]) -> list[str]:
    """The report's lines: a table per warning and a verdict per participant."""
    if not scores:
        return []
    lines = ["### 参演人员响应评分(对照处置流程时限)", "",
             "| 人员 | 岗位 | 预警 | 级别 | 签收用时 | 签收时限 | 处置用时 | 处置时限 |",
             "|---|---|---|---|---|---|---|---|"]
    for s in scores:
        lines.append(f"| {s.name} | {s.role} | `{s.warning_id}` | {LEVEL_ZH[s.level]} | "
                     f"{_cell(s.ack_s, s.ack_limit_s, '未签收')} | {s.ack_limit_s} 秒 | "
                     f"{_cell(s.handle_s, s.handle_limit_s, '未处置')} | {s.handle_limit_s} 秒 |")
    lines.append("")
    for name in dict.fromkeys(s.name for s in scores):
        mine = [s for s in scores if s.name == name]
        good = sum(s.on_time for s in mine)
        lines.append(f"- {name}:{good}/{len(mine)} 条预警按时签收并处置,"
                     f"{'合格' if good == len(mine) else '不合格'}")
    return lines
