"""The real bridge between real Mosquitto and real Kafka: round trips, bad input, ACLs."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hazardwatch import kafka_tail
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.simulators.samples import samples
from hazardwatch.stack.manager import Stack
from tests.fixtures.bad_inputs import bad_inputs, whole_message
from tests.helpers import MqttProbe, wait_for
from tests.integration.conftest import BridgeProcess

INPUT_TOPICS = [KafkaTopic.TELEMETRY, KafkaTopic.POSITIONS, KafkaTopic.VIDEO_EVENTS,
                KafkaTopic.DEVICE_STATUS, KafkaTopic.REJECTED]


def _mark(stack: Stack, bridge: BridgeProcess) -> kafka_tail.Offsets:
    return kafka_tail.mark(stack.settings.kafka_bootstrap,
                           [bridge.topic(t) for t in INPUT_TOPICS])


def test_round_trip_of_every_topic_kind(stack: Stack, bridge: BridgeProcess,
                                        device_accounts: dict[str, Any],
                                        publisher_factory: Any) -> None:
    offsets = _mark(stack, bridge)
    now = int(time.time() * 1000)
    cat = load_catalog("deploy/catalog/demo.yaml")
    msgs = samples(cat, now)
    kinds = {m.topic.rsplit("/", 1)[1] + ("@vehicle" if "/vehicles/" in m.topic else "@site")
             for m in msgs}
    assert kinds == {"telemetry@site", "status@site", "video-event@site", "position@vehicle",
                     "status@vehicle", "video-event@vehicle"}
    pubs = {}
    for m in msgs:
        if m.username not in pubs:
            pubs[m.username] = publisher_factory(m.username,
                                                 device_accounts[m.username]["password"])
        pubs[m.username].publish(m.topic, m.payload).wait_for_publish(5)
    got = kafka_tail.read_since(stack.settings.kafka_bootstrap, offsets,
                                done=lambda g: len(g) >= len(msgs))
    assert len(got) == len(msgs)
    by_topic = Counter(m.topic().removeprefix(bridge.prefix) for m in got)
    cameras = sum(d.kind == "camera" for d in cat.devices.values())
    assert by_topic == Counter({
        "hw.device-status": len(cat.devices) + len(cat.vehicles),
        "hw.telemetry": len(cat.devices) - cameras,
        "hw.vehicle.positions": len(cat.vehicles),
        "hw.video-events": len(cat.vehicles) + cameras,
    })
    recs = [msgspec.json.decode(m.value()) for m in got]
    # telemetry v2: null values of q "bad" (issue 21); video events v2: the TPMS tyre (issue 15)
    assert all(r["v"] == (2 if r["kind"] in ("telemetry", "video-event") else 1)
               and r["drill"] is True for r in recs)
    tele = [r for r in recs if r["kind"] == "telemetry"]
    keys = {m.key() for m in got if m.topic().endswith("hw.telemetry")}
    assert keys == {b"tf-hohhot-01", b"cm-ordos-01", b"td-baotou-01"}
    assert all(p["ts"] == now for r in tele for p in r["points"])
    ev = next(r for r in recs if r["kind"] == "video-event" and r["vehicle_id"] == "hz-0001")
    assert ev["media"][0]["uri"] == "https://files.example/hz-0001/1.jpg"


def test_every_kind_of_bad_input_lands_in_the_dead_letter_topic(
        stack: Stack, bridge: BridgeProcess, mqtt_credentials: dict[str, str],
        device_accounts: dict[str, Any], publisher_factory: Any) -> None:
    offsets = _mark(stack, bridge)
    now = int(time.time() * 1000)
    rows = bad_inputs(now)
    # the sender hears why: the gateway's account may read its own .../rejected topic
    gw_user = "dev.tf-hohhot-01.dcs-gw-01"
    listener = MqttProbe(stack.settings.mqtt_port, gw_user, device_accounts[gw_user]["password"])
    listener.connect()
    listener.client.subscribe("hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/rejected", qos=0)
    pub = publisher_factory("hw-admin", mqtt_credentials["hw-admin"])  # may write hw/v9/…
    good = b'{"ts": %d, "seq": %d, "points": [{"sensor": "T101-LT", "value": 3.5}]}'
    gw = "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry"
    for i, (_reason, topic, payload) in enumerate(rows):
        pub.publish(gw, good % (now, i))  # valid messages flow around the bad ones
        pub.publish(topic, payload).wait_for_publish(5)
    pub.publish(gw, good % (now, len(rows))).wait_for_publish(5)
    partial = [r for r in rows if not whole_message(*r)]  # one refused point, message accepted
    want = 2 * len(rows) + 1 + len(partial)
    got = kafka_tail.read_since(stack.settings.kafka_bootstrap, offsets,
                                done=lambda g: len(g) >= want)
    rejected = [m for m in got if m.topic() == bridge.topic(KafkaTopic.REJECTED)]
    dlq = [msgspec.json.decode(m.value()) for m in rejected]
    # partitions are ordered only per key, so compare as sorted lists; the bytes are the originals
    assert sorted((r["reason"], r["topic"], base64.b64decode(r["payload_b64"])) for r in dlq) \
        == sorted(rows)
    for rec, msg in zip(dlq, rejected, strict=True):
        assert abs(rec["received_at"] - now) < 60_000 and rec["detail"]
        assert dict(msg.headers() or [])["reason"] == rec["reason"].encode()
    assert len([r for r in dlq if r["index"] is not None]) == len(partial)
    telemetry = [msgspec.json.decode(m.value()) for m in got
                 if m.topic() == bridge.topic(KafkaTopic.TELEMETRY)]
    seqs = sorted(t["seq"] for t in telemetry if t["seq"] is not None)  # the good messages
    assert seqs == list(range(len(rows) + 1))
    assert len([t for t in telemetry if t["seq"] is None]) == len(partial)
    m = bridge.metrics()
    assert m['hw_bridge_rejected_total{reason="not_json"}'] == 2
    assert sum(v for k, v in m.items() if k.startswith("hw_bridge_rejected_total")) \
        == len(rows) - len(partial)
    assert sum(v for k, v in m.items() if k.startswith("hw_bridge_points_refused_total")) \
        == len(partial)
    replies = wait_for(lambda: len(listener.messages) >= 20 and listener.messages, 10)
    first = json.loads(replies[0].payload)
    assert first["reason"] == "payload_too_large" and first["topic"].endswith("/telemetry")
    listener.close()


payloads = st.one_of(
    st.binary(max_size=200),
    st.fixed_dictionaries({"ts": st.one_of(st.integers(), st.text(max_size=30), st.none()),
                           "points": st.lists(st.fixed_dictionaries({
                               "sensor": st.sampled_from(["T101-LT", "T101-TT", "X", ""]),
                               "value": st.floats(allow_nan=False) | st.text(max_size=5)}),
                               max_size=3)},
                          optional={"seq": st.integers(), "drill": st.booleans()}
                          ).map(lambda d: json.dumps(d).encode()),
)


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(payloads, min_size=150, max_size=150))
def test_generated_payloads_never_crash_the_bridge(stack: Stack, bridge: BridgeProcess,
                                                   mqtt_credentials: dict[str, str],
                                                   publisher_factory: Any,
                                                   batch: list[bytes]) -> None:
    offsets = _mark(stack, bridge)
    pub = publisher_factory("hw-simulator", mqtt_credentials["hw-simulator"])
    for payload in batch:
        pub.publish("hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry", payload)
    def per_message(g: list[Any]) -> int:  # a refused point has a record of its own
        return sum(1 for m in g if m.topic() != bridge.topic(KafkaTopic.REJECTED)
                   or msgspec.json.decode(m.value()).get("index") is None)

    got = kafka_tail.read_since(stack.settings.kafka_bootstrap, offsets,
                                done=lambda g: per_message(g) >= len(batch))
    assert per_message(got) == len(batch)  # each one is forwarded or dead-lettered, none dropped
    assert bridge.proc is not None and bridge.proc.poll() is None
    m = bridge.metrics()
    assert m["hw_bridge_received_total"] == len(batch)


def test_a_device_cannot_publish_outside_its_own_topics(
        stack: Stack, mqtt_credentials: dict[str, str],
        device_accounts: dict[str, Any]) -> None:
    user = "dev.tf-hohhot-01.dcs-gw-01"
    password = device_accounts[user]["password"]
    targets = ["hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry",  # a sibling device
               "hw/v1/sites/cm-ordos-01/devices/kj-sub-01/telemetry",  # another site
               "hw/v1/vehicles/hz-0001/position",
               "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/rejected"]  # read-only for it
    admin = MqttProbe(stack.settings.mqtt_port, "hw-admin", mqtt_credentials["hw-admin"])
    admin.connect()
    for t in targets:
        admin.client.subscribe(t, qos=1)
    time.sleep(0.3)
    try:
        for t in targets:  # one connection each: paho drops it after a refused PUBACK
            probe = MqttProbe(stack.settings.mqtt_port, user, password)
            dropped = threading.Event()
            probe.client.on_disconnect = lambda *a, d=dropped: d.set()
            assert probe.connect().value == 0
            info = probe.client.publish(t, b'{"ts": 1}', qos=1)
            wait_for(lambda i=info, p=probe, d=dropped: p.pubacks.get(i.mid) or d.is_set(), 5)
            rc = probe.pubacks.get(info.mid)
            assert rc is None or rc.getName() == "Not authorized", (t, rc)
            probe.close()
        time.sleep(0.5)
        assert admin.messages == []  # the broker delivered none of them
        own = MqttProbe(stack.settings.mqtt_port, user, password)
        own.connect()
        info = own.client.publish("hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/status",
                                  b"online", qos=1)
        rc = wait_for(lambda: own.pubacks.get(info.mid), 5)
        assert not rc.is_failure, rc  # "Success" or "No matching subscribers"
        own.close()
    finally:
        admin.close()
