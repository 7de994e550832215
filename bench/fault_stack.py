"""A stack of its own for fault injection: own run directory and ports, its own pipeline.

Faults (Kafka, Mosquitto or InfluxDB stopped or killed) act on this stack only, so they never
disturb other tests or another user's stack. Devices are a synthetic fleet (`simulators/fleet`)
publishing telemetry with a per-device `seq`; every message is then counted end to end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import requests
from confluent_kafka import Consumer, TopicPartition
from paho.mqtt.enums import CallbackAPIVersion

from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.simulators.load import load_catalog_text
from hazardwatch.stack.influx import ensure_database, influxql
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.process import free_port, spawn_command, wait_for_log
from hazardwatch.stack.settings import StackSettings


class FaultStack:
    """Mosquitto, Kafka and InfluxDB under `root`, on free ports, and the processes started."""

    def __init__(self, root: Path, devices: int) -> None:
        root = root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.devices = root, devices
        self.catalog = root / "catalog.yaml"
        self.catalog.write_text(load_catalog_text(devices), encoding="utf-8")
        ports = _distinct_ports(5)
        self.settings = StackSettings(run_dir=root / "run", catalog=self.catalog,
                                      mqtt_port=ports[0], kafka_port=ports[1],
                                      kafka_controller_port=ports[2], influx_port=ports[3],
                                      influx_rpc_port=ports[4])
        self.stack = Stack(self.settings)
        self.env = {**os.environ, **self.settings.to_env()}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.db = "faults"

    def up(self) -> None:
        """Start (or restart) whatever service of the stack is not running."""
        self.stack.up(say=lambda _m: None)

    def down(self) -> None:
        """Stop the processes, then the stack."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stack.down(say=lambda _m: None)

    def signal_service(self, name: str, sig: int) -> None:
        """Send a signal to one service of this stack (by the pid it wrote)."""
        pid = self.stack.pid(self.stack.service(name))
        assert pid is not None, f"{name} is not running"
        os.kill(pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            deadline = time.monotonic() + 40
            while self.stack.pid(self.stack.service(name)) is not None or _alive(pid):
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
            for port in self.stack.service(name).ports:  # until nothing listens any more
                while _listening(port) and time.monotonic() < deadline + 10:
                    time.sleep(0.2)

    def spawn(self, name: str, argv: list[str], ready: str, timeout: float = 120) -> Path:
        """Start `hazardwatch ARGV` as process `name`; wait for `ready` in its log."""
        log = self.root / f"{name}.log"
        proc = spawn_command(argv, log, self.env)
        self.procs[name] = proc
        wait_for_log(proc, log, ready, timeout)
        return log

    def pipeline(self, workers: int = 1, worker_args: tuple[str, ...] = ()) -> None:
        """Bridge, worker(s) (no start-up grace: only the platform-gap rule holds offline) and
        sink into the database `faults`."""
        ensure_database(self.settings.influx_url, self.db)
        for n in range(1, workers + 1):
            self.spawn(f"worker-{n}", ["worker", "--web-port", str(free_port()), "--grace", "0",
                                       *worker_args], "[^Worker]: Ready")
        self.spawn("sink", ["sink", "--db", self.db], "sink: assigned")
        self.spawn("bridge", ["bridge", "--client-id", "hw-bridge-faults", "--log-interval",
                              "5"], "subscribed to")

    def credentials(self) -> dict[str, str]:
        """Platform MQTT accounts."""
        creds: dict[str, str] = json.loads(
            (self.settings.run_dir / "mosquitto" / "credentials.json").read_text())
        return creds

    def influx_readings(self, sites: Iterable[str] = ()) -> int:
        """Readings of the level sensor in InfluxDB (of `sites` if given): one per message."""
        where = " OR ".join(f"site = '{s}'" for s in sites)
        res = influxql(self.settings.influx_url,
                       'SELECT count(value) FROM "chem_30d"."reading" WHERE sensor = \'T0-LT\''
                       + (f" AND ({where})" if where else ""), db=self.db)
        series = res["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0

    def influx_times(self, sites: Iterable[str]) -> dict[tuple[str, int], int]:
        """Readings of the level sensor of `sites` in InfluxDB: count per (site, time in ms)."""
        where = " OR ".join(f"site = '{s}'" for s in sites)
        resp = requests.post(f"{self.settings.influx_url}/query", timeout=30, params={
            "db": self.db, "epoch": "ms",
            "q": 'SELECT value, site FROM "chem_30d"."reading" WHERE sensor = \'T0-LT\''
                 f" AND ({where})"})
        resp.raise_for_status()
        out: dict[tuple[str, int], int] = {}
        for series in resp.json()["results"][0].get("series", []):
            for t, _value, site in series["values"]:
                out[(site, int(t))] = out.get((site, int(t)), 0) + 1
        return out

    def kafka_seqs(self, sites: Collection[str] = ()) -> tuple[dict[tuple[str, int], int], float]:
        """(count of each (site, seq) on hw.telemetry, longest device → Kafka delay in s), of
        `sites` only if given (a stack shared by several runs)."""
        seen: dict[tuple[str, int], int] = {}
        longest = 0.0
        for msg in self._read_all(KafkaTopic.TELEMETRY):
            rec = json.loads(msg.value())
            if sites and rec["site_id"] not in sites:
                continue
            key = (rec["site_id"], int(rec.get("seq") or 0))
            seen[key] = seen.get(key, 0) + 1
            _, ts = msg.timestamp()
            longest = max(longest, (ts - rec["ts"]) / 1000)
        return seen, longest

    def warnings(self) -> list[dict[str, Any]]:
        """Every warning record on hw.warnings (read_committed), with `kafka_ts` (ms)."""
        return [{**json.loads(m.value()), "kafka_ts": m.timestamp()[1]}
                for m in self._read_all(KafkaTopic.WARNINGS)]

    def _read_all(self, topic: str) -> list[Any]:
        c = Consumer({"bootstrap.servers": self.settings.kafka_bootstrap,
                      "group.id": f"count-{time.time_ns()}", "enable.auto.commit": False,
                      "isolation.level": "read_committed"})
        try:
            parts = c.list_topics(topic, timeout=10).topics[topic].partitions
            ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    for p in parts}
            c.assign([TopicPartition(topic, p, 0) for p in parts])
            out: list[Any] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for m in c.consume(5000, timeout=0.5):
                    if m.error() is None:
                        out.append(m)
                pos = {tp.partition: tp.offset for tp in c.position(c.assignment())}
                if all(pos.get(p, 0) >= end for p, end in ends.items()):
                    break
            return out
        finally:
            c.close()


@contextmanager
def own_or_shared(root: Path, devices: int, fs: FaultStack | None = None) -> Iterator[FaultStack]:
    """`fs` as it is (a stack shared by several runs, its pipeline running), else a stack of
    its own under `root` with its pipeline, stopped afterwards."""
    if fs is not None:
        yield fs
        return
    own = FaultStack(root, devices)
    try:
        own.up()
        own.pipeline()
        yield own
    finally:
        own.down()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(
        f"/proc/{pid}/status").read_text(errors="replace")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _distinct_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        p = free_port()
        if p not in ports:
            ports.append(p)
    return ports


_NO_MATCHING_SUBSCRIBERS = 16  # MQTT 5 PUBACK reason: accepted, but nobody subscribed


@dataclass
class Devices:
    """`count` synthetic devices publishing telemetry every `period_s`, QoS 1, with `seq`.

    A message counts as acknowledged when its PUBACK came back (the broker has it). A PUBACK
    whose MQTT 5 reason is "No matching subscribers" (16) is counted in `unrouted` as well: the
    broker acknowledged the message and dropped it because no subscription matched."""

    port: int
    user: str
    password: str
    count: int
    period_s: float = 0.5
    sent: dict[tuple[str, int], float] = field(default_factory=dict)
    ts: dict[tuple[str, int], int] = field(default_factory=dict)  # the message's own ts (ms)
    acked: set[tuple[str, int]] = field(default_factory=set)
    unrouted: set[tuple[str, int]] = field(default_factory=set)
    failed: int = 0
    high: set[int] = field(default_factory=set)  # devices whose gas reading is 60 %LEL
    first_seq: int = 1_000_000  # apart from `hazardwatch simulate`'s on the same sites
    first_site: int = 0  # sites tf-{first_site:04d}…: runs sharing a stack use their own

    def __post_init__(self) -> None:
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.by_mid: dict[int, tuple[str, int]] = {}
        self.early: dict[int, bool] = {}  # mid → PUBACK said "no matching subscribers"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"hw-faults-devices-{time.time_ns()}",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(self.user, self.password)
        self.client.max_inflight_messages_set(65535)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def sites(self) -> set[str]:
        """The sites these devices publish for."""
        return {f"tf-{self.first_site + d:04d}" for d in range(self.count)}

    def start(self) -> None:
        """Begin publishing."""
        self.thread.start()

    def stop(self) -> None:
        """Stop publishing and disconnect (after the last PUBACKs, up to 30 s)."""
        self.stop_event.set()
        self.thread.join()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(self.acked) + self.failed < len(self.sent):
            time.sleep(0.2)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: Any,
                    props: Any) -> None:
        unrouted = getattr(rc, "value", rc) == _NO_MATCHING_SUBSCRIBERS
        with self.lock:
            key = self.by_mid.pop(mid, None)
            if key is not None:
                self.acked.add(key)
                if unrouted:
                    self.unrouted.add(key)
            else:  # the PUBACK came before publish() returned its mid
                self.early[mid] = unrouted

    def _run(self) -> None:
        seq = [self.first_seq] * self.count
        t0 = time.monotonic()
        k = 0
        while not self.stop_event.is_set():
            due = t0 + k * self.period_s / self.count
            now = time.monotonic()
            if due > now:
                time.sleep(min(due - now, 0.05))
                continue
            d = k % self.count
            k += 1
            seq[d] += 1
            site = f"tf-{self.first_site + d:04d}"
            ts = int(time.time() * 1000)
            gas = 60.0 if d in self.high else 2.0
            body = json.dumps({"ts": ts, "seq": seq[d], "drill": True, "points": [
                {"sensor": f"T0-{c}", "value": v} for c, v in
                (("LT", 8.0), ("TT", 25.0), ("PT", 10.0), ("GAS", gas))]}).encode()
            sent_at = time.time()
            # not under self.lock: paho calls on_publish holding its own lock (a deadlock)
            info = self.client.publish(f"hw/v1/sites/{site}/devices/gw/telemetry", body, qos=1)
            with self.lock:
                if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                    self.sent[(site, seq[d])] = sent_at
                    self.ts[(site, seq[d])] = ts
                    if info.mid in self.early:
                        if self.early.pop(info.mid):
                            self.unrouted.add((site, seq[d]))
                        self.acked.add((site, seq[d]))
                    else:
                        self.by_mid[info.mid] = (site, seq[d])
                else:
                    self.failed += 1


def wait_until(pred: Callable[[], bool], timeout: float, every: float = 1.0) -> float | None:
    """Seconds until pred() was true, or None after `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return time.monotonic() - t0
        time.sleep(every)
    return None
