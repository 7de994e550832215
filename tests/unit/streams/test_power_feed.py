"""馈电异常 (streams/rules/kinds/power_feed.py): power still fed where CH4 asks for a cut."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hazardwatch.contracts.catalog import Catalog, load_catalog
from hazardwatch.contracts.records import PointRecord, TelemetryRecord
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.rules.kinds import KINDS
from hazardwatch.streams.rules.kinds.power_feed import compile_power_feed
from hazardwatch.streams.rules.state import SiteState, dump_state, load_state

T0 = 1_795_000_000_000
MINE, FACE = "cm-ordos-01", "WF-3102"


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The demo catalog with a feed sensor (馈电传感器) on working face 3102."""
    doc = yaml.safe_load(Path("deploy/catalog/demo.yaml").read_text(encoding="utf-8"))
    mine = next(s for s in doc["sites"] if s["id"] == MINE)
    mine["devices"][0]["sensors"].append({"id": "WF3102-KD", "metric": "feed", "unit": "on",
                                          "plant_unit": FACE})
    path = tmp_path_factory.mktemp("cat") / "demo-feed.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_catalog(path)


def run(cat: Catalog, seconds: int, ch4: object, feed: object,
        every_s: int = 5) -> list[WarningRecord]:
    """The substation polling every 5 s; values may be functions of the second. State goes
    through its bytes on every event, as in the worker."""
    e, data, out = Engine(cat, load_rules()), dump_state(SiteState()), []
    for t in range(0, seconds, every_s):
        ts = T0 + t * 1000
        pts = [PointRecord("WF3102-T1", float(ch4(t) if callable(ch4) else ch4), ts),  # type: ignore[arg-type]
               PointRecord("WF3102-KD", float(feed(t) if callable(feed) else feed), ts)]  # type: ignore[arg-type]
        st = load_state(data)
        out += e.on_record(st, TelemetryRecord(site_id=MINE, device_id="kj-sub-01", ts=ts,
                                               points=pts, received_at=ts), ts)
        out += e.on_tick(st, MINE, ts + 1000)
        data = dump_state(st)
    return [w for w in out if w.rule == "coal_mine.power_feed"]


def test_the_kind_is_registered_and_compiled_only_where_feeds_and_cuts_meet(
        cat: Catalog) -> None:
    assert compile_power_feed in KINDS
    rules = load_rules()
    assert [r.key for r in compile_power_feed(cat.sites[MINE], rules)] == ["power_feed:WF-3102"]
    assert compile_power_feed(load_catalog("deploy/catalog/demo.yaml").sites[MINE], rules) == []


def test_power_still_fed_at_the_cut_concentration_is_raised_red_then_cleared(
        cat: Catalog) -> None:
    # CH4 1.6 %CH4 (T1 cut 1.5) from 60 s; the power goes off only at 120 s
    out = run(cat, 200, lambda t: 1.6 if t >= 60 else 0.3, lambda t: 0 if t >= 120 else 1)
    brief = [(w.transition, w.level, w.ts - T0) for w in out]
    assert brief == [("raised", 1, 70_000), ("cleared", 1, 130_000)]
    raised = out[0]
    assert raised.plant_unit == FACE and raised.kind == "power_feed"
    assert raised.value == 1.6 and raised.threshold == 1.5
    assert "馈电异常" in raised.message and "WF3102-KD 仍显示有电" in raised.message
    assert "馈电状态恢复正常" in out[1].message


def test_a_cut_executed_in_time_and_feed_without_cut_raise_nothing(cat: Catalog) -> None:
    assert run(cat, 200, lambda t: 1.6 if t >= 60 else 0.3, lambda t: 0 if t >= 65 else 1) == []
    assert run(cat, 200, 0.3, 1) == []  # powered, no cut wanted
    assert run(cat, 200, 1.6, 0) == []  # cut and off


def test_the_cut_holds_until_ch4_is_back_below_restore(cat: Catalog) -> None:
    # 1.6 then 1.2 (between restore 1.0 and cut 1.5): still a cut command, still fed
    out = run(cat, 300, lambda t: 1.6 if t < 60 else 1.2 if t < 200 else 0.5, 1)
    assert [(w.transition, w.ts - T0) for w in out] == [("raised", 10_000),
                                                        ("cleared", 210_000)]


def test_disabled_in_the_rule_pack_it_compiles_nothing(cat: Catalog, tmp_path: Path) -> None:
    text = Path("deploy/rules/default.yaml").read_text(encoding="utf-8")
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace("  enabled: true\n  persist_s: 10",
                                 "  enabled: false\n  persist_s: 10"), encoding="utf-8")
    assert compile_power_feed(cat.sites[MINE], load_rules(path)) == []
