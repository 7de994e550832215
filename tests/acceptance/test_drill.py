"""A drill end to end on the real stack: `hazardwatch drill` → report with a verdict."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
import yaml

from hazardwatch.stack.manager import Stack


def _drill(stack: Stack, scenario: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hazardwatch", "drill", scenario, "--out",
                           str(out)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **stack.settings.to_env()})


def _influx(stack: Stack, q: str) -> list[list[Any]]:
    r = requests.post(f"{stack.settings.influx_url}/query", timeout=30, params={
        "q": q, "db": stack.settings.influx_db, "epoch": "ms"})
    series = r.json()["results"][0].get("series", [])
    return [[s.get("tags", {}), *v] for s in series for v in s["values"]]


UNHANDLED = "vehicle.driving.continuous"  # nobody in combined.yaml takes it


def test_combined_drill_goes_through_the_loop_and_one_warning_is_pushed_to_the_city(
        stack: Stack, tmp_path: Path) -> None:
    """The combined drill (`make demo`'s, every source kind) with its participants and its
    drill workflow (deploy/scenarios/workflow/drill.yaml), plus one 值班员 who tries to 销号:
    every incident detected; the 值班员 王磊 签收, 核查 and 处置 every warning but one and the
    带班领导 赵刚 (指挥长 account) 销号 them, all on time, each step on hw.alert-actions in
    InfluxDB; the 值班员's 销号 is refused (403); the warning nobody takes gets a county 督办
    and is pushed to the city (id, level, deadline, from, to), pending in the shift report;
    the figures of the drill period are in InfluxDB and in the shift report, which the drill
    report links; the report scores 签收, 核查, 处置 and 销号 against the deadlines by name."""
    sc = yaml.safe_load(Path("deploy/scenarios/combined.yaml").read_text(encoding="utf-8"))
    assert sc["workflow"] == "workflow/drill.yaml"
    sc["participants"].append({"name": "孙强", "role": "企业值班员", "access": "值班员",
                               "close_after_s": 1.5, "rules": ["camera.fire"]})
    (tmp_path / "workflow").mkdir()
    (tmp_path / "workflow" / "drill.yaml").write_text(Path(
        "deploy/scenarios/workflow/drill.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    scenario = tmp_path / "combined.yaml"
    scenario.write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    t0 = int(time.time() * 1000)
    res = _drill(stack, str(scenario), tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "drill PASSED: 15/15" in res.stdout
    # the dark truck's kept fixes went through the drill gateway as 0x0704 blind-area batches
    uploaded = re.search(r"JT/T 808 终端补传盲区定位 (\d+) 条", res.stdout)
    every_s = sc.get("position_every_s", 30)  # the scenario's default
    assert uploaded and int(uploaded[1]) >= 20 * 60 // every_s - 1, res.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] and not report["unexpected"]
    assert all(w["drill"] for w in report["warnings"])  # drill traffic marked end to end
    rules = {w["warning_id"]: w["rule"] for w in report["warnings"]}
    (late,) = [wid for wid, rule in rules.items() if rule == UNHANDLED]
    handled = set(rules) - {late}
    assert len(handled) == 14, rules
    # the participants, scored step by step against the drill workflow's deadlines
    people: dict[str, list[dict[str, Any]]] = {}
    for p in report["participants"]:
        people.setdefault(p["name"], []).append(p)
    duty, boss = people["王磊"], people["赵刚"]
    assert {p["warning_id"] for p in duty} == handled == {p["warning_id"] for p in boss}
    for p in duty:
        assert p["on_time"] and 0 < p["ack_s"] <= p["verify_s"] <= p["resolve_s"] <= 20, p
        assert (p["ack_limit_s"], p["verify_limit_s"], p["resolve_limit_s"]) == (10, 15, 20)
        assert "close_s" not in p  # not the 值班员's step
    # 销号 timed from when it became possible (clear and 处置), against close_after_s
    assert all(p["on_time"] and 0 < p["close_s"] <= p["close_limit_s"] == 30 for p in boss), boss
    (sun,) = people["孙强"]  # a 值班员 may not 销号: refused by the API (403), not retried
    assert sun["close_s"] is None and not sun["on_time"]
    refused = [e for e in report["stand_in_errors"] if e.startswith("孙强 销号")]
    assert len(refused) == 1 and "无权" in refused[0], report["stand_in_errors"]
    assert [e for e in report["stand_in_errors"] if not e.startswith("孙强")] == []
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "**通过**" in md and "![预警时间线](timeline.svg)" in md
    assert "| 签收 | 核查 | 处置 | 销号 |" in md and "| tank_farm." not in md
    assert "| 王磊 | 企业值班员 | 储罐气体与温度组合(呼和浩特石化1号储罐区 装置T101) | 一级 |" in md
    assert "- 王磊:14/14 条预警按时完成签收、核查、处置,合格" in md
    assert "- 赵刚:14/14 条预警按时完成销号,合格" in md
    assert "- 孙强:0/1 条预警按时完成销号,不合格" in md and "角色 值班员 无权" in md
    # the loop on the real stack, as the sink wrote it: 签收 → 核查 → 处置 → 销号, by whom
    acts = _influx(stack, 'SELECT "who", "verdict" FROM "events_1096d"."alert_action" WHERE '
                          f"drill = true AND time >= {t0}ms GROUP BY \"action\", \"warning_id\"")
    done: dict[str, dict[str, set[str]]] = {}
    for tags, _, who, _verdict in acts:
        done.setdefault(tags["warning_id"], {}).setdefault(tags["action"], set()).add(who)
    for wid in handled:
        steps = done.get(wid, {})
        assert (steps.get("ack"), steps.get("verify"), steps.get("resolve"), steps.get("close")
                ) == ({"王磊"}, {"王磊"}, {"王磊"}, {"赵刚"}), (rules[wid], steps)
    assert set(done.get(late, {})) == {"supervise"}, done.get(late)  # nobody acted on it
    sup = _influx(stack, 'SELECT "delivery_id", "who", "receiver", "deadline" FROM '
                         '"events_1096d"."alert_action" WHERE action = \'supervise\' AND '
                         f"drill = true AND time >= {t0}ms "
                         'GROUP BY "warning_id", "kind", "level"')
    chain = {t["kind"]: (did, who, to, deadline, int(t["level"]))
             for t, _at, did, who, to, deadline in sup if t["warning_id"] == late}
    assert set(chain) == {"county", "city"}, sup  # the city's deadline outlasts the drill
    did, who, to, deadline, level = chain["city"]
    assert did == f"{late}:督办2" and level == 3 and deadline > t0
    assert who.startswith("region:") and who.endswith("00") and to == chain["county"][1]
    assert {t["warning_id"] for t, *_ in sup} == {late}  # no 督办 for the handled ones
    assert f"| {late}:督办2 | 市级督办 | 连续驾驶超时(蒙A·K1002) | 三级(黄色) |" in md
    # the shift report of the drill period: figures, the 核查, the pending 市级督办
    link = md.split("交接班报告:[")[1].split("]")[0]
    shift = (tmp_path / link).read_text(encoding="utf-8")
    assert (tmp_path / link).with_suffix(".pdf").is_file()
    assert "报警处置率" in shift and "已处置·属实" in shift
    assert f"{late}:督办2:市级督办" in shift  # pending
    # this run only (its warnings, people's actions since its start; an earlier run of the
    # scenario, or another drill of the period, does not mix in): only the warning nobody
    # took is still open
    assert "待办督办 2 条" in shift
    still = shift.split("<h2>仍未闭环的预警</h2>")[1].split("<h2>")[0]
    rows = re.findall(r"<tr><td>([\d: -]{19})</td><td>[^<]*</td><td>([^<]*)</td>", still)
    assert [who for _, who in rows] == ["co-0002"], rows
    assert "figures of the drill period:" in res.stdout
    begin = datetime.fromtimestamp(report["start"] / 1000, ZoneInfo("Asia/Shanghai"))
    assert begin.strftime("%H:%M") == "20:00"  # plus this run's second of the minute
    shift_start = int(begin.replace(second=0, microsecond=0).timestamp() * 1000)
    kpi = _influx(stack, 'SELECT "value", "num", "den" FROM "events_1096d"."kpi" WHERE '
                         "drill = 'true' AND figure = 'handled_rate' AND scope = 'all' AND "
                         f"period = 'shift' AND time = {shift_start}ms")  # 20:00: its shift
    assert [(num, den) for *_, num, den in kpi] == [(14, 15)], kpi  # of this run only
    # times from each warning's push (its wall append to hw.warnings), as the drill report's:
    # not from the scenario clock, which lies hours in the past; 及时 by the drill's deadlines
    timely = _influx(stack, 'SELECT "num", "den" FROM "events_1096d"."kpi" WHERE drill = '
                            "'true' AND figure = 'handled_in_time_rate' AND scope = 'all' AND "
                            f"period = 'shift' AND time = {shift_start}ms")
    assert [(num, den) for *_, num, den in timely] == [(14, 15)], timely
    times = _influx(stack, 'SELECT "value" FROM "events_1096d"."kpi" WHERE drill = \'true\' '
                           "AND scope = 'all' AND period = 'shift' AND figure =~ /_p[59]0_s$/ "
                           f'AND time = {shift_start}ms GROUP BY "figure", "level"')
    got = {(t["figure"], int(t["level"])): v for t, _, v in times}
    levels = {lvl for _, lvl in got}
    assert levels and all(("handle_p90_s", lvl) in got for lvl in levels), got
    acks = [p["ack_s"] for p in duty]  # the drill report's own times agree (±1 s)
    for lvl in levels:
        assert 0 < got[("ack_p50_s", lvl)] <= got[("ack_p90_s", lvl)] <= 10, got  # 签收 10 s
        assert got[("handle_p50_s", lvl)] <= got[("handle_p90_s", lvl)] <= 20, got  # 处置 20 s
        assert min(acks) - 1 <= got[("ack_p50_s", lvl)] <= max(acks) + 1, (got, acks)


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
