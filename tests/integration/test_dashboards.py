"""Dashboards on the real InfluxDB: drill data loaded, every panel's and variable's InfluxQL
executed with template variables substituted, each returns rows; `dashboards push` against a
local server that checks the Grafana API requests."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
import pytest
import requests

from hazardwatch.alerting.state import apply_warning
from hazardwatch.alerting.workflow.config import WorkflowConfig
from hazardwatch.alerting.workflow.track import event, track
from hazardwatch.commands.dashboards import dashboard_json
from hazardwatch.commands.kpis import compute_range
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.daily import VehicleDayRecord, VehicleHourRecord
from hazardwatch.contracts.records import (
    PositionRecord,
    RejectedRecord,
    TelemetryRecord,
    VideoEventRecord,
)
from hazardwatch.ingest.decode import Accepted, MessageDecoder
from hazardwatch.kpis.influxread import InfluxReader
from hazardwatch.kpis.periods import local_midnight
from hazardwatch.kpis.rows import KpiRow, line
from hazardwatch.reports.read import shift_report
from hazardwatch.reports.shift import local
from hazardwatch.simulators.player import ScenarioPlayer, as_received, start_ms
from hazardwatch.simulators.scenario import load_scenario
from hazardwatch.stack.influx import ensure_database, influxql
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.process import free_port
from hazardwatch.streams.replay import Replayer
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.seen import Ledger, observe_record
from hazardwatch.streams.seen import due as seen_due
from hazardwatch.streams.sinks import line_protocol as lp
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.vehicles.state import VehicleState

CAT = load_catalog("deploy/catalog/demo.yaml")
VARS = {"site": "tf-hohhot-01", "unit": "T101", "sensor": "(T101-GAS1|T101-TT)",
        "vehicle": "(hz-0003|co-0002|tb-0001)", "drill": "true"}


def _load_drill(url: str, db: str) -> tuple[int, int]:
    """Play the combined drill offline and write what the sink would write; (start, end)."""
    sc = load_scenario("combined", CAT)
    start = start_ms(sc, 1_795_400_000_000)
    rules, vrules = load_rules(), load_vehicle_rules()
    decoder = MessageDecoder(CAT)
    lines: dict[str, list[str]] = defaultdict(list)
    raw = []
    vengine = VehicleEngine(CAT, vrules)
    vstates: dict[str, VehicleState] = defaultdict(VehicleState)
    ledgers: dict[str, Ledger] = defaultdict(Ledger)  # the worker's hourly tallies
    for _, msgs in ScenarioPlayer(sc, CAT, rules, vrules, start).steps():
        for m in as_received(msgs):
            raw.append(json.dumps({"topic": m.topic, "payload": m.payload.decode(),
                                   "received_at": m.ts}))
            res = decoder.decode(m.topic, m.payload, m.ts)
            assert isinstance(res, Accepted)
            rec = res.record
            if isinstance(rec, TelemetryRecord):
                rp, ls = lp.readings(rec, CAT)
                lines[rp] += ls
                lines[lp.RP_EVENTS] += [lp.seen(x) for x in observe_record(
                    ledgers[rec.site_id], CAT, rec)]
            elif isinstance(rec, PositionRecord):
                lines[lp.RP_VEHICLE].append(lp.position(rec))
                vengine.on_record(vstates[rec.vehicle_id], rec)
            elif isinstance(rec, VideoEventRecord):
                lines[lp.RP_EVENTS].append(lp.video_event(rec))
    for i, bad in enumerate((b"{not json", b'{"ts": 1, "points": []}')):
        res = decoder.decode("hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry", bad,
                             start + i * 60_000)
        assert not isinstance(res, Accepted)
        lines[lp.RP_EVENTS].append(lp.rejected(RejectedRecord(
            reason=res.reason.value, detail=res.detail,
            topic="hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry",
            payload_b64="", received_at=start + i * 60_000, size=len(bad))))
    warnings = list(Replayer(decoder, Engine(CAT, rules), VehicleEngine(CAT, vrules)).run(raw))
    for w in warnings:
        site = CAT.sites.get(w.site_id or "")
        lines[lp.RP_EVENTS].append(lp.warning(w, (site.location.lat, site.location.lon)
                                              if site else None))
        if w.transition == "raised":
            lines[lp.RP_EVENTS].append(lp.alert_action({
                "action": "notified", "warning_id": w.warning_id, "receiver": "drill-desk",
                "delivery_id": f"{w.warning_id}:step0@L{w.level}:0|d", "at": w.ts + 500,
                "drill": True, "kind": "alert", "channel": "webhook"}))
    end = start + int(sc.duration_min * 60_000)
    for site_id, ledger in ledgers.items():  # the ticks after the drill close its last hour
        lines[lp.RP_EVENTS] += [lp.seen(x) for x in seen_due(ledger, site_id, end + 3_600_000)]
    # the second warning is left unhandled: the workflow opens a county 督办 at its 签收
    # deadline and pushes it to the city 30 min later (events as the alerting service emits)
    late = next(w for w in warnings[1:] if w.transition == "raised" and w.site_id)
    alert = apply_warning(None, late, "r", late.ts)
    due = late.ts + WorkflowConfig().steps[late.level].ack_s * 1000
    for at in (due, due + 30 * 60_000):
        lines[lp.RP_EVENTS] += [lp.alert_action(event(alert, n, at))
                                for n in track(alert, CAT, WorkflowConfig(), at)]
    assert [x.admin for x in alert.supervisions] == ["county", "city"]
    for vid, st in vstates.items():  # the day figures the worker would emit at midnight
        v = CAT.vehicles[vid]
        lines[lp.RP_EVENTS].append(lp.vehicle_day(VehicleDayRecord(
            vehicle_id=vid, company=v.company, vehicle_class=v.vehicle_class, day="drill",
            ts=local_midnight(start), positions=st.day.positions, drift=st.day.drift,
            gaps=st.day.gaps, overspeed=st.day.overspeed, fatigue_s=0, online_s=0, drill=True,
            complete_m=st.day.complete_m, incomplete_m=st.day.incomplete_m)))
        vengine.on_tick(st, vid, end + 3_600_000)  # the ticks after the drill close its hour
        lines[lp.RP_EVENTS] += [lp.vehicle_hour(VehicleHourRecord(
            vehicle_id=vid, company=v.company, vehicle_class=v.vehicle_class, hour=at,
            positions=d.positions, drift=d.drift, gaps=d.gaps, complete_m=d.complete_m,
            incomplete_m=d.incomplete_m, online_s=d.online_ms / 1000, drill=True))
            for at, d in st.closed_hours]
    for level, site in zip((1, 2, 3, 4), ("tf-hohhot-01", "cm-ordos-01", "td-baotou-01",
                                          "tf-hohhot-01"), strict=True):
        open_w = msgspec.structs.replace(warnings[0], site_id=site, sensor=f"OPEN-{level}",
                                         level=level, transition="raised", ts=end - 60_000,
                                         started_at=end - 60_000, warning_id=f"W-open-{level}")
        lines[lp.RP_EVENTS].append(lp.warning(open_w, (40.0, 110.0)))  # still open at the end
    veh = next(w for w in warnings if w.vehicle_id)
    lines[lp.RP_EVENTS].append(lp.warning(msgspec.structs.replace(
        veh, transition="raised", ts=end - 30_000, started_at=end - 30_000,
        warning_id="W-open-vehicle")))
    lines[lp.RP_EVENTS] += [lp.lag("sink", "drill-x.hw.telemetry", n, start + i * 10_000)
                            for i, n in enumerate((0, 120, 40, 0))]
    first = warnings[0]
    # 签收, then the 核查 step (false alarm), then the 处置 without a verdict of its own
    lines[lp.RP_EVENTS] += [lp.alert_action({"action": a, "warning_id": first.warning_id,
                                             "who": "值班员", "at": first.ts + 60_000 + i,
                                             "level": first.level, "drill": True, **extra})
                            for i, (a, extra) in enumerate((
                                ("ack", {}),
                                ("verify", {"verdict": "false_alarm", "note": "探头误触发"}),
                                ("resolve", {"cause": "阀门密封失效", "taken": "关闭阀门"})))]
    for rp, ls in lines.items():
        for i in range(0, len(ls), 5000):
            r = requests.post(f"{url}/write", params={"db": db, "rp": rp, "precision": "ms"},
                              data="\n".join(ls[i:i + 5000]).encode(), timeout=30)
            assert r.status_code == 204, r.text
    return start, end


def _substitute(q: str, start: int, end: int) -> str:
    q = q.replace("$timeFilter", f"time >= {start}ms AND time <= {end}ms")
    q = q.replace("$__interval", "1m")
    return re.sub(r"\$(\w+)", lambda m: VARS.get(m.group(1), m.group(0)), q)


def _queries(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for v in d.get("templating", {}).get("list", []):
        yield f"{d['title']} / 变量 {v['name']}", v["query"]
    for p in d["panels"]:
        for t in p.get("targets", []):
            yield f"{d['title']} / {p['title']} / {t['refId']}", t["query"]


@pytest.fixture(scope="module")
def drill_db(stack: Stack) -> Iterator[tuple[str, int, int, list[KpiRow]]]:
    db = "test_dashboards"
    url = stack.settings.influx_url
    influxql(url, f'DROP DATABASE "{db}"')
    ensure_database(url, db)
    start, end = _load_drill(url, db)
    yield db, start, end, _write_kpis(url, db, start, end)
    influxql(url, f'DROP DATABASE "{db}"')


def _write_kpis(url: str, db: str, start: int, end: int) -> list[KpiRow]:
    """`hazardwatch kpis --drill` over the drill's day and shifts, read from the real store."""
    rows = compute_range(InfluxReader(url, db, CAT, drill=True), start, end, ["day", "shift"])
    r = requests.post(f"{url}/write", params={"db": db, "rp": lp.RP_EVENTS, "precision": "ms"},
                      data="\n".join(line(x, True) for x in rows).encode(), timeout=30)
    assert r.status_code == 204, r.text
    return rows


