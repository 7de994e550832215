"""The drill report from an offline replay of the combined drill: Chinese sections in the
AQ/T 9009 order, names instead of rule ids, times with the year, the timeline's labels,
legend and CJK fonts, the link to the shift report of the drill period."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.decode import Accepted, MessageDecoder
from hazardwatch.simulators.drill import DrillRun
from hazardwatch.simulators.evaluate import evaluate
from hazardwatch.simulators.names import rule_zh, subject_zh
from hazardwatch.simulators.player import ScenarioPlayer, as_received, start_ms
from hazardwatch.simulators.report import write_report
from hazardwatch.simulators.scenario import load_scenario
from hazardwatch.streams.replay import Replayer
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine

CAT = load_catalog("deploy/catalog/demo.yaml")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    sc = load_scenario("combined", CAT)
    start = start_ms(sc, 1_795_400_000_000)
    rules, vrules = load_rules(), load_vehicle_rules()
    decoder = MessageDecoder(CAT)
    raw = []
    for _, msgs in ScenarioPlayer(sc, CAT, rules, vrules, start).steps():
        for m in as_received(msgs):
            assert isinstance(decoder.decode(m.topic, m.payload, m.ts), Accepted)
            raw.append(json.dumps({"topic": m.topic, "payload": m.payload.decode(),
                                   "received_at": m.ts}))
    warnings = list(Replayer(decoder, Engine(CAT, rules), VehicleEngine(CAT, vrules)).run(raw))
    run = DrillRun("drill-test", start, warnings, evaluate(sc, start, warnings), len(raw), 1.0)
    out = tmp_path_factory.mktemp("drill")
    md = write_report(run, sc, CAT, rules, vrules, out)
    return out, md.read_text(encoding="utf-8")


def test_sections_in_order_and_in_chinese(report: tuple[Path, str]) -> None:
    _, md = report
    heads = re.findall(r"^## (.+)$", md, re.M)
    assert heads == ["一、基本情况", "二、参演人员", "三、演练目标", "四、评估", "五、问题与改进",
                     "六、预警时间线", "七、信号曲线", "八、全部预警记录", "九、签字确认"]
    assert "| 演练总指挥 |" in md and "无人员签收、处置" in md


def test_names_not_rule_ids_and_times_with_the_year(report: tuple[Path, str]) -> None:
    _, md = report
    table = [ln for ln in md.splitlines() if ln.startswith("| ") and "检出" in ln]
    assert table and not any(re.search(r"\| [a-z_]+\.[a-z_.0-9]+ \|", ln) for ln in table)
    assert "储罐区可燃气体超限" in md and "呼和浩特石化1号储罐区" in md
    assert re.search(r"演练时间:20\d\d-\d\d-\d\d \d\d:\d\d:\d\d 至 20\d\d-", md)


def test_link_to_the_shift_report_of_the_drill_period(report: tuple[Path, str]) -> None:
    _, md = report
    assert re.search(r"\[shift-drill-all-20\d\d-\d\d-\d\dT\d{4}\.html\]", md)


def test_timeline_labels_legend_and_fonts(report: tuple[Path, str]) -> None:
    out, _ = report
    svg = (out / "timeline.svg").read_text(encoding="utf-8")
    assert "Noto Sans CJK SC" in svg and "Microsoft YaHei" in svg
    assert "注入事件" in svg and all(f"{n}预警" in svg for n in ("一级(红色)", "四级(蓝色)"))
    labels = [(float(x), t) for x, t in re.findall(
        r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end">([^<]+)</text>', svg)
        if t != "场景时间 / 分钟"]
    assert len(labels) >= 5 and "意外预警" in dict((t, x) for x, t in labels)
    for x, text in labels:  # each row label fits left of its end (11 px per CJK character)
        assert sum(11 if ord(c) > 0x2E80 else 6 for c in text) <= x, text


@pytest.mark.parametrize(("rule", "name"), [
    ("tank_farm.gas_combustible.threshold", "储罐区可燃气体超限"),
    ("coal_mine.ch4.threshold", "煤矿甲烷超限"), ("vehicle.jt808.30", "终端报警(第30位)"),
    ("device.offline", "设备离线"), ("new.rule", "new.rule")])
def test_rule_names(rule: str, name: str) -> None:
    assert rule_zh(rule) == name


def test_subject_names() -> None:
    assert subject_zh("vehicle:hz-0003", CAT) == CAT.vehicles["hz-0003"].plate
    assert subject_zh("sensor:tf-hohhot-01/T101-GAS1", CAT).endswith("测点T101-GAS1")


def test_a_warning_cleared_within_the_grouping_wait_is_not_reported_as_a_routing_fault() -> None:
    """Not told because it cleared within the 30 s grouping wait (the drill's clock runs
    ~100× the wall clock): said so, not "核查通知路由"; a 一级 (sent at once) or one that
    stayed longer and was not told still is a routing fault."""
    from hazardwatch.contracts.warnings import WarningRecord
    from hazardwatch.simulators.evaluate import Evaluation, Outcome
    from hazardwatch.simulators.report import problems

    def rec(wid: str, level: int) -> WarningRecord:
        return WarningRecord(wid, "raised", 0, level, "x", "r", "threshold", "s", None, None,
                             None, None, None, None, 0, "m")

    def outcome(wid: str, level: int) -> Outcome:
        return Outcome(wid, f"事件{wid}", "r", "s", level, 60, True, level, 1.0, wid, "m")

    t0 = 1_795_400_000_000
    run = DrillRun("d", t0, [rec("A", 2), rec("B", 1), rec("C", 3)],
                   Evaluation([outcome("A", 2), outcome("B", 1), outcome("C", 3)]), 0, 1.0,
                   raised_at={"A": t0, "B": t0, "C": t0},
                   cleared_at={"A": t0 + 29_000, "B": t0 + 2_000, "C": t0 + 31_000})
    got = problems(run, {}, [])
    assert got[0].startswith("事件A:预警在通知分组等待(30 秒)内已解除")
    assert got[1:3] == [f"事件{x}:预警未送达导调台,核查通知路由" for x in "BC"]
