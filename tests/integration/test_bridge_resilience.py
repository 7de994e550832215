"""Nothing is lost when the bridge is killed or Kafka goes away (duplicates allowed)."""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec

from hazardwatch import kafka_tail
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.stack import process
from hazardwatch.stack.manager import Stack
from tests.helpers import wait_for
from tests.integration.conftest import BridgeProcess

GW_USER = "dev.tf-hohhot-01.dcs-gw-01"
GW_TOPIC = "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry"


def _body(seq: int) -> bytes:
    return b'{"ts": %d, "seq": %d, "points": [{"sensor": "T101-LT", "value": 7.5}]}' % (
        int(time.time() * 1000), seq)


def _seqs(stack: Stack, offsets: kafka_tail.Offsets, n: int, timeout: float) -> set[int]:
    seen: set[int] = set()
    read = [0]

    def done(msgs: list[Any]) -> bool:
        for m in msgs[read[0]:]:
            seen.add(msgspec.json.decode(m.value())["seq"])
        read[0] = len(msgs)
        return len(seen) >= n

    kafka_tail.read_since(stack.settings.kafka_bootstrap, offsets, done=done, timeout=timeout)
    return seen


def test_kill_9_in_the_middle_of_20000_messages_loses_none(
        stack: Stack, bridge: BridgeProcess, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    n = 20_000
    offsets = kafka_tail.mark(stack.settings.kafka_bootstrap,
                              [bridge.topic(KafkaTopic.TELEMETRY)])
    pub = publisher_factory(GW_USER, device_accounts[GW_USER]["password"])
    sender = threading.Thread(target=lambda: [pub.publish(GW_TOPIC, _body(i)) for i in range(n)])
    sender.start()
    wait_for(lambda: bridge.metrics()["hw_bridge_acked_total"] >= n // 4, timeout=60)
    bridge.kill()
    killed_at = time.monotonic()
    sender.join(120)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - killed_at)))
    bridge.start()  # same client id: the persistent session is resumed
    seen = _seqs(stack, offsets, n, timeout=120)
    missing = sorted(set(range(n)) - seen)
    assert not missing, f"{len(missing)} missing, first {missing[:10]}"


def test_kafka_stopped_for_30_s_under_load_loses_none(
        stack: Stack, bridge: BridgeProcess, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    offsets = kafka_tail.mark(stack.settings.kafka_bootstrap,
                              [bridge.topic(KafkaTopic.TELEMETRY)])
    pub = publisher_factory(GW_USER, device_accounts[GW_USER]["password"])
    stop = threading.Event()
    sent = [0]

    def send() -> None:  # ~200 messages/s until told to stop
        while not stop.is_set():
            for _ in range(20):
                pub.publish(GW_TOPIC, _body(sent[0]))
                sent[0] += 1
            time.sleep(0.1)

    sender = threading.Thread(target=send)
    sender.start()
    kafka = stack.service("kafka")
    try:
        time.sleep(3)
        pid = stack.pid(kafka)
        assert pid is not None
        process.terminate(pid, timeout=kafka.stop_timeout_s)
        down_at = time.monotonic()
        time.sleep(30)
        acked_while_down = bridge.metrics()["hw_bridge_acked_total"]
        time.sleep(1)
        assert bridge.metrics()["hw_bridge_acked_total"] == acked_while_down  # no ack w/o Kafka
        assert bridge.metrics()["hw_bridge_in_flight"] > 0
        assert time.monotonic() - down_at >= 30
    finally:
        stack.up(say=lambda _m: None)
    time.sleep(3)
    stop.set()
    sender.join(10)
    n = sent[0]
    assert n > 6000
    seen = _seqs(stack, offsets, n, timeout=120)
    missing = sorted(set(range(n)) - seen)
    assert not missing, f"{len(missing)} of {n} missing, first {missing[:10]}"
    assert bridge.proc is not None and bridge.proc.poll() is None
