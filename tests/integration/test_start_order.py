"""Start in any order: a worker started on a Kafka without its topics, before the bridge, works.

The worker creates its topics (4 partitions each), the bridge starts later, one reading over the
threshold arrives, and the warning is raised by a tick once its persistence has passed: the
input path, the ticks and the timers all work within seconds, not after a metadata refresh.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient  # type: ignore[attr-defined]

from hazardwatch.stack.manager import Stack
from tests.helpers import free_port
from tests.integration.conftest import BridgeProcess
from tests.integration.test_streams import GAS, GDS, GDS_USER, WarningTail, _gas, _gas_warnings


def test_worker_on_an_empty_kafka_before_the_bridge_raises_in_time(
        stack: Stack, services: Any, tmp_path: Path, unique: str, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    bridge = BridgeProcess(stack, tmp_path, unique)
    admin = AdminClient({"bootstrap.servers": stack.settings.kafka_bootstrap})
    assert not [t for t in admin.list_topics(timeout=10).topics if t.startswith(bridge.prefix)]
    worker = services(["worker", "--topic-prefix", bridge.prefix, "--app-id", f"app-{unique}",
                       "--web-port", str(free_port()), "--grace", "0"],
                      "[^Worker]: Ready", "worker")
    worker.start()
    topics = admin.list_topics(timeout=10).topics
    for t in ("hw.telemetry", "hw.ticks", "hw.warnings", "hw.device-status",
              "hw.video-events", "hw.vehicle.positions", "hw.vehicle-daily", "hw.seen-hourly",
              "hw.vehicle-hourly"):
        assert len(topics[bridge.topic(t)].partitions) == 4, t
    tail = WarningTail(stack, _Prefixed(bridge))
    bridge.start()
    try:
        pub = publisher_factory(GDS_USER, device_accounts[GDS_USER]["password"])
        sent = time.monotonic()
        # one reading over the threshold: only a tick, 10 s (persistence) later, can raise it
        pub.publish(GDS, _gas(int(time.time() * 1000), 30, 0)).wait_for_publish(5)
        ws = tail.wait(lambda g: _gas_warnings(g), timeout=60)
        took = time.monotonic() - sent
        assert _gas_warnings(ws) == [("raised", 3)], ws
        raised = next(w for w in ws if w["rule"] == GAS)
        assert raised["ts"] - raised["started_at"] >= 10_000  # fired by the timer
        assert took < 25, f"first warning {took:.1f} s after the reading"
        print(f"first warning {took:.1f} s after the reading (persistence 10 s)")
        log = worker.log.read_text(errors="replace")
        assert "ProducerFenced" not in log and "IllegalOperation" not in log
    finally:
        assert bridge.stop() == 0, bridge.log.read_text()[-3000:]
        bridge.retire()


class _Prefixed:
    """What WarningTail needs of a pipeline: its bridge."""

    def __init__(self, bridge: BridgeProcess) -> None:
        self.bridge = bridge
