"""Partial acceptance: a gateway message is split into its points; a bad point is refused on
its own while the good points go on (issue 21)."""

from __future__ import annotations

import json

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.reasons import Reason
from hazardwatch.contracts.records import TelemetryRecord, decode_input
from hazardwatch.ingest.bridge import points_reply
from hazardwatch.ingest.decode import Accepted, MessageDecoder, Rejected
from hazardwatch.streams.replay import Replayer
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine

CAT = load_catalog("deploy/catalog/demo.yaml")
GDS = "hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry"
T0 = 1_795_000_000_000
SENSORS = ("T101-GAS1", "T101-GAS2", "T102-NH3")
UNKNOWN, STRING, NULL_GOOD, NULL_BAD = 2, 7, 11, 13  # indexes of the odd points


def gds_message(ts: int, seq: int, gas1: float = 3.0) -> dict[str, object]:
    """A GDS gateway's buffered batch: 500 points of its 3 detectors over the last 10 s, with
    one unknown tag, one string value, one null value marked good (refused) and one null
    value marked bad (a quality record, accepted)."""
    points: list[dict[str, object]] = []
    for i in range(500):
        sensor = SENSORS[i % 3]
        value: object = gas1 if sensor == "T101-GAS1" else 2.0
        points.append({"sensor": sensor, "value": value, "ts": ts - 10_000 + i * 20})
    points[UNKNOWN]["sensor"] = "T101-GAS9"  # a tag added in the DCS, not yet catalogued
    points[STRING]["value"] = "12.5"
    points[NULL_GOOD]["value"] = None
    points[NULL_BAD].update(value=None, q="bad")
    return {"ts": ts, "seq": seq, "points": points}


def test_a_500_point_message_keeps_its_good_points_and_names_the_bad_ones() -> None:
    out = MessageDecoder(CAT).decode(GDS, json.dumps(gds_message(T0, 42)).encode(), T0)
    assert isinstance(out, Accepted), out
    rec = decode_input(out.value)
    assert isinstance(rec, TelemetryRecord) and rec.v == 2
    assert len(rec.points) == 497
    assert [(r.index, r.reason) for r in out.refused] == [
        (UNKNOWN, Reason.UNKNOWN_SENSOR), (STRING, Reason.WRONG_TYPE),
        (NULL_GOOD, Reason.MISSING_VALUE)]
    assert out.refused[0].sensor == "T101-GAS9" and "$.points[2].sensor" in out.refused[0].detail
    assert "$.points[7].value" in out.refused[1].detail and out.refused[1].sensor == SENSORS[1]
    quality = [p for p in rec.points if p.value is None]
    assert [(p.sensor, p.q) for p in quality] == [(SENSORS[NULL_BAD % 3], "bad")]
    reply = json.loads(points_reply(out.refused, GDS, T0, rec.seq, len(rec.points)))
    assert (reply["seq"], reply["accepted"], reply["refused"]) == (42, 497, 3)
    assert [p["index"] for p in reply["points"]] == [UNKNOWN, STRING, NULL_GOOD]


def test_what_cannot_be_split_is_still_rejected_whole() -> None:
    dec = MessageDecoder(CAT)
    for payload, reason in ((b'{"ts": 1, "points": [', Reason.NOT_JSON),
                            (json.dumps({"ts": "x", "points": [{"sensor": "T101-GAS1",
                                                                "value": 1}]}).encode(),
                             Reason.BAD_TIMESTAMP)):
        out = dec.decode(GDS, payload, T0)
        assert isinstance(out, Rejected) and out.reason is reason
    wrong = dec.decode("hw/v1/sites/tf-hohhot-01/devices/no-gw/telemetry",
                       json.dumps(gds_message(T0, 1)).encode(), T0)
    assert isinstance(wrong, Rejected) and wrong.reason is Reason.UNKNOWN_DEVICE


def test_every_point_refused_still_shows_the_device_alive() -> None:
    out = MessageDecoder(CAT).decode(GDS, json.dumps({"ts": T0, "points": [
        {"sensor": "X-1", "value": 1}]}).encode(), T0)
    assert isinstance(out, Accepted) and out.record.points == []  # type: ignore[union-attr]
    assert [r.reason for r in out.refused] == [Reason.UNKNOWN_SENSOR]


def test_the_gateway_stays_online_and_its_70_lel_reading_raises_its_warning() -> None:
    lines = [json.dumps({"topic": GDS, "received_at": T0 + k * 10_000,
                         "payload": gds_message(T0 + k * 10_000, k, 70.0 if k >= 6 else 3.0)})
             for k in range(30)]  # 5 minutes, every 10 s, the leak from the 7th message on
    rp = Replayer(MessageDecoder(CAT), Engine(CAT, load_rules()))
    warnings = list(rp.run(lines))
    assert rp.summary.accepted == 30 and not rp.summary.rejected
    assert rp.summary.readings == 30 * 497
    assert rp.summary.points_refused == {"unknown_sensor": 30, "wrong_type": 30,
                                         "missing_value": 30}
    assert not [w for w in warnings if w.rule == "device.offline"]
    assert [(w.rule, w.transition, w.level, w.sensor, w.value) for w in warnings] == [
        ("tank_farm.gas_combustible.threshold", "raised", 2, "T101-GAS1", 70.0)]
    # the bad-quality point reached the fault handling of its sensor
    assert rp.sites["tf-hohhot-01"].sensors[SENSORS[NULL_BAD % 3]].fault_reason == "bad_quality"
