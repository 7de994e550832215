"""Mosquitto restarted under load, killed -9, then killed -9 in a Kafka outage (bench/faults.py).

Promises: a clean restart loses nothing acknowledged, even when the devices reconnect before
the bridge (it is frozen across the restart: the bridge's plain subscription is restored from
Mosquitto's persistence; a shared one was not, and the broker then acknowledged and dropped what
the devices sent as "no matching subscribers"); the broker never answers "no matching
subscribers"; `hazardwatch simulate` running across the restart exits 0 with its JSON line; a
kill -9 with Kafka up, and one while the broker holds what the bridge cannot forward, each lose
at most 5 s of the devices' acknowledged traffic (a snapshot every 1 s, the stack's default);
the sink and the bridge stay alive. On the session's fault stack (conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.fault_stack import FaultStack
from bench.faults import broker_faults
from tests.faults.conftest import BLOCK


def test_broker_restart_kill_and_kill_during_a_kafka_outage(tmp_path: Path,
                                                       fault_stack: FaultStack) -> None:
    r = broker_faults(tmp_path / "broker", devices=50, fs=fault_stack,
                      first_site=BLOCK["broker"])
    print(json.dumps(r))
    assert r["acked"] > 0 and r["lost_clean_restart"] == 0, r
    assert r["unrouted"] == 0, r
    assert r["simulate_exit"] == 0 and r["simulate_json"], r
    assert r["broker_kill_alone_lost_ms"] <= 5_000, r
    assert r["broker_kill_lost_ms"] <= 5_000, r
    assert r["sink_alive"] and r["bridge_alive"], r
