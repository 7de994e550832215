"""The shift hand-over report's content (pure): warnings of the shift, open ones, figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hazardwatch.kpis.periods import BEIJING
from hazardwatch.kpis.rows import KpiRow

LEVEL_ZH = {1: "一级(红色)", 2: "二级(橙色)", 3: "三级(黄色)", 4: "四级(蓝色)"}
VERDICT_ZH = {"real": "属实", "false_alarm": "误报", "sensor_fault": "传感器故障"}
LEVEL_COLOUR = {1: "#d62728", 2: "#ff7f0e", 3: "#e6c300", 4: "#1f77b4"}


@dataclass(frozen=True)
class WarningLine:
    """One warning episode as the shift saw it (times UTC ms)."""

    warning_id: str
    level: int
    message: str
    where: str  # site or vehicle id
    raised_at: int
    cleared_at: int | None = None
    acked_at: int | None = None
    handled_at: int | None = None
    verified_at: int | None = None  # the 核查 step
    verdict: str | None = None  # real, false_alarm, sensor_fault (核查 or 处置)
    pushed_at: int | None = None  # wall time it reached hw.warnings (a drill's raised_at is
    # on its scenario clock, its people's steps on the wall clock)

    def since_push_s(self, t: int) -> float:
        """Seconds from the push (else the raise) to a step at `t` (the figures' rule)."""
        return max(0, t - (self.raised_at if self.pushed_at is None else self.pushed_at)) / 1000

    @property
    def state(self) -> str:
        """处置 state in Chinese, with the 核查 verdict when there is one."""
        if self.handled_at is not None:
            s = "已处置" if self.cleared_at is not None else "已处置(未消除)"
        elif self.cleared_at is not None:
            s = "已消除(未处置)"
        elif self.verified_at is not None:
            s = "已核查"
        else:
            s = "已签收" if self.acked_at is not None else "未签收"
        return f"{s}·{VERDICT_ZH[self.verdict]}" if self.verdict in VERDICT_ZH else s


@dataclass
class ShiftReport:
    """What one shift hands over for one scope."""

    scope: str  # 全部, 场所 X, 地区 Y, 企业 Z
    start: int
    end: int
    warnings: list[WarningLine] = field(default_factory=list)  # raised in the shift
    still_open: list[WarningLine] = field(default_factory=list)  # not cleared or not handled
    figures: list[KpiRow] = field(default_factory=list)
    supervision: list[str] = field(default_factory=list)  # 督办 pending (workflow: issue 17)
    drill: bool = False

    def hourly_by_level(self) -> tuple[list[int], dict[int, list[int]]]:
        """Hour starts of the shift and the warnings raised per hour for each level."""
        hours = list(range(self.start - self.start % 3_600_000, self.end, 3_600_000))
        counts = {lvl: [0] * len(hours) for lvl in LEVEL_ZH}
        for w in self.warnings:
            i = (w.raised_at - hours[0]) // 3_600_000
            if 0 <= i < len(hours):
                counts[w.level if w.level in counts else 4][i] += 1
        return hours, counts


def local(ts: int | None, with_date: bool = True) -> str:
    """Beijing time of a UTC ms, with the year (empty for None)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts / 1000, BEIJING).strftime(
        "%Y-%m-%d %H:%M:%S" if with_date else "%H:%M")


def shift_name(start: int, scope: str, drill: bool) -> str:
    """File stem of a shift report (the drill report links to it by this name)."""
    when = local(start).replace(" ", "T").replace(":", "")[:15]
    return f"shift-{'drill-' if drill else ''}{scope.replace(':', '-')}-{when}"
