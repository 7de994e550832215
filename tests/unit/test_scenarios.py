"""Scenarios played offline through the replay engine (no broker), and the drill's verdict."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.ingest.decode import MessageDecoder
from hazardwatch.simulators.evaluate import evaluate
from hazardwatch.simulators.player import ScenarioPlayer, as_received, start_ms
from hazardwatch.simulators.scenario import SCENARIOS, Scenario, jt808_vehicles, load_scenario
from hazardwatch.streams.replay import Replayer
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine

CAT = load_catalog("deploy/catalog/demo.yaml")
RULES, VRULES = load_rules(), load_vehicle_rules()
NOW = 1_795_400_000_000


def play(sc: Scenario, start: int) -> tuple[list[str], list[WarningRecord]]:
    lines = [json.dumps({"topic": o.topic, "payload": o.payload.decode(), "received_at": o.ts})
             for _, msgs in ScenarioPlayer(sc, CAT, RULES, VRULES, start).steps()
             for o in as_received(msgs)]
    rp = Replayer(MessageDecoder(CAT), Engine(CAT, RULES), VehicleEngine(CAT, VRULES))
    warnings = list(rp.run(lines))
    assert not rp.summary.rejected, rp.summary.errors[:3]
    return lines, warnings


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_every_built_in_scenario_meets_its_expectations_offline(name: str) -> None:
    sc = load_scenario(name, CAT)
    start = start_ms(sc, NOW)
    _, warnings = play(sc, start)
    ev = evaluate(sc, start, warnings)
    assert [(o.incident, o.rule) for o in ev.outcomes if not o.ok] == []
    assert [w.message for w in ev.unexpected] == []
    assert all(w.drill for w in warnings)


def test_the_player_is_deterministic_and_marks_every_message_as_drill() -> None:
    sc = load_scenario("vehicles", CAT)
    a, _ = play(sc, start_ms(sc, NOW))
    b, _ = play(sc, start_ms(sc, NOW))
    assert a == b
    assert all(json.loads(json.loads(x)["payload"])["drill"] is True for x in a)


def test_start_is_the_latest_local_start_time_with_the_whole_drill_in_the_past() -> None:
    sc = load_scenario("combined", CAT)  # 20:00 local, 400 min
    start = start_ms(sc, NOW)
    assert start + 400 * 60_000 <= NOW < start + 400 * 60_000 + 86_400_000
    assert (start // 1000 + 8 * 3600) % 86_400 == 20 * 3600  # 20:00 in Asia/Shanghai


def test_a_missed_expectation_and_a_wrong_level_fail_the_drill() -> None:
    sc = load_scenario("coal_mine", CAT)
    start = start_ms(sc, NOW)
    _, warnings = play(sc, start)
    wrong = msgspec.structs.replace(sc, incidents=[
        msgspec.structs.replace(sc.incidents[0], expect=[msgspec.structs.replace(
            sc.incidents[0].expect[0], level=1)]), sc.incidents[1]])
    ev = evaluate(wrong, start, warnings)
    assert not ev.ok and ev.outcomes[0].detected and ev.outcomes[0].level == 2
    ev = evaluate(sc, start, [w for w in warnings if w.rule != "device.offline"])
    assert not ev.ok and not ev.outcomes[1].detected
    quiet = msgspec.structs.replace(sc, incidents=[])
    assert [w.rule for w in evaluate(quiet, start, warnings).unexpected] == [
        "coal_mine.ch4.threshold", "device.offline"]


def test_a_bad_scenario_names_every_problem(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("""
name: bad
title: 坏场景
start_local: "20:00"
duration_min: 30
incidents:
  - {id: a, kind: ramp, title: x, at_min: 5, site: tf-hohhot-01, sensor: NOPE, to: 3}
  - {id: a, kind: speeding, title: y, at_min: 40, vehicle: hz-0001}
  - {id: c, kind: offline, title: z, at_min: 1}
""", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_scenario(p, CAT)
    text = str(err.value)
    for part in ("unknown sensor 'NOPE'", "speeding needs 'speed_kmh'", "starts after the drill",
                 "incident id 'a' repeated", "offline needs a vehicle"):
        assert part in text


def test_a_jt808_scenario_needs_terminals_and_su_biao_alarm_codes(tmp_path: Path) -> None:
    cat = tmp_path / "cat.yaml"
    src = Path("deploy/catalog/demo.yaml").read_text(encoding="utf-8")
    cat.write_text(re.sub(r',\s*terminal: \{phone: "013900000002"[^}]*\}', "", src),
                   encoding="utf-8")
    p = tmp_path / "jt.yaml"
    p.write_text("""
