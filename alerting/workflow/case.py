"""One warning's handling case: steps with their times, 督办 records, deadlines (pure; the
caller passes `now`, so every deadline is testable with an injected clock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from hazardwatch.alerting.accounts import Role
from hazardwatch.alerting.workflow.chain import ADMIN_ZH, duty_of, next_admin
from hazardwatch.alerting.workflow.config import WorkflowConfig

Verdict = Literal["real", "false_alarm", "sensor_fault"]
Step = Literal["ack", "verify", "handle"]
STEP_ZH = {"ack": "签收", "verify": "核查反馈", "handle": "处置", "close": "销号"}
VERDICT_ZH = {"real": "属实", "false_alarm": "误报", "sensor_fault": "传感器故障"}
LEVEL_ZH = {1: "一级(红色)", 2: "二级(橙色)", 3: "三级(黄色)", 4: "四级(蓝色)"}


class WorkflowError(ValueError):
    """A step refused, with the reason in Chinese for the person who tried it."""


@dataclass
class Supervision:
    """A 督办: who asks whom to handle a warning, by when; answered with a 处置."""

    id: str
    warning_id: str
    admin: str  # the level that supervises: county, city, province
    to_region: str  # the duty that must answer: region:CODE of the level below, or site:ID
    from_region: str  # region:CODE of the supervising duty
    opened_at: int
    deadline: int
    by_hand: bool = False
    opened_by: str = ""
    answered_at: int | None = None
    answer: str = ""

    @property
    def pending(self) -> bool:
        """Not answered yet."""
        return self.answered_at is None


def answer_pending(supervisions: list[Supervision], at: int, answer: str) -> None:
    """Answer every pending 督办 (by a 处置 with its cause and action, or by the 销号)."""
    for s in supervisions:
        if s.pending:
            s.answered_at, s.answer = at, answer


@dataclass(frozen=True)
class Notice:
    """Something to tell people (through the alerting routes): kind and Chinese text."""

    kind: Literal["督办", "级别变更"]
    warning_id: str
    to: tuple[str, ...]
    text: str


@dataclass
class Case:
    """The handling of one warning from its push to its 销号."""

    warning_id: str
    level: int
    region: str  # the site's GB/T 2260 code (a company's for vehicles)
    pushed_at: int
    site_id: str = ""  # the enterprise's duty: the first 督办 goes to it
    cleared_at: int | None = None
    acked: tuple[str, int] | None = None
    verified: tuple[str, int, Verdict, str] | None = None
    handled: tuple[str, int, str, str] | None = None
    closed: tuple[str, int] | None = None
    notified: set[str] = field(default_factory=set)
    supervisions: list[Supervision] = field(default_factory=list)
    missed: set[Step | Literal["close"]] = field(default_factory=set)

    # -- the steps ---------------------------------------------------------------------------

    def ack(self, who: str, now: int) -> None:
        """签收."""
        self._open()
        if self.acked is None:
            self.acked = (who, now)

    def verify(self, who: str, verdict: Verdict, note: str, now: int) -> None:
        """核查反馈: real, false alarm or sensor fault, with a note (after 签收)."""
        self._open()
        if self.acked is None:
            raise WorkflowError("请先签收再核查反馈")
        if verdict not in VERDICT_ZH:
            raise WorkflowError(f"核查结论只能是 {'、'.join(VERDICT_ZH.values())}")
        self.verified = (who, now, verdict, note)

    def handle(self, who: str, cause: str, action: str, now: int) -> None:
        """处置 with cause and action (after 核查); answers every pending 督办."""
        self._open()
        if self.verified is None:
            raise WorkflowError("请先核查反馈再处置")
        if not cause.strip() or not action.strip():
            raise WorkflowError("处置需填写原因和措施")
        self.handled = (who, now, cause, action)
        answer_pending(self.supervisions, now, f"{cause};{action}")

    def close(self, who: str, role: Role, now: int, cfg: WorkflowConfig) -> None:
        """销号: by an authorised role, once handled and the warning has cleared."""
        self._open()
        if role not in cfg.close_roles:
            allowed = "或".join(r.value for r in cfg.close_roles)
            raise WorkflowError(f"{role.value}无权销号(需{allowed})")
        if self.handled is None:
            raise WorkflowError("预警尚未处置,不能销号")
        if self.cleared_at is None or self.cleared_at > now:
            raise WorkflowError("预警尚未解除,不能销号")
        self.closed = (who, now)
        answer_pending(self.supervisions, now, "已销号")  # a 督办 for a late 销号

    def _open(self) -> None:
        if self.closed is not None:
            raise WorkflowError("该预警已销号")

    # -- time --------------------------------------------------------------------------------

    def deadline(self, step: Step, cfg: WorkflowConfig) -> int:
        """UTC ms by which a step is due."""
        d = cfg.steps[self.level]
        return self.pushed_at + 1000 * {"ack": d.ack_s, "verify": d.verify_s,
                                        "handle": d.handle_s}[step]

    def done(self, step: Step) -> bool:
        """Whether a step was taken."""
        return {"ack": self.acked, "verify": self.verified, "handle": self.handled}[step] \
            is not None

    def close_deadline(self, cfg: WorkflowConfig) -> int | None:
        """UTC ms by which the 销号 is due: `close_after_s` after it became possible (the
        later of the clear and the 处置); None while it is not possible yet."""
        if self.cleared_at is None or self.handled is None:
            return None
        return max(self.cleared_at, self.handled[1]) + 1000 * cfg.steps[self.level].close_after_s

    def next_deadline(self, cfg: WorkflowConfig) -> int | None:
        """The earliest time `tick` can find something due (None: never): before it, tick
        does nothing unless the case changes (an action, a level, the clear)."""
        if self.closed is not None:
            return None
        times: list[int] = []
        if self.handled is None:
            times += [self.deadline(step, cfg) for step in ("ack", "verify", "handle")
                      if step not in self.missed and not self.done(step)]
        due = self.close_deadline(cfg)
        if due is not None and "close" not in self.missed:
            times.append(due)
        last = self.supervisions[-1] if self.supervisions else None
        if last is not None and last.pending and next_admin(last.admin) is not None:
            times.append(last.deadline)
        return min(times) if times else None

    def tick(self, now: int, cfg: WorkflowConfig) -> list[Notice]:
        """Deadlines passed at `now` (whether the warning is still raised or cleared): a missed
        step opens a 督办 from the county (a missed 销号 too, after the 处置 answered the
        earlier ones); an unanswered 督办 past its deadline is pushed to the next level."""
        if self.closed is not None:
            return []
        out: list[Notice] = []
        for step in ("ack", "verify", "handle"):
            if self.handled is None and step not in self.missed and not self.done(step) and \
                    now >= self.deadline(step, cfg):
                self.missed.add(step)
                if not self.supervisions:
                    out.append(self._supervise("county", now, cfg, f"超时未{STEP_ZH[step]}"))
        due = self.close_deadline(cfg)
        if due is not None and "close" not in self.missed and now >= due:
            self.missed.add("close")
            if not any(s.pending for s in self.supervisions):
                out.append(self._supervise("county", now, cfg, "超时未销号"))
        last = self.supervisions[-1] if self.supervisions else None
        if last is not None and last.pending and now >= last.deadline:
            up = next_admin(last.admin)
            if up is not None:
                out.append(self._supervise(up, now, cfg, f"{ADMIN_ZH[last.admin]}督办逾期未办结"))
        return out

    def supervise_by_hand(self, admin: str, who: str, now: int, cfg: WorkflowConfig,
                          deadline_s: int | None = None) -> Notice:
        """A higher level opens a 督办 itself (its own deadline, else the configured one)."""
        self._open()
        if admin not in cfg.supervision_s:
            raise WorkflowError("督办级别只能是县级、市级或省级")
        return self._supervise(admin, now, cfg, "人工督办", by_hand=True, who=who,
                               deadline_s=deadline_s)

    def _supervise(self, admin: str, now: int, cfg: WorkflowConfig, why: str,
                   by_hand: bool = False, who: str = "", deadline_s: int | None = None
                   ) -> Notice:
        below = {"county": "enterprise", "city": "county", "province": "city"}[admin]
        to_duty = f"site:{self.site_id}" if below == "enterprise" else \
            f"region:{duty_of(self.region, below)}"
        s = Supervision(f"{self.warning_id}:督办{len(self.supervisions) + 1}", self.warning_id,
                        admin, to_duty, f"region:{duty_of(self.region, admin)}", now,
                        now + 1000 * (deadline_s or cfg.supervision_s[admin]), by_hand, who)
        self.supervisions.append(s)
        to = (s.to_region, s.from_region)
        self.notified.update(to)
        return Notice("督办", self.warning_id, to, supervision_text(s, self.level, why))

    def level_change(self, new_level: int, now: int) -> Notice | None:
        """级别变更 (up or down) to everyone already notified; never a resolved notice."""
        if new_level == self.level or self.closed is not None:
            return None
        old, self.level = self.level, new_level
        verb = "升级" if new_level < old else "降级"
        return Notice("级别变更", self.warning_id, tuple(sorted(self.notified)),
                      f"【级别变更】预警由{LEVEL_ZH[old]}{verb}为{LEVEL_ZH[new_level]},"
                      f"仍在处置中({_hhmm(now)})")

    def clear(self, now: int) -> None:
        """The warning cleared (the rule's own clear): 销号 becomes possible."""
        self.cleared_at = now


def supervision_text(s: Supervision, level: int, why: str) -> str:
    """The 【督办】 text: who supervises, the warning's level, why, and by when to answer."""
    return (f"【督办】{ADMIN_ZH[s.admin]}督办 {s.id}:{LEVEL_ZH[level]}预警{why},"
            f"请于 {_hhmm(s.deadline)} 前反馈处置结果")


def _hhmm(ts: int) -> str:
    from datetime import datetime, timedelta, timezone

    return datetime.fromtimestamp(ts / 1000, timezone(timedelta(hours=8))).strftime(
        "%Y-%m-%d %H:%M")
