"""End to end on the local stack: MQTT publish → bridge → Kafka → worker → hw.warnings / InfluxDB.

Load: tank-farm gateways of 40 points each publish once a second (as DCS gateways batch), so
R readings/s is R/40 messages/s; realistic noisy values from `simulators/fleet.py`.
Latency: during each latency step a probe coal mine publishes one CH4 reading above its alarm
point (no persistence time: 煤矿安全规程 acts at once) every second; the latency is the wall time
from that publish until a read_committed consumer receives the `raised` record on hw.warnings.
Throughput: steps of increasing rate; a rate is sustained when the publisher kept its schedule
and every reading of the step is in InfluxDB within 10 s after publishing ends.
Usage: python bench/e2e.py [--quick]. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from confluent_kafka import Consumer, TopicPartition
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import credentials, free_port, machine, running_stack
from hazardwatch import kafka_tail
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.ingest.metrics_probe import wait_subscribed
from hazardwatch.ingest.session import retire_session
from hazardwatch.simulators.fleet import fleet_catalog, fleet_lines
from hazardwatch.stack.influx import ensure_database, influxql
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.process import spawn_command, wait_for_log
from hazardwatch.streams.worker.app import INPUTS
from hazardwatch.streams.worker.core import TICK_TOPIC

POINTS = 40  # per gateway message (10 tanks × level, temperature, pressure, gas)
PROBE_MINES = 200


class WarningClock(threading.Thread):
    """Records when each `raised` record on hw.warnings becomes visible (read_committed)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        offsets = kafka_tail.mark(bootstrap, [topic])
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"e2e-{uuid.uuid4()}",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 10,
                                  "isolation.level": "read_committed"})
        self.consumer.assign([TopicPartition(t, p, o) for (t, p), o in offsets.items()])
        self.seen: dict[str, float] = {}  # site → wall ms of its first raised record
        self.stopped = threading.Event()

    def run(self) -> None:
        """Consume until stopped."""
        while not self.stopped.is_set():
            for msg in self.consumer.consume(num_messages=1000, timeout=0.05):
                if msg.error() is not None:
                    continue
                w = json.loads(msg.value() or b"{}")
                if w.get("transition") == "raised" and w.get("kind") != "offline":
                    self.seen.setdefault(w["site_id"], time.time() * 1000)
        self.consumer.close()


