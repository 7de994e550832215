"""Every catalogued device accounted for (未接入), clocks that lie, and replay's own clock
(issue 21)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.reasons import Reason
from hazardwatch.ingest.decode import Accepted, Limits, MessageDecoder, Rejected
from hazardwatch.streams.replay import Replayer
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine

CAT = load_catalog("deploy/catalog/demo.yaml")
T0 = 1_795_000_000_000
GDS = "hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry"


def replayer() -> Replayer:
    return Replayer(MessageDecoder(CAT), Engine(CAT, load_rules()),
                    VehicleEngine(CAT, load_vehicle_rules()))


def gds(ts: int, gas1: float = 2.0, received_at: int | None = None) -> str:
    line: dict[str, object] = {"topic": GDS, "payload": {"ts": ts, "points": [
        {"sensor": "T101-GAS1", "value": gas1}, {"sensor": "T101-GAS2", "value": 1.0},
        {"sensor": "T102-NH3", "value": 0.0}]}}
    if received_at is not None:
        line["received_at"] = received_at
    return json.dumps(line)


def test_four_devices_that_never_speak_are_reported_as_never_connected() -> None:
    lines = [gds(T0 + k * 10_000) for k in range(71)]  # 700 s of the GDS gateway …
    lines += [json.dumps({"topic": f"hw/v1/vehicles/{v}/position", "payload": {
        "ts": T0 + k * 30_000, "lat": 40.8, "lon": 111.6, "speed_kmh": 0}})
        for k in range(24) for v in sorted(CAT.vehicles)]  # … and the parked fleet
    lines.sort(key=lambda x: json.loads(x)["payload"]["ts"])
    rp = replayer()
    out = list(rp.run(lines))
    never = [(w.device_id, w.level, w.ts) for w in out if w.rule == "device.never_connected"]
    assert sorted(never) == [(d, 4, T0 + 600_000)
                             for d in ("cam-01", "dcs-gw-01", "kj-sub-01", "rtu-01")]
    assert all("未接入" in w.message for w in out if w.rule == "device.never_connected")
    assert not [w for w in out if w.rule == "device.offline"]  # separate from offline
    s = rp.summary
    assert (s.connected, s.devices) == (7, 11)  # gds-01 and the 6 vehicles of 5 + 6
    assert sorted(s.never_connected) == ["cm-ordos-01/kj-sub-01", "td-baotou-01/rtu-01",
                                         "tf-hohhot-01/cam-01", "tf-hohhot-01/dcs-gw-01"]


def test_a_device_that_speaks_late_is_connected_and_then_watched_for_offline() -> None:
    cam = "hw/v1/sites/tf-hohhot-01/devices/cam-01/status"
    lines = [gds(T0 + k * 10_000) for k in range(90)]
    lines.insert(70, json.dumps({"topic": cam, "payload": {"status": "online",
                                                            "ts": T0 + 695_000}}))
    out = [(w.rule, w.transition, w.device_id) for w in replayer().run(lines)
           if w.device_id == "cam-01"]
    assert out == [("device.never_connected", "raised", "cam-01"),
                   ("device.never_connected", "cleared", "cam-01"),
                   ("device.offline", "raised", "cam-01")]  # 120 s timeout, no heartbeat


def test_a_clock_ten_minutes_fast_keeps_its_data_and_is_reported_once() -> None:
    fast = 600_000
    lines = [gds(T0 + k * 10_000 + fast, 70.0 if k >= 5 else 2.0, received_at=T0 + k * 10_000)
             for k in range(30)]
    rp = replayer()
    out = list(rp.run(lines))
    assert rp.summary.accepted == 30 and not rp.summary.rejected
    clock = [w for w in out if w.rule == "device.clock_fast"]
    assert [(w.transition, w.level, w.device_id, w.value) for w in clock] == [
        ("raised", 4, "gds-01", 600.0)]
    assert "时钟超前600秒" in clock[0].message
    gas = [w for w in out if w.rule.endswith("gas_combustible.threshold")]
    assert gas and gas[0].ts < T0 + 30 * 10_000  # at the receive time, not 10 min ahead
    assert not [w for w in out if w.rule == "device.offline"]


def test_the_clock_tolerance_is_per_device_kind() -> None:
    payload = json.dumps({"ts": T0 + 120_000, "points": [{"sensor": "T101-GAS1",
                                                          "value": 1}]}).encode()
    strict = MessageDecoder(CAT, Limits(clock_tolerance_ms={"gateway": 60_000}))
    out = strict.decode(GDS, payload, T0)
    assert isinstance(out, Accepted) and out.record.clock_fast_ms == 120_000
    assert out.record.ts == T0 and out.record.points[0].ts == T0  # type: ignore[union-attr]
    out = MessageDecoder(CAT).decode(GDS, payload, T0)  # default 300 s
    assert isinstance(out, Accepted) and out.record.clock_fast_ms is None


def test_a_time_in_seconds_or_microseconds_is_refused_with_a_hint() -> None:
    dec = MessageDecoder(CAT)
    for ts, hint in ((T0 // 1000, "epoch seconds"), (T0 * 1000, "epoch microseconds")):
        payload = json.dumps({"ts": ts, "points": [{"sensor": "T101-GAS1", "value": 1}]})
        out = dec.decode(GDS, payload.encode(), T0)
        assert isinstance(out, Rejected) and out.reason is Reason.TS_UNIT
        assert hint in out.detail and "milliseconds" in out.detail


def test_replay_clock_moves_over_a_gap_in_the_input() -> None:
    lines = [gds(T0 + k * 10_000) for k in range(12)]
    lines += [gds(T0 + 110_000 + 600_000 + k * 10_000, 70.0) for k in range(78)]
    rp = replayer()
    out = list(rp.run(lines))
    assert not rp.summary.rejected
    assert [(w.rule, w.transition, w.level) for w in out if w.sensor == "T101-GAS1"][:1] == [
        ("tank_farm.gas_combustible.threshold", "raised", 2)]


def test_replay_fails_when_most_lines_are_rejected(tmp_path: Path) -> None:
    lines = [gds(T0 + k * 10_000) for k in range(2)] + ["not json"] * 18
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "hazardwatch", "replay", str(path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 3, run.stderr
    assert "90% of the lines were rejected" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "hazardwatch", "replay", str(path),
                         "--max-rejected-share", "0.95"], capture_output=True, text=True,
                        check=False)
    assert ok.returncode == 0, ok.stderr


def test_a_vehicle_that_never_reports_is_never_connected_until_its_first_fix() -> None:
    others = sorted(v for v in CAT.vehicles if v != "hz-0002")
    lines = [json.dumps({"topic": f"hw/v1/vehicles/{v}/position", "payload": {
        "ts": T0 + k * 30_000, "lat": 40.8, "lon": 111.6, "speed_kmh": 0}})
        for k in range(30) for v in others]
    lines.append(json.dumps({"topic": "hw/v1/vehicles/hz-0002/position", "payload": {
        "ts": T0 + 30 * 30_000, "lat": 40.8, "lon": 111.6, "speed_kmh": 0}}))
    rp = replayer()
    out = [(w.rule, w.transition, w.vehicle_id, w.ts) for w in rp.run(lines)
           if w.rule == "vehicle.never_connected"]
    assert out == [("vehicle.never_connected", "raised", "hz-0002", T0 + 600_000),
                   ("vehicle.never_connected", "cleared", "hz-0002", T0 + 900_000)]
    assert "vehicle/hz-0002" not in rp.summary.never_connected


def test_the_worker_reports_never_connected_devices_and_vehicles_from_its_first_tick() -> None:
    from hazardwatch.streams.worker.core import Tick, WorkerCore, encode_tick

    core = WorkerCore(Engine(CAT, load_rules()), VehicleEngine(CAT, load_vehicle_rules()),
                      started_at=T0, grace_ms=0)
    r = core.handle(None, "p.hw.ticks", encode_tick(Tick("tf-hohhot-01", T0)))
    assert r.warnings == []
    r = core.handle(r.state, "p.hw.ticks", encode_tick(Tick("tf-hohhot-01", T0 + 600_000)))
    assert sorted((w.rule, w.device_id) for w in r.warnings) == [
        ("device.never_connected", d) for d in ("cam-01", "dcs-gw-01", "gds-01")]
    again = core.handle(r.state, "p.hw.ticks", encode_tick(Tick("tf-hohhot-01", T0 + 700_000)))
    assert again.warnings == []  # once
    v = core.handle(None, "p.hw.ticks", encode_tick(Tick(None, T0 + 600_000, "hz-0001")))
    assert [(w.rule, w.vehicle_id) for w in v.warnings] == [("vehicle.never_connected",
                                                             "hz-0001")]


def test_a_vehicle_terminal_ten_minutes_fast_is_reported_once_and_its_fixes_kept() -> None:
    lines = [json.dumps({"topic": "hw/v1/vehicles/hz-0001/position", "received_at":
                         T0 + k * 30_000, "payload": {"ts": T0 + k * 30_000 + 600_000,
                                                      "lat": 40.8, "lon": 111.6,
                                                      "speed_kmh": 0}}) for k in range(20)]
    lines += [json.dumps({"topic": "hw/v1/vehicles/hz-0001/position", "received_at":
                          T0 + k * 30_000, "payload": {"ts": T0 + k * 30_000, "lat": 40.8,
                                                       "lon": 111.6, "speed_kmh": 0}})
              for k in range(20, 45)]  # the clock set right: cleared 10 min later
    rp = replayer()
    out = [(w.transition, w.level, w.value, w.ts) for w in rp.run(lines)
           if w.rule == "vehicle.clock_fast"]
    assert rp.summary.readings == 45 and not rp.summary.rejected
    assert out == [("raised", 4, 600.0, T0), ("cleared", 4, 600.0, T0 + 40 * 30_000)]
