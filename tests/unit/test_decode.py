"""MessageDecoder: every kind of bad input has a precise reason; valid input is normalised."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.reasons import Reason
from hazardwatch.contracts.records import TyreRecord, VideoEventRecord, decode_input
from hazardwatch.ingest.decode import Accepted, MessageDecoder, Rejected
from tests.fixtures.bad_inputs import bad_inputs, whole_message

NOW = 1_795_000_000_000
DECODER = MessageDecoder(load_catalog("deploy/catalog/demo.yaml"))


@pytest.mark.parametrize(("reason", "topic", "payload"), bad_inputs(NOW),
                         ids=lambda v: v if isinstance(v, str) and "/" not in v else "")
def test_bad_input_is_rejected_with_its_reason(reason: str, topic: str, payload: bytes) -> None:
    out = DECODER.decode(topic, payload, NOW)
    if not whole_message(reason, topic, payload):  # only a point is bad: that point is refused
        assert isinstance(out, Accepted), out
        assert [r.reason.value for r in out.refused] == [reason] and out.refused[0].detail
        assert "$.points[" in out.refused[0].detail
        return
    assert isinstance(out, Rejected), out
    assert out.reason.value == reason, out.detail
    assert out.detail


def test_the_table_covers_every_reason_code() -> None:
    covered = {row[0] for row in bad_inputs(NOW)}
    assert covered == {r.value for r in Reason}
    assert len(covered) >= 20


def test_rejection_detail_names_the_field_path() -> None:
    out = DECODER.decode("hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry",
                         json.dumps({"ts": NOW, "points": [{"sensor": "T101-LT", "value": 1},
                                                           {"sensor": "T101-TT", "value": "x"}]
                                     }).encode(), NOW)
    assert isinstance(out, Accepted) and "$.points[1].value" in out.refused[0].detail


def test_telemetry_is_normalised_with_point_times() -> None:
    payload = {"ts": "2026-11-18T19:06:40.5+08:00", "seq": 42,
               "points": [{"sensor": "T101-LT", "value": 14.2},
                          {"sensor": "T101-TT", "value": 31, "ts": NOW - 23, "q": "uncertain"}]}
    out = DECODER.decode("hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry",
                         json.dumps(payload).encode(), NOW)
    assert isinstance(out, Accepted)
    assert (out.topic, out.key) == ("hw.telemetry", b"tf-hohhot-01")
    rec = decode_input(out.value)
    assert rec == out.record
    assert rec.ts == NOW + 500 and rec.seq == 42  # type: ignore[union-attr]
    assert [(p.ts, p.q) for p in rec.points] == [  # type: ignore[union-attr]
        (NOW + 500, "good"), (NOW - 23, "uncertain")]


def test_a_vehicle_tpms_event_keeps_its_tyre_and_a_camera_may_not_send_one() -> None:
    payload = {"ts": NOW, "event_id": "T-1", "family": "tpms", "type": "pressure_low",
               "speed_kmh": 62, "tyre": {"position": 3, "alarm_bits": 5, "pressure_kpa": 420,
                                         "temperature_c": 38, "battery_pct": 80}}
    out = DECODER.decode("hw/v1/vehicles/hz-0001/video-event", json.dumps(payload).encode(), NOW)
    assert isinstance(out, Accepted) and out.topic == "hw.video-events"
    rec = decode_input(out.value)
    assert isinstance(rec, VideoEventRecord) and rec == out.record and rec.v == 2
    assert rec.tyre == TyreRecord(3, 5, 420.0, 38.0, 80.0)
    out = DECODER.decode("hw/v1/sites/tf-hohhot-01/devices/cam-01/video-event",
                         json.dumps(payload).encode(), NOW)
    assert isinstance(out, Rejected) and out.reason is Reason.FAMILY_MISMATCH
    payload["tyre"] = {"position": 300}
    out = DECODER.decode("hw/v1/vehicles/hz-0001/video-event", json.dumps(payload).encode(), NOW)
    assert isinstance(out, Rejected) and out.reason is Reason.OUT_OF_RANGE


@pytest.mark.parametrize("payload", [b"offline", b'"online"', b'{"status": "online", "ts": 1}'])
def test_status_accepts_bare_string_quoted_string_and_object(payload: bytes) -> None:
    out = DECODER.decode("hw/v1/vehicles/hz-0001/status", payload, NOW, retained=True)
    if payload.startswith(b"{"):
        assert isinstance(out, Rejected) and out.reason is Reason.TS_TOO_OLD
        return
    assert isinstance(out, Accepted) and out.topic == "hw.device-status"
    assert out.record.retained is True and out.record.ts == NOW  # type: ignore[union-attr]


def test_rejected_input_tells_the_sender_where() -> None:
    out = DECODER.decode("hw/v1/vehicles/hz-0001/position", b"[]", NOW)
    assert isinstance(out, Rejected) and out.reply_topic == "hw/v1/vehicles/hz-0001/rejected"
    out = DECODER.decode("nothing/here", b"[]", NOW)
    assert isinstance(out, Rejected) and out.reply_topic is None and out.key == b"nothing/here"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)
topics = st.sampled_from([
    "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry", "hw/v1/vehicles/hz-0001/position",
    "hw/v1/vehicles/hz-0001/video-event", "hw/v1/sites/tf-hohhot-01/devices/cam-01/video-event",
    "hw/v1/vehicles/hz-0001/status",
]) | st.text(max_size=60)


@settings(max_examples=400, deadline=None)
@given(topic=topics, payload=st.binary(max_size=300) | json_values.map(
    lambda v: json.dumps(v, allow_nan=True).encode()))
def test_decoder_never_raises(topic: str, payload: bytes) -> None:
    out = DECODER.decode(topic, payload, NOW)
    assert isinstance(out, Accepted | Rejected)
    if isinstance(out, Accepted):
        record = msgspec.json.decode(out.value)
        assert record["v"] == {"telemetry": 2, "video-event": 2}.get(record["kind"], 1)


@settings(max_examples=200, deadline=None)
@given(value=st.floats(allow_nan=True, allow_infinity=True), offset=st.integers(-10**7, 10**7))
def test_accepted_values_are_finite_and_times_bounded(value: float, offset: int) -> None:
    body = b'{"ts": %d, "points": [{"sensor": "T101-LT", "value": %s}]}' % (
        NOW + offset, json.dumps(value).encode())
    out = DECODER.decode("hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry", body, NOW)
    if isinstance(out, Accepted):
        point = out.record.points[0]  # type: ignore[union-attr]
        assert point.value == value
        assert point.ts - NOW <= 5 * 60 * 1000  # never accepted further ahead than the limit
    else:
        assert out.reason in (Reason.NON_FINITE, Reason.TS_IN_FUTURE)
