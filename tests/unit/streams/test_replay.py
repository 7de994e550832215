"""`hazardwatch replay`: same validation and engine, timers by event time, byte-for-byte stable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.decode import Accepted, Limits, MessageDecoder
from hazardwatch.streams.replay import Replayer, parse_line
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from tests.fixtures.bad_inputs import VEH, bad_inputs

FIXTURE = Path("tests/fixtures/replay/tank_leak.jsonl")


def replay(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hazardwatch", "replay", *args],
                          input=stdin, capture_output=True, text=True, check=False)


def test_replay_is_deterministic_byte_for_byte() -> None:
    a, b = replay(str(FIXTURE)), replay(str(FIXTURE))
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout and a.stdout


def test_recorded_leak_gives_the_expected_episode() -> None:
    out = replay(str(FIXTURE))
    ws = [json.loads(line) for line in out.stdout.splitlines()]
    brief = [(w["transition"], w["level"], w["rule"]) for w in ws]
    assert brief == [
        ("raised", 3, "tank_farm.gas_combustible.threshold"),
        ("upgraded", 2, "tank_farm.gas_combustible.threshold"),
        ("raised", 1, "combo.tank.gas_and_heat"),
        ("raised", 3, "tank_farm.temperature.threshold"),
        ("downgraded", 3, "tank_farm.gas_combustible.threshold"),
        ("cleared", 3, "tank_farm.temperature.threshold"),
        ("cleared", 1, "combo.tank.gas_and_heat"),
        ("cleared", 3, "tank_farm.gas_combustible.threshold"),
        ("raised", 4, "device.offline"),  # gds-01 fell silent; fired by event time
    ]
    gas = [w for w in ws if w["rule"] == "tank_farm.gas_combustible.threshold"]
    assert len({w["warning_id"] for w in gas}) == 1
    assert gas[1]["message"].endswith("超过二级报警值 50%LEL，预警升级为二级(橙色)")
    assert all(w["colour"] == {1: "red", 2: "orange", 3: "yellow", 4: "blue"}[w["level"]]
               for w in ws)
    assert "line 6: not_json" in out.stderr
    assert "1 rejected (not_json 1)" in out.stderr


def test_until_flushes_timers_and_stdin_with_string_payloads() -> None:
    line = json.dumps({"topic": "hw/v1/sites/cm-ordos-01/devices/kj-sub-01/telemetry",
                       "payload": json.dumps({"ts": 1795000000000, "points": [
                           {"sensor": "WF3102-T1", "value": 0.3}]})})
    quiet = replay("-", stdin=line + "\n")
    assert quiet.stdout == ""
    later = replay("-", "--until", "2026-11-18T11:10:00Z", stdin=line + "\n")
    ws = [json.loads(x) for x in later.stdout.splitlines()]
    assert [(w["rule"], w["level"], w["ts"]) for w in ws] == [
        ("device.offline", 3, 1795000030000)]  # coal gateway timeout 30 s, 三级


def test_bad_lines_are_reported_not_fatal() -> None:
    out = replay("-", "--max-rejected-share", "1", stdin='not json\n{"topic": 1}\n')
    assert out.returncode == 0
    assert out.stderr.count(": bad_line: ") == 2 and "2 rejected (bad_line 2)" in out.stderr
    # reported in full either way; by default more than half rejected fails the run (issue 21)
    out = replay("-", stdin='not json\n{"topic": 1}\n')
    assert out.returncode == 3 and "2 rejected (bad_line 2)" in out.stderr


NOW = 1_795_000_000_000
FIX = {"ts": NOW, "lat": 40.1, "lon": 111.6, "speed_kmh": 61.5, "heading": 90}
POSITION_LINES = [  # (topic, payload): valid positions, read in one pass
    (f"{VEH}/position", FIX),
    (f"{VEH}/position", {**FIX, "alt_m": 1010.5, "alarm_flags": 3, "status_flags": 2,
                         "mileage_km": 12.5, "seq": 7, "drill": True, "extra": [1, {"a": 2}]}),
    (f"{VEH}/position", {**FIX, "ts": "2026-11-18T08:13:20+08:00"}),
    (f"{VEH}/position", {**FIX, "ts": NOW + 300_000}),  # (at the time limits)
    (f"{VEH}/position", {**FIX, "ts": NOW - 30 * 86_400_000}),
]
OTHER_LINES = [  # lines the one-pass read must leave to the general path (str: payload's text)
    (f"{VEH}/video-event", {**FIX, "event_id": "e1", "family": "dsm", "type": "a/position"}),
    ("hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry", FIX),
    (f"{VEH}/position", json.dumps(json.dumps(FIX))),  # the payload as a JSON string
    (f"{VEH}/position", {**FIX, "pad": "x" * 5_000}),  # over a 4 kB payload limit
    (f"{VEH}/position", {**FIX, "ts": NOW + 300_001}),  # (the time limits, by 1 ms)
    (f"{VEH}/position", {**FIX, "ts": NOW - 30 * 86_400_000 - 1}),
    (f"{VEH}/position", {**FIX, "ts": "yesterday"}),
    ("hw/v1/vehicles/no-such-truck/position", FIX),
    (f"{VEH}/position", {**FIX, "speed_kmh": 401}),
] + [(topic, raw.decode()) for _, topic, raw in bad_inputs(NOW) if raw.isascii()]


@pytest.mark.parametrize(("topic", "payload"), POSITION_LINES + OTHER_LINES)
def test_one_pass_position_read_gives_what_the_general_path_gives(topic: str,
                                                                  payload: object) -> None:
    catalog = load_catalog("deploy/catalog/demo.yaml")
    decoder = MessageDecoder(catalog, Limits(max_payload_bytes=4_000))
    replayer = Replayer(decoder, Engine(catalog, load_rules()))
    text = payload if isinstance(payload, str) else json.dumps(payload)  # (str: as it stands)
    line = f'{{"topic": {json.dumps(topic)}, "payload": {text}, "received_at": {NOW}}}'
    try:  # the general path first: it learns the topic, as in a replay
        general = decoder.decode(*parse_line(line)[:2], NOW)
    except ValueError:
        general = None  # (not a line at all)
    one_pass = replayer._position(line)
    if (topic, payload) in POSITION_LINES:
        assert one_pass is not None and isinstance(general, Accepted)
        assert one_pass == general.record
    else:
        assert one_pass is None
