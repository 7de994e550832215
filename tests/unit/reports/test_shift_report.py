"""The shift report from a hand-made shift: states, scope, HTML with plots, a PDF whose
Chinese text is embedded and extractable (poppler's pdftotext and pdffonts)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.kpis.periods import parse_time
from hazardwatch.kpis.rows import KpiRow
from hazardwatch.reports.plots import response, svg
from hazardwatch.reports.read import in_scope
from hazardwatch.reports.render import to_html, to_pdf
from hazardwatch.reports.shift import ShiftReport, WarningLine

MIN = 60_000
T0 = parse_time("2026-11-30T08:00:00")
CAT = load_catalog("deploy/catalog/demo.yaml")


def report() -> ShiftReport:
    w = [WarningLine("w1", 1, "1号储罐可燃气体浓度 26 %LEL", "tf-hohhot-01", T0 + 5 * MIN,
                     T0 + 30 * MIN, T0 + 7 * MIN, T0 + 25 * MIN),
         WarningLine("w2", 3, "甲烷浓度 0.9%", "cm-ordos-01", T0 + 65 * MIN, None, T0 + 70 * MIN),
         WarningLine("w3", 2, "车辆超速", "hz-0003", T0 + 125 * MIN)]
    return ShiftReport("全部", T0, T0 + 12 * 60 * MIN, warnings=w, still_open=w[1:],
                       figures=[KpiRow("online_rate_point", "all", "all", "shift", T0, 0.975,
                                       1, 1),
                                KpiRow("ack_p50_s", "all", "all", "shift", T0, 120.0, level=1)])


@pytest.mark.parametrize(("w", "state"), [
    (0, "已处置"), (1, "已签收"), (2, "未签收")])
def test_states(w: int, state: str) -> None:
    assert report().warnings[w].state == state


def test_hourly_counts_by_level() -> None:
    hours, counts = report().hourly_by_level()
    assert len(hours) == 12 and counts[1][0] == 1 and counts[3][1] == 1 and counts[2][2] == 1
    assert sum(map(sum, counts.values())) == 3


@pytest.mark.parametrize(("scope", "site", "vehicle", "want"), [
    ("all", "x", "", True), ("site:tf-hohhot-01", "tf-hohhot-01", "", True),
    ("site:tf-hohhot-01", "cm-ordos-01", "", False), ("region:15", "tf-hohhot-01", "", True),
    ("region:1501", "tf-hohhot-01", "", True), ("region:32", "tf-hohhot-01", "", False),
    ("company:nm-hazmat-01", "", "hz-0003", True), ("company:nm-coach-01", "", "hz-0003", False),
    ("region:150102", "", "hz-0003", True)])
def test_scope(scope: str, site: str, vehicle: str, want: bool) -> None:
    assert in_scope(CAT, scope, site, vehicle) is want


def test_html_has_years_states_plots_and_a_cjk_font() -> None:
    page = to_html(report())
    assert "交接班报告:全部,2026-11-30 08:00:00 至 2026-11-30 20:00:00" in page
    assert page.count("<svg") == 3 and "Noto Sans CJK SC" in page
    assert "一级(红色)" in page and "未签收" in page and "97.50%" in page and "2.0 分钟" in page


def test_a_drills_seconds_are_shown_as_seconds() -> None:
    """A drill's stand-ins take seconds: "0.4 秒", not "0.0 分钟"; the plot in seconds too."""
    r = report()
    r.figures = [KpiRow("ack_p50_s", "all", "all", "shift", T0, 0.44, level=1),
                 KpiRow("handle_p90_s", "all", "all", "shift", T0, 61.0, level=2)]
    page = to_html(r)
    assert "<td>0.4 秒</td>" in page and "<td>1.0 分钟</td>" in page
    assert "<td>0.0 分钟</td>" not in page
    drawn = svg(response(r))
    assert "秒" in drawn and "分钟" not in drawn  # under two minutes: the axis in seconds
    r.figures.append(KpiRow("handle_p90_s", "all", "all", "shift", T0, 600.0, level=3))
    assert "分钟" in svg(response(r))


def test_step_times_count_from_the_push_on_one_clock() -> None:
    """A live warning's 签收/处置 show their time since the raise; a drill's (raised on its
    past scenario clock, acted on in wall time) since its push, not 24 h."""
    day = 24 * 60 * MIN
    drill = WarningLine("d1", 2, "演练:储罐液位高", "tf-hohhot-01", T0 - day, None,
                        T0 + 400, T0 + 1_100, pushed_at=T0)
    r = report()
    r.warnings.append(drill)
    page = to_html(r)
    assert "(用时 2.0 分钟)" in page and "(用时 20.0 分钟)" in page  # w1: 7 and 25 min − 5
    assert "(用时 0.4 秒)" in page and "(用时 1.1 秒)" in page
    assert "1440" not in page and "用时 -" not in page


def test_pdf_embeds_the_chinese_it_shows(tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    to_pdf(report(), path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "交接班报告" in text and "仍未闭环的预警" in text and "甲烷浓度" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    assert "NotoSansCJK" in fonts
