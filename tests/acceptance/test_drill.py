"""A drill end to end on the real stack: `hazardwatch drill` → report with a verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hazardwatch.stack.manager import Stack


def _drill(stack: Stack, scenario: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hazardwatch", "drill", scenario, "--out",
                           str(out)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **stack.settings.to_env()})


def test_tank_farm_drill_detects_every_incident_and_writes_the_report(
        stack: Stack, tmp_path: Path) -> None:
    res = _drill(stack, "tank_farm", tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "drill PASSED: 5/5" in res.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] and not report["unexpected"]
    by_rule = {o["rule"]: o for o in report["outcomes"]}
    assert by_rule["combo.tank.gas_and_heat"]["level"] == 1
    assert 0 <= by_rule["camera.fire"]["latency_s"] <= 30
    assert all(w["drill"] for w in report["warnings"])  # drill traffic marked end to end
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "**通过**" in md and "✓ 检出" in md and "![预警时间线](timeline.svg)" in md
    assert "储罐区可燃气体超限" in md and "| tank_farm." not in md  # names, not rule ids
    assert (tmp_path / (md.split("交接班报告:[")[1].split("]")[0])).is_file()
    # participants played through the real API, scored against the workflow deadlines
    people = {p["name"]: p for p in report["participants"]}
    assert len(report["participants"]) == 2, report["participants"]
    duty = people["张三"]
    assert duty["on_time"] and 0 < duty["ack_s"] < duty["handle_s"] < 60, duty
    assert people["刘洋"]["ack_s"] is None and not people["刘洋"]["on_time"]
    assert "参演人员响应评分" in md and "- 刘洋:0/1 条预警按时签收并处置,不合格" in md
    assert "- 张三:1/1 条预警按时签收并处置,合格" in md and "未成功" not in md
    svg = (tmp_path / "signal-tf-hohhot-01-T101-GAS1.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "polyline" in svg and "hh 50" in svg


def test_a_drill_whose_expectation_is_wrong_fails_with_exit_1(
        stack: Stack, tmp_path: Path) -> None:
    src = Path("deploy/scenarios/coal_mine.yaml").read_text(encoding="utf-8")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(src.replace("level: 2, within_s: 180", "level: 1, within_s: 180"),
                     encoding="utf-8")
    res = _drill(stack, str(wrong), tmp_path / "out")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "drill FAILED: 1/2" in res.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    bad = [o for o in report["outcomes"] if not o["ok"]]
    assert [(o["rule"], o["detected"], o["level"]) for o in bad] == [
        ("coal_mine.ch4.threshold", True, 2)]
