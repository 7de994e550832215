"""Kafka killed (-9) for 70 s, and stopped (SIGTERM) for 60 s, under load, on the session's fault
stack (conftest.py).

Devices publish every 0.5 s with a per-device seq through the real bridge, worker and sink.
Promises: nothing acknowledged is lost (counted by seq on hw.telemetry and in InfluxDB), the
sink, worker and bridge are alive, every reading is in InfluxDB within 60 s of Kafka's return,
no device.offline is raised for the platform's own gap, and the worker logs fewer than 100
lines a second during the outage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.fault_stack import FaultStack
from bench.faults import kafka_outage
from tests.faults.conftest import BLOCK


def test_kafka_killed_for_70_s_under_load(tmp_path: Path, fault_stack: FaultStack) -> None:
    r = kafka_outage(tmp_path / "kafka", devices=50, outage_s=70, warm_s=12, after_s=10,
                     fs=fault_stack, first_site=BLOCK["kafka"])
    print(json.dumps(r))
    _assert_promises(r)


def test_kafka_stopped_for_60_s_under_load(tmp_path: Path, fault_stack: FaultStack) -> None:
    r = kafka_outage(tmp_path / "kafka-stop", devices=50, outage_s=60, warm_s=8, after_s=10,
                     kill=False, fs=fault_stack, first_site=BLOCK["kafka_stop"])
    print(json.dumps(r))
    _assert_promises(r)


def _assert_promises(r: dict[str, Any]) -> None:
    assert r["acked"] > 0 and r["lost"] == 0, r
    assert r["sink_alive"] and r["worker_alive"] and r["bridge_alive"], r
    assert r["influx_readings"] >= r["acked"], r
    assert r["recovered_after_return_s"] is not None and r["recovered_after_return_s"] <= 60, r
    assert r["false_offline"] == 0, r
    assert r["worker_log_lines_per_s"] < 100, r