name: jt
title: 终端场景
start_local: "20:00"
duration_min: 30
transport: jt808
fleet: {sites: [], vehicles: [hz-0001, hz-0002]}
incidents:
  - {id: a, kind: video, title: x, at_min: 5, vehicle: hz-0001, family: dsm, type: snapshot}
  - {id: b, kind: video, title: y, at_min: 6, vehicle: hz-0001, family: dsm, type: fatigue}
  - {id: c, kind: video, title: z, at_min: 7, vehicle: hz-0001, family: adas, type: fcw}
  - {id: d, kind: video, title: w, at_min: 8, vehicle: hz-0001, family: bsd, type: left_rear}
  - {id: e, kind: video, title: v, at_min: 9, vehicle: hz-0001, family: tpms, type: slow_leak}
  - {id: f, kind: video, title: u, at_min: 9, vehicle: hz-0001, family: tpms, type: flat}
""", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_scenario(p, load_catalog(cat))
    text = str(err.value)
    assert "vehicle 'hz-0002' has no terminal" in text
    assert "incident a: transport jt808: no 苏标 DSM type code for 'snapshot'" in text
    assert "incident f: transport jt808: no 苏标 TPMS type code for 'flat'" in text
    assert all(f"incident {i}" not in text for i in "bcde")
    with pytest.raises(ValueError) as err:  # with every terminal, only the snapshot remains
        load_scenario(p, CAT)
    assert "incident a" in str(err.value) and "no terminal" not in str(err.value)


def test_vehicle_transport_plays_single_vehicles_as_jt808_terminals(tmp_path: Path) -> None:
    p = tmp_path / "mixed.yaml"
    p.write_text("""
name: mixed
title: 混合接入
start_local: "20:00"
duration_min: 30
vehicle_transport: {hz-0001: jt808}
fleet: {sites: [], vehicles: [hz-0001, hz-0002]}
incidents:
  - {id: a, kind: video, title: x, at_min: 5, vehicle: hz-0001, family: adas, type: fcw}
  - {id: b, kind: video, title: y, at_min: 6, vehicle: hz-0002, family: dsm, type: snapshot}
""", encoding="utf-8")
    sc = load_scenario(p, CAT)  # hz-0002 is on MQTT: its snapshot needs no 苏标 code
    assert jt808_vehicles(sc, CAT) == {"hz-0001"}
    p.write_text(p.read_text(encoding="utf-8").replace("hz-0002, family", "hz-0001, family")
                 .replace("{hz-0001: jt808}", "{hz-0001: jt808, nope: jt808}"), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_scenario(p, CAT)
    assert "incident b: transport jt808: no 苏标 DSM type code for 'snapshot'" in str(err.value)
    assert "vehicle_transport: unknown vehicle 'nope'" in str(err.value)


def test_blind_area_upload_fills_the_track_and_pages_no_one() -> None:
    """A JT/T 808 truck that goes dark keeps its fixes and uploads them (0x0704 补传) when it is
    back: each becomes a position (as the gateway produces them, after the live fix), and the
    warnings are exactly those of the same drill without the upload."""
    sc = load_scenario("vehicles", CAT)  # the built-in drill uploads its truck's dark stretch
    dark = next(i for i in sc.incidents if i.kind == "offline")
    assert dark.backfill and sc.transport == "jt808"
    base = msgspec.structs.replace(sc, incidents=[
        msgspec.structs.replace(i, backfill=False) if i is dark else i for i in sc.incidents])
    start = start_ms(sc, NOW)
    plain = ScenarioPlayer(base, CAT, RULES, VRULES, start)
    lines, uploaded = [], []
    for _, msgs in ScenarioPlayer(sc, CAT, RULES, VRULES, start).steps():
        uploaded += [f for o in msgs if o.topic.endswith("/blind-area")
                     for f in json.loads(o.payload)]
        lines += [json.dumps({"topic": o.topic, "payload": o.payload.decode(),
                              "received_at": o.ts}) for o in as_received(msgs)]
    t0, t1 = start + dark.at_min * 60_000, start + (dark.at_min + dark.duration_min) * 60_000
    assert uploaded and all(t0 <= f["ts"] < t1 for f in uploaded)
    assert len(uploaded) >= dark.duration_min * 60 // sc.position_every_s - 1  # the gap filled
    rp = Replayer(MessageDecoder(CAT), Engine(CAT, RULES), VehicleEngine(CAT, VRULES))
    with_upload = list(rp.run(lines))
    assert not rp.summary.rejected
    plain_lines = [json.dumps({"topic": o.topic, "payload": o.payload.decode(),
                               "received_at": o.ts}) for _, ms in plain.steps() for o in ms]
    rp = Replayer(MessageDecoder(CAT), Engine(CAT, RULES), VehicleEngine(CAT, VRULES))
    without = list(rp.run(plain_lines))

    def key(w: WarningRecord) -> tuple[str, str | None, str, int, int]:
        return (w.rule, w.vehicle_id, w.transition, w.level, w.ts)

    assert [key(w) for w in with_upload] == [key(w) for w in without]
    ev = evaluate(sc, start, with_upload)
    assert [(o.incident, o.rule) for o in ev.outcomes if not o.ok] == []
    assert [w.message for w in ev.unexpected] == []
