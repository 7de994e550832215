"""A computed figure for one scope and period, and its InfluxDB line (measurement `kpi`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KpiRow:
    """figure of scope/id in a period: value = num ÷ den (times: value only)."""

    figure: str
    scope: str  # point, device, site, region, company, vehicle, all
    id: str
    period: str  # day or shift
    start: int
    value: float
    num: float = 0.0
    den: float = 0.0
    level: int | None = None


_TAG = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\="})


def line(r: KpiRow, drill: bool = False) -> str:
    """Line protocol; the same figure, scope and period written twice overwrites (idempotent)."""
    tags = f"kpi,figure={r.figure},scope={r.scope},id={r.id.translate(_TAG)},period={r.period}"
    if r.level is not None:
        tags += f",level={r.level}"
    tags += f",drill={'true' if drill else 'false'}"
    return (f"{tags} value={float(r.value)!r},num={float(r.num)!r},den={float(r.den)!r} "
            f"{r.start}")
