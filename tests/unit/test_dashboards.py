"""Dashboards: the committed JSON is what the code generates, and it validates against the SDK."""

from __future__ import annotations

import json
import re
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from hazardwatch.commands.dashboards import GRAFANA_DIR, dashboard_json
from hazardwatch.dashboards.influxql import InfluxQLQuery, register

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_committed_dashboards_are_up_to_date() -> None:
    for d in dashboard_json():
        committed = json.loads((GRAFANA_DIR / f"{d['uid']}.json").read_text(encoding="utf-8"))
        assert committed == d, f"run `hazardwatch dashboards build` ({d['uid']})"


def test_dashboards_round_trip_through_the_sdk_models_with_influxql_targets() -> None:
    register()
    for d in dashboard_json():
        model = Dashboard.from_json(d)
        again = json.loads(JSONEncoder(sort_keys=True).encode(model))
        assert again == d
        for panel in model.panels or []:
            targets = getattr(panel, "targets", None) or []
            assert targets, panel.title
            assert all(isinstance(t, InfluxQLQuery) and "$timeFilter" in t.query
                       for t in targets)
            assert CJK.search(str(panel.title)), panel.title  # operators read Chinese


def test_the_four_dashboards_and_their_variables() -> None:
    boards = {d["uid"]: d for d in dashboard_json()}
    assert {d["title"] for d in boards.values()} == {"值班总览", "场所详情", "车辆详情",
                                                   "演练复盘", "考核指标"}
    names = [v["name"] for v in boards["hw-site"]["templating"]["list"]]
    assert names == ["site", "unit", "sensor"]
    assert any(p["type"] == "geomap" for p in boards["hw-duty"]["panels"])
    assert any(p["type"] == "geomap" for p in boards["hw-vehicle"]["panels"])
    assert Path(GRAFANA_DIR.parent / "provisioning" / "dashboards" / "hazardwatch.yaml").exists()
