"""InfluxDB stopped for 60 s under load: every reading and warning is there after it returns."""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec

from hazardwatch import kafka_tail
from hazardwatch.stack import process
from hazardwatch.stack.influx import influxql
from hazardwatch.stack.manager import Stack
from tests.helpers import wait_for
from tests.integration.conftest import Pipeline

GDS_USER = "dev.tf-hohhot-01.gds-01"
GDS = "hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry"


def _count(url: str, db: str, q: str) -> int:
    series = influxql(url, q, db=db)["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def test_influxdb_down_for_60_s_loses_no_reading_and_no_warning(
        stack: Stack, pipeline: Pipeline, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    pipeline.worker().start()
    sink = pipeline.sink()
    sink.start()
    warnings_mark = kafka_tail.mark(stack.settings.kafka_bootstrap,
                                    [pipeline.bridge.topic("hw.warnings")])
    pub = publisher_factory(GDS_USER, device_accounts[GDS_USER]["password"])
    base = int(time.time() * 1000) - 10_000  # event time 10 ms apart: about real time
    stop, sent = threading.Event(), [0]

    def send() -> None:  # ~100 messages/s of 3 points; T101-GAS2 high 20 s of every 70 s
        while not stop.is_set() and sent[0] < 20_000:
            for _ in range(10):
                i = sent[0]
                gas2 = 35.0 if i % 7000 < 2000 else 3.0
                body = (b'{"ts": %d, "seq": %d, "points": [{"sensor": "T101-GAS1", "value": 2.5},'
                        b' {"sensor": "T101-GAS2", "value": %s},'
                        b' {"sensor": "T102-NH3", "value": 1.5}]}') % (
                    base + i * 10, i, str(gas2).encode())
                pub.publish(GDS, body)
                sent[0] += 1
            time.sleep(0.1)

    sender = threading.Thread(target=send)
    sender.start()
    influx = stack.service("influxdb")
    try:
        time.sleep(5)
        pid = stack.pid(influx)
        assert pid is not None
        process.terminate(pid, timeout=15)
        time.sleep(60)
    finally:
        stack.up(say=lambda _m: None)
    time.sleep(5)
    stop.set()
    sender.join(10)
    n = sent[0]
    url, db = stack.settings.influx_url, pipeline.db
    q = 'SELECT count(value) FROM "chem_30d"."reading" WHERE device = \'gds-01\''
    wait_for(lambda: _count(url, db, q) >= 3 * n, timeout=120, interval=1)
    assert _count(url, db, q) == 3 * n  # every reading, none twice (points are idempotent)
    metrics = pipeline.bridge.metrics()
    assert not any(k.startswith("hw_bridge_rejected_total") for k in metrics)
    assert metrics["hw_bridge_forwarded_total"] == n
    ws = kafka_tail.read_since(stack.settings.kafka_bootstrap, warnings_mark,
                               done=lambda m: False, timeout=5)
    ids = {(msgspec.json.decode(m.value())["warning_id"],
            msgspec.json.decode(m.value())["transition"]) for m in ws}
    assert len(ids) >= 2  # raised and cleared episodes happened during the outage
    wq = 'SELECT count(level_value) FROM "events_1096d"."warning"'
    wait_for(lambda: _count(url, db, wq) >= len(ws), timeout=60, interval=1)
    assert _count(url, db, wq) == len(ws)
    assert "consumption paused" in sink.log.read_text()