def test_kpis_of_the_drill_read_from_influxdb(drill_db: tuple[str, int, int, list[KpiRow]]
                                               ) -> None:
    """The figures of the drill period agree with the drill as written: one warning handled
    (ack then resolve, about a minute after it was raised), vehicles on line, points seen."""
    rows: dict[tuple[str, str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in drill_db[3]:  # (the drill crosses midnight: summed over its two days)
        acc = rows[(r.figure, r.scope, r.id, r.period)]
        acc[0] += r.num
        acc[1] += r.den
    assert rows[("handled_rate", "all", "all", "day")][0] == 1  # the drill's one 处置
    assert rows[("handled_rate", "all", "all", "day")][1] >= 5
    assert rows[("handled_rate", "all", "all", "shift")] == rows[("handled_rate", "all", "all",
                                                                  "day")]
    assert rows[("false_alarm_share", "all", "all", "day")] == [1.0, 1.0]  # its 核查
    assert rows[("vehicle_online_rate", "all", "all", "day")][0] >= 3
    done, total = rows[("track_complete_rate", "all", "all", "day")]
    assert 0 < done <= total
    # vehicle figures per shift too (the engine's hours), the shifts' mileage the days'
    assert rows[("track_complete_rate", "all", "all", "shift")] == pytest.approx([done, total])
    assert rows[("drift_rate", "all", "all", "shift")] == rows[("drift_rate", "all", "all",
                                                                "day")]
    assert rows[("access_rate", "site", "tf-hohhot-01", "day")][0] > 0
    ok, received = rows[("data_valid_rate", "site", "tf-hohhot-01", "day")]
    assert received - ok == 2  # the two refused messages of the drill data


def test_figures_from_the_hourly_tallies_are_the_figures_from_every_value(
        stack: Stack, drill_db: tuple[str, int, int, list[KpiRow]]) -> None:
    """The worker's tallies (seen_hourly, what `hazardwatch kpis` reads for whole hours) give
    the drill's 在线率, 接入率 and 数据合格率 exactly as every reading does."""
    db, start, end, _ = drill_db
    got = {}
    for source in ("tallies", "readings"):
        reader = InfluxReader(stack.settings.influx_url, db, CAT, drill=True, source=source)
        got[source] = {(r.figure, r.scope, r.id, r.period, r.start): r.value
                       for r in compute_range(reader, start, end, ["day", "shift"])}
        assert reader.used == {source}
    assert got["tallies"] == got["readings"]
    points = [v for k, v in got["tallies"].items() if k[0] == "online_rate_point"]
    assert len(points) > 50 and min(points) < 1  # the substation that goes dark
    auto = InfluxReader(stack.settings.influx_url, db, CAT, drill=True)
    compute_range(auto, start, end, ["day"])
    assert auto.used == {"tallies"}  # whole days: the tallies


def test_shift_report_of_the_drill(stack: Stack, drill_db: tuple[str, int, int, list[KpiRow]],
                                   tmp_path: Path) -> None:
    """`hazardwatch report shift --drill` over the drill: its warnings, the ones left open
    at the end (the four W-open ones among them), the handled one, figures, HTML and PDF."""
    db, start, end, _ = drill_db
    reader = InfluxReader(stack.settings.influx_url, db, CAT, drill=True)
    r = shift_report(reader, start, end)
    assert len(r.warnings) >= 5
    assert {f"W-open-{i}" for i in (1, 2, 3, 4)} <= {w.warning_id for w in r.still_open}
    assert [w.state for w in r.warnings].count("已处置·误报") == 1  # the 核查's verdict
    assert len(r.supervision) == 2 and any("市级督办" in x for x in r.supervision)
    assert {x.figure for x in r.figures} >= {"online_rate_point", "handled_rate"}
    site = shift_report(reader, start, end, "site:tf-hohhot-01")
    assert 0 < len(site.warnings) < len(r.warnings)
    assert all(w.where == "tf-hohhot-01" for w in site.warnings)
    out = subprocess.run([sys.executable, "-m", "hazardwatch", "report", "shift", "--drill",
                          "--from", local(start), "--to", local(end), "--db", db,
                          "--influx-url", stack.settings.influx_url, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    (page,) = tmp_path.glob("shift-drill-all-*.html")
    assert "仍未闭环的预警" in page.read_text() and "未签收" in page.read_text()
    assert page.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("uid", ["hw-duty", "hw-site", "hw-vehicle", "hw-drill", "hw-kpi"])
def test_every_panel_query_returns_rows_on_drill_data(
        stack: Stack, drill_db: tuple[str, int, int, list[KpiRow]], uid: str) -> None:
    db, start, end, _ = drill_db
    if uid == "hw-kpi":  # figures are stamped with their period's start (the local midnight)
        start = local_midnight(start)
    board = next(d for d in dashboard_json() if d["uid"] == uid)
    empty, errors = [], []
    for where, q in _queries(board):
        res = influxql(stack.settings.influx_url, _substitute(q, start, end),
                       db=db)["results"][0]
        if "error" in res:
            errors.append(f"{where}: {res['error']}")
        elif not res.get("series"):
            empty.append(where)
    assert errors == [] and empty == []


class _FakeGrafana(BaseHTTPRequestHandler):
    state: dict[str, Any]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _record(self) -> dict[str, Any]:
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        self.state["calls"].append((self.command, self.path, body,
                                    self.headers.get("Authorization")))
        return body or {}

    def do_GET(self) -> None:
        self._record()
        s = self.state
        if self.path == "/api/folders/hazardwatch":
            self._reply(200, {"uid": "hazardwatch"}) if s["folder"] else self._reply(
                404, {"message": "folder not found"})
        elif self.path == "/api/datasources/uid/hazardwatch-influxdb":
            self._reply(200, s["datasource"]) if s["datasource"] else self._reply(
                404, {"message": "data source not found"})
        else:
            self._reply(404, {"message": "not found"})

    def do_POST(self) -> None:
        body = self._record()
        if self.path == "/api/folders":
            self.state["folder"] = body
            self._reply(200, {"uid": body["uid"], "title": body["title"]})
        elif self.path == "/api/datasources":
            self.state["datasource"] = body
            self._reply(200, {"datasource": body})
        elif self.path == "/api/dashboards/db":
            self.state["dashboards"][body["dashboard"]["uid"]] = body
            self._reply(200, {"status": "success", "uid": body["dashboard"]["uid"]})
        else:
            self._reply(404, {"message": "not found"})

    def do_PUT(self) -> None:
        body = self._record()
        if self.path == "/api/datasources/uid/hazardwatch-influxdb":
            self.state["datasource"] = body
            self._reply(200, {"datasource": body})
        else:
            self._reply(404, {"message": "not found"})


def test_dashboards_push_creates_then_updates_folder_datasource_and_dashboards(
        tmp_path: Any) -> None:
    import subprocess
    import sys

    state: dict[str, Any] = {"calls": [], "folder": None, "datasource": None, "dashboards": {}}
    handler = type("G", (_FakeGrafana,), {"state": state})
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        argv = [sys.executable, "-m", "hazardwatch", "dashboards", "push", "--url",
                f"http://admin:secret@127.0.0.1:{port}", "--influx-url", "http://influx:8086"]
        first = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        assert "folder hazardwatch: created" in first.stdout
        assert "datasource hazardwatch-influxdb: created" in first.stdout
        second = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert "folder hazardwatch: exists" in second.stdout
        assert "datasource hazardwatch-influxdb: updated" in second.stdout
    finally:
        server.shutdown()
    auth = "Basic " + base64.b64encode(b"admin:secret").decode()
    assert {c[3] for c in state["calls"]} == {auth}
    assert state["folder"] == {"uid": "hazardwatch", "title": "重大危险源监测预警"}
    ds = state["datasource"]
    assert (ds["type"], ds["url"], ds["database"], ds["jsonData"]["version"]) == (
        "influxdb", "http://influx:8086", "hazardwatch", "InfluxQL")
    assert set(state["dashboards"]) == {"hw-duty", "hw-site", "hw-vehicle", "hw-drill",
                                          "hw-kpi"}
    assert all(b["overwrite"] is True and b["folderUid"] == "hazardwatch"
               for b in state["dashboards"].values())
    methods = [(c[0], c[1]) for c in state["calls"]]
    assert methods.count(("POST", "/api/dashboards/db")) == 2 * len(state["dashboards"])
    assert ("PUT", "/api/datasources/uid/hazardwatch-influxdb") in methods


def test_kpis_and_shift_report_through_the_api_in_the_callers_scope(
        stack: Stack, drill_db: tuple[str, int, int, list[KpiRow]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """GET /api/kpis and /api/reports/shift on the alerting API over the real InfluxDB: an
    unrestricted account sees every row, a county account only its county's; a report
    outside one's scope is refused."""
    from hazardwatch.alerting.accounts import Role, Scope
    from hazardwatch.alerting.api import serve
    from hazardwatch.alerting.users import UserFile
    from hazardwatch.alerting.web.context import ConsoleOptions
    from hazardwatch.kpis.periods import local_midnight
    from tests.unit.alerting.test_service import service

    db, start, end, _ = drill_db
    monkeypatch.setenv("HW_INFLUX_DB", db)
    monkeypatch.setenv("HW_INFLUX_PORT", str(stack.settings.influx_port))
    svc, _ = service(tmp_path)
    users = UserFile(tmp_path / "users.json")
    users.add("省值班", Role.DUTY, Scope(), "pw-0123456789ab", start)
    users.add("玉泉区值班员", Role.DUTY, Scope(regions=("150104",)), "pw-0123456789ab", start)
    server = serve(svc, "127.0.0.1", free_port(), ConsoleOptions(users=tmp_path / "users.json"))
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        got = {}
        for name in ("省值班", "玉泉区值班员"):
            s = requests.Session()
            assert s.post(f"{base}/api/login", json={"name": name, "password": "pw-0123456789ab"},
                          timeout=5).status_code == 200
            since = local(local_midnight(start)).replace(" ", "T")
            r = s.get(f"{base}/api/kpis", params={"from": since, "to": local(end + 86_400_000)
                                                  .replace(" ", "T"), "drill": "true"},
                      timeout=30)
            assert r.status_code == 200, r.text
            got[name] = r.json()["rows"]
            if name == "玉泉区值班员":
                bad = s.get(f"{base}/api/reports/shift", timeout=30, params={
                    "from": local(start), "to": local(end), "scope": "all", "drill": "true"})
                assert bad.status_code == 403
                ok = s.get(f"{base}/api/reports/shift", timeout=60, params={
                    "from": local(start), "to": local(end), "scope": "site:tf-hohhot-01",
                    "drill": "true", "format": "pdf"})
                assert ok.status_code == 200 and ok.content.startswith(b"%PDF")
        everyone = {(r["figure"], r["scope"], r["id"]) for r in got["省值班"]}
        county = {(r["figure"], r["scope"], r["id"]) for r in got["玉泉区值班员"]}
        assert ("handled_rate", "all", "all") in everyone and county < everyone
        assert ("access_rate", "site", "tf-hohhot-01") in county
        assert all(k[1] != "all" and not k[2].startswith(("cm-", "td-")) for k in county)
    finally:
        server.shutdown()
