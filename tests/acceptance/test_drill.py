"""A drill end to end on the real stack: `hazardwatch drill` → report with a verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from hazardwatch.stack.manager import Stack


def _drill(stack: Stack, scenario: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hazardwatch", "drill", scenario, "--out",
                           str(out)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **stack.settings.to_env()})


WORKFLOW = """# short deadlines for a drill played ~100x faster than the wall clock (seconds)
steps:
  1: {ack_s: 30, verify_s: 40, handle_s: 50}
  2: {ack_s: 2, verify_s: 3, handle_s: 4}
  3: {ack_s: 2, verify_s: 3, handle_s: 4}
  4: {ack_s: 2, verify_s: 3, handle_s: 4}
supervision_s: {county: 2, city: 2, province: 2}
"""


def _influx(stack: Stack, q: str) -> list[list[Any]]:
    r = requests.post(f"{stack.settings.influx_url}/query", timeout=30, params={
        "q": q, "db": stack.settings.influx_db, "epoch": "ms"})
    series = r.json()["results"][0].get("series", [])
    return [[s.get("tags", {}), *v] for s in series for v in s["values"]]


def test_tank_farm_drill_goes_through_the_whole_loop_and_writes_the_report(
        stack: Stack, tmp_path: Path) -> None:
    """The tank-farm drill with a short test workflow: every incident detected; 张三 签收,
    核查, 处置 and 销号 the 一级 warning through the API; a warning nobody handles is pushed to
    the city (市级督办 on hw.alert-actions and pending in the shift report); the figures of the
    drill period are in InfluxDB (kpi, drill=true) and in the shift report, which the drill
    report links."""
    (tmp_path / "workflow.yaml").write_text(WORKFLOW, encoding="utf-8")
    scenario = tmp_path / "tank_farm.yaml"
    scenario.write_text(Path("deploy/scenarios/tank_farm.yaml").read_text(encoding="utf-8")
                        + "workflow: workflow.yaml\n", encoding="utf-8")
    t0 = int(time.time() * 1000)  # (earlier drills of the same scenario share its ids)
    res = _drill(stack, str(scenario), tmp_path)
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
    # the loop on the real stack, as the sink wrote it: 签收 → 核查 → 处置 → 销号
    wid, since = duty["warning_id"], report["start"] - 86_400_000
    acts = _influx(stack, f'SELECT "who", "verdict" FROM "events_1096d"."alert_action" WHERE '
                          f"warning_id = '{wid}' AND drill = true AND time >= {t0}ms "
                          'GROUP BY "action"')
    assert {t["action"] for t, *_ in acts} >= {"ack", "verify", "resolve", "close"}, acts
    assert [v for t, _, who, v in acts if t["action"] == "verify"] == ["real"]
    city = _influx(stack, 'SELECT "receiver" FROM "events_1096d"."alert_action" WHERE '
                          f"action = 'supervise' AND kind = 'city' AND drill = true AND "
                          f"time >= {t0}ms GROUP BY \"warning_id\"")
    assert any(t["warning_id"] != wid for t, *_ in city), "no warning pushed to the city"
    shift = (tmp_path / (md.split("交接班报告:[")[1].split("]")[0])).read_text(encoding="utf-8")
    assert "报警处置率" in shift and "已处置·属实" in shift  # the period's figures and 核查
    assert "市级督办" in shift  # pending (the drill's report takes actions up to the end)
    assert "figures of the drill period:" in res.stdout
    kpi = _influx(stack, 'SELECT "value" FROM "events_1096d"."kpi" WHERE drill = \'true\' AND '
                         f"figure = 'handled_rate' AND scope = 'site' AND id = 'tf-hohhot-01' "
                         f"AND time >= {since}ms")
    assert kpi and all(0 < r[2] <= 1 for r in kpi)


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
