"""Partial acceptance on the real pipeline: a 500-point GDS message with three bad points goes
through the bridge, its 70 %LEL reading raises its warning in the worker, each bad point lands
in hw.rejected with its index, and the gateway is told which points were refused."""

from __future__ import annotations

import json
import time
from typing import Any

import msgspec

from hazardwatch import kafka_tail
from hazardwatch.stack.manager import Stack
from tests.helpers import MqttProbe, wait_for
from tests.integration.conftest import Pipeline
from tests.integration.test_streams import GAS, GDS, GDS_USER, WarningTail
from tests.unit.test_partial_acceptance import NULL_GOOD, STRING, UNKNOWN, gds_message


def test_a_500_point_message_with_bad_points_raises_its_warning_end_to_end(
        stack: Stack, pipeline: Pipeline, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    pipeline.worker().start()
    tail = WarningTail(stack, pipeline)
    rejected = kafka_tail.mark(stack.settings.kafka_bootstrap,
                               [pipeline.bridge.topic("hw.rejected")])
    password = device_accounts[GDS_USER]["password"]
    listener = MqttProbe(stack.settings.mqtt_port, GDS_USER, password)
    listener.connect()
    listener.client.subscribe(GDS.rsplit("/", 1)[0] + "/rejected", qos=0)
    time.sleep(0.3)
    pub = publisher_factory(GDS_USER, password)
    now = int(time.time() * 1000)
    for k in range(4):  # 70 %LEL from the second message on, 10 s apart (persistence 10 s)
        body = gds_message(now + k * 10_000, k, 70.0 if k else 3.0)
        pub.publish(GDS, json.dumps(body).encode(), qos=1).wait_for_publish(5)
    ws = tail.wait(lambda g: any(w["rule"] == GAS for w in g))
    gas = [w for w in ws if w["rule"] == GAS]
    assert [(w["transition"], w["level"], w["sensor"], w["value"]) for w in gas] == [
        ("raised", 2, "T101-GAS1", 70.0)]
    assert not [w for w in ws if w["rule"] == "device.offline"]
    got = kafka_tail.read_since(stack.settings.kafka_bootstrap, rejected,
                                done=lambda g: len(g) >= 12)
    recs = [msgspec.json.decode(m.value()) for m in got]
    assert sorted((r["seq"], r["index"], r["reason"]) for r in recs) == sorted(
        (k, i, reason) for k in range(4) for i, reason in ((UNKNOWN, "unknown_sensor"),
                                                           (STRING, "wrong_type"),
                                                           (NULL_GOOD, "missing_value")))
    assert {r["device"] for r in recs} == {"tf-hohhot-01/gds-01"}
    replies = wait_for(lambda: len(listener.messages) >= 4 and listener.messages, 10)
    first = json.loads(replies[0].payload)
    assert (first["reason"], first["accepted"], first["refused"]) == ("points_refused", 497, 3)
    assert first["seq"] in range(4) and [p["index"] for p in first["points"]] == [
        UNKNOWN, STRING, NULL_GOOD]
    listener.close()
