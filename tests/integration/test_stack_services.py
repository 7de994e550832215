"""Each real service of the local stack answers real requests."""

from __future__ import annotations

import time

import requests
from confluent_kafka import Consumer, Producer
from paho.mqtt.client import MQTTMessage

from hazardwatch.stack.influx import RETENTION_POLICIES, ensure_database, influxql
from hazardwatch.stack.manager import Stack
from tests.helpers import MqttProbe, wait_for


def test_kafka_produce_consume_round_trip(stack: Stack, unique: str) -> None:
    topic = f"test.roundtrip.{unique}"
    producer = Producer({"bootstrap.servers": stack.settings.kafka_bootstrap, "acks": "all",
                         "enable.idempotence": True})
    sent = [f"v{i}".encode() for i in range(50)]
    for v in sent:
        producer.produce(topic, value=v, key=b"k")
    assert producer.flush(15) == 0
    consumer = Consumer({"bootstrap.servers": stack.settings.kafka_bootstrap,
                         "group.id": f"g-{unique}", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    got: list[bytes] = []
    deadline = time.monotonic() + 20
    while len(got) < len(sent) and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
    consumer.close()
    assert got == sent  # one key → one partition → order kept


def test_mqtt_authenticated_publish_subscribe(stack: Stack, mqtt_credentials: dict[str, str],
                                              unique: str) -> None:
    port = stack.settings.mqtt_port
    sub = MqttProbe(port, "hw-bridge", mqtt_credentials["hw-bridge"])
    pub = MqttProbe(port, "hw-simulator", mqtt_credentials["hw-simulator"])
    try:
        assert sub.connect().value == 0
        assert pub.connect().value == 0
        topic = f"hw/v1/sites/s-{unique}/devices/d1/telemetry"
        sub.client.subscribe(topic, qos=1)
        time.sleep(0.3)
        info = pub.client.publish(topic, b'{"ts": 1}', qos=1)
        info.wait_for_publish(5)
        msgs: list[MQTTMessage] = wait_for(lambda: sub.messages, 5)
        assert msgs[0].topic == topic and msgs[0].payload == b'{"ts": 1}'
    finally:
        sub.close()
        pub.close()


def test_mqtt_anonymous_and_wrong_password_are_refused(stack: Stack) -> None:
    anon = MqttProbe(stack.settings.mqtt_port, None, None)
    try:
        rc = anon.connect()
        assert rc.is_failure and rc.getName() == "Not authorized"
    finally:
        anon.close()
    wrong = MqttProbe(stack.settings.mqtt_port, "hw-admin", "not-the-password")
    try:
        rc = wrong.connect()
        assert rc.is_failure and rc.getName() in ("Bad user name or password", "Not authorized")
    finally:
        wrong.close()


def test_mqtt_publish_outside_the_acl_is_denied(stack: Stack, mqtt_credentials: dict[str, str],
                                               unique: str) -> None:
    port = stack.settings.mqtt_port
    admin = MqttProbe(port, "hw-admin", mqtt_credentials["hw-admin"])
    sim = MqttProbe(port, "hw-simulator", mqtt_credentials["hw-simulator"])
    try:
        admin.connect()
        sim.connect()
        forbidden = f"forbidden/{unique}"
        admin.client.subscribe(forbidden, qos=1)
        time.sleep(0.3)
        info = sim.client.publish(forbidden, b"x", qos=1)
        info.wait_for_publish(5)
        rc = wait_for(lambda: sim.pubacks.get(info.mid), 5)
        assert rc.getName() == "Not authorized"
        time.sleep(0.5)
        assert admin.messages == []
    finally:
        admin.close()
        sim.close()


def test_influx_line_protocol_write_read_back(stack: Stack, unique: str) -> None:
    url, db = stack.settings.influx_url, f"test_{unique}"
    ensure_database(url, db)
    try:
        body = "reading,site=s1,sensor=T101-GAS1 value=31.5 1795000000000000000\n" \
               "reading,site=s1,sensor=T101-GAS1 value=52 1795000001000000000\n"
        resp = requests.post(f"{url}/write", params={"db": db, "rp": "chem_30d"}, data=body,
                             timeout=5)
        assert resp.status_code == 204, resp.text
        out = influxql(url, 'SELECT max("value"), count("value") FROM "chem_30d"."reading" '
                            "WHERE sensor = 'T101-GAS1'", db=db)
        assert out["results"][0]["series"][0]["values"][0][1:] == [52, 2]
        rps = influxql(url, f'SHOW RETENTION POLICIES ON "{db}"')["results"][0]["series"][0]
        names = {row[0]: row for row in rps["values"]}
        assert {rp for rp, _, _ in RETENTION_POLICIES} <= set(names)
        assert names["coal_93d"][1] == "2232h0m0s"  # 93 days ≥ 3 months (AQ 6201-2019)
    finally:
        influxql(url, f'DROP DATABASE "{db}"')