class Pipeline:
    """Bridge, worker and sink processes on their own topics, group and database."""

    def __init__(self, stack: Stack, catalog: Path, logs: Path) -> None:
        s = stack.settings
        self.run = uuid.uuid4().hex[:6]
        self.prefix, self.db = f"e2e-{self.run}.", f"bench_e2e_{self.run}"
        self.stack, self.metrics = stack, free_port()
        kafka_tail.ensure_topics(s.kafka_bootstrap, [self.prefix + t for t in (
            *INPUTS, TICK_TOPIC, KafkaTopic.WARNINGS, KafkaTopic.VEHICLE_DAILY,
            KafkaTopic.SEEN_HOURLY, KafkaTopic.VEHICLE_HOURLY)])
        ensure_database(s.influx_url, self.db)
        env = {**os.environ, **s.to_env(), "HW_CATALOG": str(catalog)}
        common = ["--topic-prefix", self.prefix]
        self.procs = {
            "bridge": spawn_command(["bridge", "--client-id", f"e2e-{self.run}", *common, "--group",
                                   f"e2e-{self.run}", "--metrics-port", str(self.metrics),
                                   "--session-expiry", "60"], logs / "bridge.log", env),
            "worker": spawn_command(["worker", *common, "--app-id", f"e2e-{self.run}",
                                   "--web-port", str(free_port())], logs / "worker.log", env),
            "sink": spawn_command(["sink", *common, "--group", f"e2e-{self.run}-sink",
                                 "--db", self.db], logs / "sink.log", env),
        }
        try:
            wait_subscribed(self.metrics, timeout=60)
            wait_for_log(self.procs["worker"], logs / "worker.log", "[^Worker]: Ready", 180)
            wait_for_log(self.procs["sink"], logs / "sink.log", "sink: assigned", 60)
        except Exception:
            for p in self.procs.values():
                p.kill()
            raise

    def stored(self) -> int:
        """Tank-farm readings in this run's database."""
        res = influxql(self.stack.settings.influx_url,
                       'SELECT count("value") FROM "chem_30d"."reading"', db=self.db, timeout=30)
        series = res["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0

    def close(self, bridge_password: str) -> None:
        """Stop the processes, retire the bridge's session, drop the database."""
        for p in self.procs.values():
            p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        s = self.stack.settings
        retire_session("127.0.0.1", s.mqtt_port, "hw-bridge", bridge_password, f"e2e-{self.run}")
        influxql(s.influx_url, f'DROP DATABASE "{self.db}"')


class Publisher:
    """Publishes gateway messages on schedule, plus probes; one MQTT client, QoS 1."""

    def __init__(self, port: int, password: str) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5,
                                  client_id=f"e2e-pub-{uuid.uuid4().hex[:6]}")
        self.client.username_pw_set("hw-simulator", password)
        self.client.max_inflight_messages_set(2000)
        connected = threading.Event()
        self.client.on_connect = lambda *_a: connected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not connected.wait(10):
            raise RuntimeError("e2e: the publisher could not connect to MQTT")
        self.next_probe = 0

    def step(self, readings_per_s: int, seconds: float, probes: bool) -> dict[str, Any]:
        """Publish `seconds` of load at `readings_per_s`; return what was sent and when."""
        sites = max(1, readings_per_s // POINTS)
        t0_ms = int(time.time() * 1000) + 3000  # payloads are built first
        lines = list(fleet_lines(sites, 0, sites * POINTS * int(seconds), t0=t0_ms,
                                 seed=readings_per_s))
        msgs = [(d["topic"], json.dumps(d["payload"]).encode()) for d in map(json.loads, lines)]
        rate = sites  # messages per second
        while time.time() * 1000 < t0_ms:
            time.sleep(0.005)
        start, probe_at, sent_probes, infos = time.monotonic(), 0.5, {}, []
        for i, (topic, body) in enumerate(msgs):
            due = start + i / rate
            while (now := time.monotonic()) < due:
                time.sleep(min(due - now, 0.002))
            infos.append(self.client.publish(topic, body, qos=1))
            if probes and now - start >= probe_at:
                site = f"cm-{self.next_probe % PROBE_MINES:04d}"
                self.next_probe += 1
                ts = int(time.time() * 1000)
                probe = {"ts": ts, "points": [{"sensor": "WF0-T0", "value": 2.0}]}
                self.client.publish(f"hw/v1/sites/{site}/devices/kj/telemetry",
                                    json.dumps(probe).encode(), qos=1)
                sent_probes[site] = float(ts)
                probe_at += 1.0
        behind = time.monotonic() - start - (len(msgs) - 1) / rate
        for info in infos:
            info.wait_for_publish(60)
        return {"readings": len(msgs) * POINTS, "behind_s": behind, "probes": sent_probes}

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def _percentiles(xs: list[float]) -> tuple[float, float]:
    return (float(np.percentile(xs, 50)), float(np.percentile(xs, 99))) if xs else (-1.0, -1.0)


def main() -> None:
    """Latency at 2k/5k/10k readings/s, then the highest sustained rate (last line JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter steps (under 2 minutes)")
    args = parser.parse_args()
    seconds = 8.0 if args.quick else 30.0
    rates = [10_000, 20_000, 30_000] if args.quick else [10_000, 20_000, 30_000, 40_000, 60_000]
    stack = running_stack()
    creds = credentials(stack)
    work = Path(tempfile.mkdtemp(prefix="hw-e2e-"))
    catalog = work / "catalog.json"
    catalog.write_text(fleet_catalog(tank_farms=max(rates) // POINTS, mines=PROBE_MINES),
                       encoding="utf-8")
    t_start = time.monotonic()
    pipe = Pipeline(stack, catalog, work)
    clock = WarningClock(stack.settings.kafka_bootstrap, pipe.prefix + KafkaTopic.WARNINGS)
    clock.start()
    out: dict[str, Any] = {**machine(), "quick": args.quick, "points_per_message": POINTS}
    pub: Publisher | None = None
    try:
        pub = Publisher(stack.settings.mqtt_port, creds["hw-simulator"])
        stored_before = 0
        for r in (2_000, 5_000, 10_000):
            sent = pub.step(r, seconds, probes=True)
            time.sleep(3)
            lat = [clock.seen[s] - t for s, t in sent["probes"].items() if s in clock.seen]
            p50, p99 = _percentiles(lat)
            missing = len(sent["probes"]) - len(lat)
            print(f"{r:>6} readings/s: probe latency p50 {p50:.0f} ms, p99 {p99:.0f} ms "
                  f"({len(lat)} probes, {missing} without a warning)", flush=True)
            out[f"e2e_p50_ms_at_{r // 1000}k"], out[f"e2e_p99_ms_at_{r // 1000}k"] = p50, p99
            out[f"e2e_probes_missing_at_{r // 1000}k"] = missing
            stored_before += sent["readings"]
        best = 0
        for r in rates:
            sent = pub.step(r, seconds, probes=False)
            end = time.monotonic()
            expected = stored_before + sent["readings"]
            while (got := pipe.stored()) < expected and time.monotonic() - end < 10:
                time.sleep(0.5)
            lag = time.monotonic() - end
            ok = got >= expected and sent["behind_s"] < 1.0
            print(f"{r:>6} readings/s for {seconds:.0f} s: publisher behind "
                  f"{sent['behind_s']:.2f} s, InfluxDB has {got - stored_before}/"
                  f"{sent['readings']} {lag:.1f} s after the end → "
                  f"{'sustained' if ok else 'NOT sustained'}", flush=True)
            if not ok:
                while pipe.stored() < expected and time.monotonic() - end < 120:
                    time.sleep(1)  # let it drain before the next figure
                break
            best, stored_before = r, expected
        out["e2e_readings_per_s"] = best
    finally:
        if pub is not None:
            pub.close()
        clock.stopped.set()
        clock.join(5)
        pipe.close(creds["hw-bridge"])
    out["seconds"] = round(time.monotonic() - t_start, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
