"""Rules on the real pipeline: MQTT → bridge → Kafka → worker → hw.warnings → sink → InfluxDB."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import requests

from hazardwatch import kafka_tail
from hazardwatch.contracts.seen import SeenEntry, parse
from hazardwatch.stack.influx import influxql
from hazardwatch.stack.manager import Stack
from tests.helpers import wait_for
from tests.integration.conftest import Pipeline

GDS_USER = "dev.tf-hohhot-01.gds-01"
GDS = "hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry"
GAS = "tank_farm.gas_combustible.threshold"


def _gas(ts: int, value: float, seq: int) -> bytes:
    return b'{"ts": %d, "seq": %d, "points": [{"sensor": "T101-GAS1", "value": %s}]}' % (
        ts, seq, str(value).encode())


class WarningTail:
    """Collects this pipeline's warning records from Kafka (read_committed)."""

    def __init__(self, stack: Stack, p: Pipeline) -> None:
        self.stack = stack
        self.offsets = kafka_tail.mark(stack.settings.kafka_bootstrap,
                                       [p.bridge.topic("hw.warnings")])

    def wait(self, pred: Any, timeout: float = 60) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []

        def done(msgs: list[Any]) -> bool:
            got[:] = [msgspec.json.decode(m.value()) for m in msgs]
            return bool(pred(got))

        kafka_tail.read_since(self.stack.settings.kafka_bootstrap, self.offsets, done=done,
                              timeout=timeout)
        return got


def _gas_warnings(ws: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(w["transition"], w["level"]) for w in ws if w["rule"] == GAS]


def test_a_reading_on_mqtt_yields_the_warning_on_kafka_and_in_influxdb(
        stack: Stack, pipeline: Pipeline, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    pipeline.worker().start()
    pipeline.sink().start()
    tail = WarningTail(stack, pipeline)
    pub = publisher_factory(GDS_USER, device_accounts[GDS_USER]["password"])
    now = int(time.time() * 1000)
    for i, v in enumerate([5, 30, 30, 30, 55]):  # event time 10 s apart: persistence 10 s
        pub.publish(GDS, _gas(now + i * 10_000, v, i)).wait_for_publish(5)
    ws = tail.wait(lambda g: len(_gas_warnings(g)) >= 2)
    assert _gas_warnings(ws) == [("raised", 3), ("upgraded", 2)]
    raised = next(w for w in ws if w["rule"] == GAS)
    assert raised["started_at"] == now + 10_000 and raised["ts"] == now + 20_000
    assert "超过一级报警值 25%LEL" in raised["message"] and raised["colour"] == "yellow"
    url, db = stack.settings.influx_url, pipeline.db
    q = (f"SELECT transition, level_value, message FROM \"events_1096d\".\"warning\" "
         f"WHERE warning_id = '{raised['warning_id']}'")
    rows = wait_for(lambda: influxql(url, q, db=db)["results"][0].get("series"), 30)
    assert sorted(r[1] for r in rows[0]["values"]) == ["raised", "upgraded"]
    readings = wait_for(lambda: influxql(
        url, 'SELECT count(value) FROM "chem_30d"."reading" WHERE sensor = \'T101-GAS1\'',
        db=db)["results"][0].get("series"), 30)
    assert readings[0]["values"][0][1] == 5
    # the worker's hourly tallies (the figures' input) count the five values of the point
    # (in two hours' tallies when the 40 s cross an hour)
    q = 'SELECT "entries" FROM "events_1096d"."seen_hourly" WHERE site = \'tf-hohhot-01\''

    def entries() -> list[SeenEntry]:
        res = requests.post(f"{url}/query", params={"q": q, "db": db, "epoch": "ms"},
                            timeout=10).json()["results"][0]
        got = [e for s in res.get("series", []) for r in s["values"] for e in parse(*r)
               if e.key == "gds-01/T101-GAS1"]
        return got if sum(e.n for e in got) == 5 else []

    seen = wait_for(entries, 30)
    assert min(e.first for e in seen) == now and max(e.last for e in seen) == now + 40_000


def test_kill_9_worker_mid_episode_no_second_raise_and_the_clear_arrives(
        stack: Stack, pipeline: Pipeline, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    worker = pipeline.worker()
    worker.start()
    tail = WarningTail(stack, pipeline)
    pub = publisher_factory(GDS_USER, device_accounts[GDS_USER]["password"])
    now = int(time.time() * 1000)
    seq = 0
    for i in range(4):
        pub.publish(GDS, _gas(now + i * 10_000, 30, seq)).wait_for_publish(5)
        seq += 1
    tail.wait(lambda g: _gas_warnings(g) == [("raised", 3)])
    worker.kill()
    for i in range(4, 8):  # still high while the worker is dead: must not raise again
        pub.publish(GDS, _gas(now + i * 10_000, 31, seq)).wait_for_publish(5)
        seq += 1
    worker.start()
    for i in range(8, 14):  # below restore (20) for longer than the clear delay (30 s)
        pub.publish(GDS, _gas(now + i * 10_000, 4, seq)).wait_for_publish(5)
        seq += 1
    ws = tail.wait(lambda g: ("cleared", 3) in _gas_warnings(g), timeout=120)
    assert _gas_warnings(ws) == [("raised", 3), ("cleared", 3)], [
        (w["warning_id"], w["transition"], w["ts"] - now, w["started_at"] - now) for w in ws]
    assert len({w["warning_id"] for w in ws if w["rule"] == GAS}) == 1
