"""Runs a drill on the local real stack: services, devices over MQTT, scenario clock, verdict.

The drill's pipeline (bridge, worker, sink) runs on topics of its own (`drill-<id>.`), so a
drill never mixes with production traffic; every payload carries `"drill": true`. The worker
takes its timers from ticks the drill sends on the scenario clock, and a tick for time T is
sent only once every message up to T is in Kafka, so a 7-hour scenario plays in about a
minute with the same results as in real time. The drill's alerting service sends its
notifications to the drill desk (a local webhook) only, as every drill warning must.
"""

from __future__ import annotations

import bisect
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import yaml
from confluent_kafka import Consumer, Producer, TopicPartition
from paho.mqtt.enums import CallbackAPIVersion

from hazardwatch import kafka_tail
from hazardwatch.alerting.channels.webhook import signature
from hazardwatch.alerting.secrets import redact
from hazardwatch.alerting.workflow.config import WorkflowConfig, load_workflow
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.contracts.warnings import WarningRecord, decode_warning
from hazardwatch.ingest.metrics_probe import scrape, wait_subscribed
from hazardwatch.ingest.session import retire_session
from hazardwatch.simulators.drill_accounts import console_account
from hazardwatch.simulators.drill_terminals import DrillTerminals
from hazardwatch.simulators.evaluate import Evaluation, evaluate
from hazardwatch.simulators.participants import What
from hazardwatch.simulators.player import Outgoing, ScenarioPlayer, run_start
from hazardwatch.simulators.scenario import Scenario, jt808_vehicles
from hazardwatch.simulators.stand_ins import StandIns
from hazardwatch.stack.logins import mqtt_login
from hazardwatch.stack.process import free_port, spawn_command, wait_for_log
from hazardwatch.stack.settings import StackSettings
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.vehicles.config import VehicleRules
from hazardwatch.streams.worker.core import TICK_TOPIC, Tick, encode_tick

GROUP_WAIT_S = 30  # the drill routes' grouping wait (deploy/alerting/alerting.yaml)
GROUP_WINDOW_MS = (GROUP_WAIT_S + 2) * 1000  # and a margin
INPUTS = (KafkaTopic.TELEMETRY, KafkaTopic.POSITIONS, KafkaTopic.VIDEO_EVENTS,
          KafkaTopic.DEVICE_STATUS, KafkaTopic.REJECTED)
Say = Callable[[str], None]


@dataclass
class DrillRun:
    """What a drill produced: its warnings, the signals it played and timing figures."""

    drill_id: str
    start: int
    warnings: list[WarningRecord]
    evaluation: Evaluation
    published: int
    wall_s: float
    signals: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    pipeline_latency_ms: list[float] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)  # what the desk got
    raised_at: dict[str, int] = field(default_factory=dict)  # warning id → append time (ms)
    taken: dict[tuple[str, str], int] = field(default_factory=dict)  # (wid, who) → level
    done: dict[tuple[str, str, What], int] = field(default_factory=dict)  # API calls (ms)
    stand_in_errors: list[str] = field(default_factory=list)
    cleared_at: dict[str, int] = field(default_factory=dict)  # warning id → its clear (ms)


class DrillDesk:
    """The drill's only notification receiver (演练导调台): a local webhook checking the
    signature, so a drill proves its notifications arrive without paging a real person."""

    def __init__(self, secret: str) -> None:
        self.secret, self.got, self.port = secret, list[dict[str, Any]](), free_port()
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ts = self.headers.get("X-HW-Timestamp", "")
                ok = self.headers.get("X-HW-Signature") == "sha256=" + signature(
                    desk.secret, ts, raw)
                if ok:
                    desk.got.append({**json.loads(raw), "arrived": time.time() * 1000})
                self.send_response(200 if ok else 401)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """Where the drill's alerting service posts."""
        return f"http://127.0.0.1:{self.port}/drill-desk"

    def config(self, src: Path, dst: Path, report_copy: Path | None = None) -> Path:
        """The alerting config with the drill receivers' webhooks pointed at this desk (written
        owner-only to dst); the report gets a copy with every secret and robot key redacted."""
        data = yaml.safe_load(src.read_text(encoding="utf-8"))
        drill_people = {p for r in data["receivers"] if r["id"] in data["drill_receivers"]
                        for p in r.get("people", [])}
        for person in data["people"]:
            if person["id"] in drill_people:
                person["channels"] = [{"type": "webhook", "url": self.url,
                                       "secret": self.secret}]
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.touch(mode=0o600)
        dst.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        if report_copy is not None:
            report_copy.write_text(yaml.safe_dump(redact(data), allow_unicode=True),
                                   encoding="utf-8")
        return dst

    def close(self) -> None:
        """Stop listening."""
        self.server.shutdown()


class Devices:
    """One authenticated MQTT client per device or vehicle, each with its last will."""

    def __init__(self, port: int, passwords: dict[str, str], drill_id: str) -> None:
        self.port, self.passwords, self.drill_id = port, passwords, drill_id
        self.clients: dict[str, mqtt.Client] = {}

    def client(self, user: str, status_topic: str) -> mqtt.Client:
        """The connected client of an account."""
        c = self.clients.get(user)
        if c is None:
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{self.drill_id}-{user}",
                            protocol=mqtt.MQTTv5)
            c.username_pw_set(user, self.passwords[user])
            c.will_set(status_topic, b'{"status": "offline", "drill": true}', qos=1)
            c.connect("127.0.0.1", self.port)
            c.loop_start()
            self.clients[user] = c
        return c

    def publish(self, msgs: list[Outgoing]) -> None:
        """Publish at QoS 1 and wait until the broker has every one."""
        infos = [self.client(m.user, m.topic.rsplit("/", 1)[0] + "/status").publish(
            m.topic, m.payload, qos=1) for m in msgs]
        for info in infos:
            info.wait_for_publish(30)

    def close(self) -> None:
        """Disconnect cleanly (no last will)."""
        for c in self.clients.values():
            c.disconnect()
            c.loop_stop()


class WarningWatch(threading.Thread):
    """Collects the drill's warning records (read_committed) while it plays."""

    def __init__(self, bootstrap: str, topic: str, offsets: kafka_tail.Offsets) -> None:
        super().__init__(daemon=True)
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"w-{topic}",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 50,
                                  "isolation.level": "read_committed"})
        self.consumer.assign([TopicPartition(t, p, o) for (t, p), o in offsets.items()])
        self.records: list[tuple[WarningRecord, int]] = []  # with Kafka append time (ms)
        self.stopped = threading.Event()

    def run(self) -> None:
        """Poll until stopped."""
        while not self.stopped.is_set():
            for msg in self.consumer.consume(num_messages=1000, timeout=0.2):
                if msg.error() is None:
                    self.records.append((decode_warning(msg.value() or b""),
                                         msg.timestamp()[1]))
        self.consumer.close()


class WorkerProgress:
    """Whether the worker has processed (committed) everything now in its input topics.

    Ticks travel on their own topic, and a consumer does not order records across topics:
    a tick for time T could overtake the data before T and raise a false 'offline'. So a
    tick is sent only once the worker's group has committed past all input written so far.
    """

    def __init__(self, bootstrap: str, group: str, topics: list[str]) -> None:
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                  "enable.auto.commit": False})
        meta = self.consumer.list_topics(timeout=10).topics
        self.partitions = [TopicPartition(t, p) for t in topics for p in meta[t].partitions]

    def wait_processed(self, timeout: float = 60) -> None:
        """Block until committed offsets reach the current end of every input partition."""
        ends = {(tp.topic, tp.partition): self.consumer.get_watermark_offsets(tp, timeout=10)[1]
                for tp in self.partitions}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.consumer.committed(self.partitions, timeout=10)
            if all(max(tp.offset, 0) >= ends[(tp.topic, tp.partition)] for tp in done):
                return
            time.sleep(0.05)
        raise TimeoutError("the drill's worker did not catch up within 60 s")

    def close(self) -> None:
        """Close the (never subscribed) consumer."""
        self.consumer.close()


class DrillRunner:
    """Plays one scenario through bridge → Kafka → worker → hw.warnings → sink."""

    def __init__(self, settings: StackSettings, catalog: Catalog, rules: RulesConfig,
                 vrules: VehicleRules, catalog_path: Path, alerting_config: Path,
                 say: Say = print) -> None:
        self.settings, self.catalog, self.rules, self.vrules = settings, catalog, rules, vrules
        self.catalog_path, self.alerting_config, self.say = catalog_path, alerting_config, say

    def run(self, sc: Scenario, out_dir: Path, tick_every_s: int = 60) -> DrillRun:
        """Play the scenario; return what happened (the caller writes the report)."""
        s = self.settings
        drill_id = f"drill-{sc.name.replace('_', '-')}-{time.strftime('%Y%m%d%H%M%S')}"
        prefix = drill_id + "."
        logs = out_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        topics = [prefix + t for t in (*INPUTS, KafkaTopic.WARNINGS, TICK_TOPIC,
                                       KafkaTopic.VEHICLE_DAILY, KafkaTopic.SEEN_HOURLY,
                                       KafkaTopic.VEHICLE_HOURLY,
                                       KafkaTopic.ALERT_ACTIONS)]
        desk = DrillDesk(secrets.token_hex(16))
        alerting_cfg = desk.config(self.alerting_config,
                                   s.run_dir / "drills" / drill_id / "alerting.yaml",
                                   out_dir / "alerting.yaml")
        kafka_tail.ensure_topics(s.kafka_bootstrap, topics)
        watch = WarningWatch(s.kafka_bootstrap, prefix + KafkaTopic.WARNINGS, kafka_tail.mark(
            s.kafka_bootstrap, [prefix + KafkaTopic.WARNINGS]))
        watch.start()
        metrics_port, client_id = free_port(), f"hw-bridge-{drill_id}"
        env = {**os.environ, **s.to_env(), "HW_CATALOG": str(self.catalog_path)}
        common = ["--topic-prefix", prefix]
        console_port, console = free_port(), console_account(s.run_dir / "drills" / drill_id,
                                                         sc, self.catalog)
        procs = [
            spawn_command(["bridge", "--client-id", client_id, "--group", drill_id, *common,
                    "--metrics-port", str(metrics_port), "--log-interval", "10"],
                   logs / "bridge.log", env),
            spawn_command(["worker", *common, "--app-id", drill_id, "--web-port", str(free_port()),
                    "--grace", "0", "--ticks", "external", "--commit-interval", "0.1"],
                   logs / "worker.log", env),
            spawn_command(["sink", *common, "--group", f"{drill_id}-sink"], logs / "sink.log", env),
            *(spawn_command(["alerting", *common, "--config", str(alerting_cfg), "--api-port",
                             str(console_port if name == "a" else free_port()), "--instance",
                             name, "--users", str(console[0]),
                             *(["--workflow", sc.workflow] if sc.workflow else [])],
                            logs / f"alerting-{name}.log", env) for name in ("a", "b")),
        ]  # two alerting instances share the alerts (fail-over), as in production
        gateway, terminals, jt_port = None, None, free_port()
        jt_vehicles = jt808_vehicles(sc, self.catalog)
        if jt_vehicles:  # those vehicles are JT/T 808 terminals of the drill's own gateway
            gateway = spawn_command(
                ["jt808", "--drill", "--port", str(jt_port), *common, "--client-id",
                 f"hw-jt808-{drill_id}", "--catalog", str(self.catalog_path),
                 "--attachment-port", str(free_port()), "--files-port", str(free_port()),
                 "--attachment-dir", str(s.run_dir / "drills" / drill_id / "jt808"),
                 "--log-interval", "10"], logs / "jt808.log", env)
        bridge_user, bridge_password = mqtt_login(s, "hw-bridge")
        passwords = {u: str(a["password"]) for u, a in json.loads(
            (s.run_dir / "mosquitto" / "devices.json").read_text()).items()}
        devices = Devices(s.mqtt_port, passwords, drill_id)
        stand = StandIns(sc.participants, desk.got, f"http://127.0.0.1:{console_port}",
                         console[3], watch.records)
        # the ticks keyed by site or vehicle with the bridge's (and Faust's) murmur2: a tick
        # lands on the partition of its site's data, so the warnings it causes (offline, a
        # clear) go to the same hw.warnings partition as the rest of the episode (before, the
        # default CRC32 sent them elsewhere and the alerting instance that owned the episode
        # never saw its clear)
        producer = Producer({"bootstrap.servers": s.kafka_bootstrap, "linger.ms": 5,
                             "enable.idempotence": True, "partitioner": "murmur2_random"})
        progress = WorkerProgress(s.kafka_bootstrap, drill_id,
                                  [prefix + t for t in INPUTS if t != KafkaTopic.REJECTED])
        t_wall = time.monotonic()
        start = run_start(sc, int(time.time() * 1000))  # ids differ from earlier runs'
        player = ScenarioPlayer(sc, self.catalog, self.rules, self.vrules, start)
        published, signals = 0, _signal_keys(sc)
        sent: list[tuple[int, float]] = []  # (scenario time covered, wall ms) of steps, ticks
        try:
            wait_subscribed(metrics_port, timeout=60)
            wait_for_log(procs[1], logs / "worker.log", "[^Worker]: Ready", 180)
            wait_for_log(procs[2], logs / "sink.log", "sink: assigned", 60)
            wait_for_log(procs[3], logs / "alerting-a.log", "alerting: ready", 60)
            wait_for_log(procs[4], logs / "alerting-b.log", "alerting: ready", 60)
            if gateway is not None:
                wait_for_log(gateway, logs / "jt808.log", "gateway listening", 60)
                terminals = DrillTerminals(jt_port, self.catalog, jt_vehicles)
                self.say(f"车辆经 JT/T 808 演练网关 127.0.0.1:{jt_port} 接入（不向真实终端下发）")
            if sc.participants:
                stand.start()
                self.say("参演人员(以各自角色的值班台账户经真实接口代为签收、核查、处置、销号):"
                         + "、".join(f"{p.name}({p.role},{p.access})" for p in sc.participants))
            self.say(f"值班台 http://127.0.0.1:{console_port}/ 账号 {console[1]} 密码 {console[2]}"
                     "（仅本次演练有效；页面上选「演练预警」）")
            local = datetime.fromtimestamp(start / 1000, ZoneInfo(sc.timezone))
            self.say(f"演练 {sc.title}: {drill_id}, scenario clock from "
                     f"{local:%Y-%m-%d %H:%M} ({sc.timezone}), {sc.duration_min:.0f} min")
            last_tick, reported = start, set[tuple[str, str]]()
            over_mqtt = 0
            for ts, msgs in player.steps():
                if terminals is None:
                    devices.publish(msgs)
                else:  # acked by the gateway once Kafka has them
                    devices.publish([m for m in msgs if not terminals.handles(m)])
                    terminals.send([m for m in msgs if terminals.handles(m)])
                over_mqtt += sum(terminals is None or not terminals.handles(m) for m in msgs)
                published += len(msgs)
                _record(signals, msgs)
                sent.append((ts, time.time() * 1000))
                if ts - last_tick >= tick_every_s * 1000 or ts == player.end:
                    _wait_acked(metrics_port, over_mqtt)
                    if terminals is not None:
                        terminals.heartbeat()
                    progress.wait_processed()
                    self._tick(producer, prefix, sc, ts)
                    sent.append((ts, time.time() * 1000))
                    last_tick = ts
                    self._progress(sc, start, ts, watch, reported)
            self._tick(producer, prefix, sc, player.end + 1000)
            done = self._settle(sc, start, watch, desk)
            if sc.participants:  # their last scripted calls (bounded by the longest delay)
                until = min(stand.last_due() / 1000, time.time() + 60)
                while stand.due and time.time() < until + 1:
                    time.sleep(0.2)
                if sc.workflow:  # the warnings nobody takes: until their 督办 reach the city
                    _await_city(desk.got, stand.untaken, load_workflow(Path(sc.workflow)))
            self.say(f"played {published} messages in {time.monotonic() - t_wall:.0f} s; "
                     f"{'all expected warnings arrived' if done else 'waited 60 s for the rest'}")
            if terminals is not None and terminals.backfilled:
                self.say(f"JT/T 808 终端补传盲区定位 {terminals.backfilled} 条"
                         "（0x0704：补全轨迹，不按实时报警处理）")
            time.sleep(2)  # the sink flushes every second
        finally:
            stand.stopped.set()
            if gateway is not None:  # first: the drill gateway records no offline as it stops
                gateway.send_signal(signal.SIGTERM)
                try:
                    gateway.wait(60)
                except subprocess.TimeoutExpired:
                    gateway.kill()
            if terminals is not None:
                terminals.close()
            devices.close()
            progress.close()
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
            watch.stopped.set()
            watch.join(5)
            desk.close()
            retire_session("127.0.0.1", s.mqtt_port, bridge_user, bridge_password, client_id)
        warnings = [w for w, _ in watch.records]
        latency = _pipeline_latency(sent, watch.records)
        raised_at: dict[str, int] = {}
        cleared_at: dict[str, int] = {}
        for w, appended in watch.records:
            if w.transition == "raised":
                raised_at.setdefault(w.warning_id, appended)
            elif w.transition == "cleared":
                cleared_at.setdefault(w.warning_id, appended)
        return DrillRun(drill_id, start, warnings, evaluate(sc, start, warnings), published,
                        time.monotonic() - t_wall, signals, latency, desk.got, raised_at,
                        dict(stand.taken), dict(stand.done), list(stand.errors), cleared_at)

    def _tick(self, producer: Producer, prefix: str, sc: Scenario, now: int) -> None:
        sites = sc.fleet.sites if sc.fleet.sites is not None else list(self.catalog.sites)
        vehicles = (sc.fleet.vehicles if sc.fleet.vehicles is not None
                    else list(self.catalog.vehicles))
        for sid in sites:
            producer.produce(prefix + TICK_TOPIC, key=sid.encode(),
                             value=encode_tick(Tick(sid, now)))
        for vid in vehicles:
            producer.produce(prefix + TICK_TOPIC, key=vid.encode(),
                             value=encode_tick(Tick(None, now, vid)))
        producer.flush(30)

    def _progress(self, sc: Scenario, start: int, now: int, watch: WarningWatch,
                  reported: set[tuple[str, str]]) -> None:
        at = {i.id: start + int(i.at_min * 60_000) for i in sc.incidents}
        for o in evaluate(sc, start, [w for w, _ in watch.records]).outcomes:
            due = now >= at[o.incident] + o.within_s * 1000  # its time to reach the level is up
            if o.detected and (o.ok or due) and (o.incident, o.rule) not in reported:
                reported.add((o.incident, o.rule))  # (a warning raised lower and upgraded in
                # time is shown once it reached the expected level)
                self.say(f"  [{(now - start) / 60000:5.0f} min] {'✓' if o.ok else '✗'} "
                         f"{o.title}: {o.rule} level {o.level} (expected "
                         f"{o.expected_level}), detected after {o.latency_s:.0f} s")

    def _settle(self, sc: Scenario, start: int, watch: WarningWatch, desk: DrillDesk) -> bool:
        """Until every expected warning arrived and was notified, or was raised longer ago than
        the grouping window (30 s: one that cleared within it is never told; at most 90 s)."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            records = list(watch.records)
            outcomes = evaluate(sc, start, [w for w, _ in records]).outcomes
            notified = {w["warning_id"] for n in desk.got for w in n.get("warnings", [])}
            raised = {w.warning_id: at for w, at in records if w.transition == "raised"}
            window = time.time() * 1000 - GROUP_WINDOW_MS
            if all(o.detected and (o.warning_id in notified
                                   or raised.get(o.warning_id or "", window) < window)
                   for o in outcomes):
                time.sleep(3)  # and anything the last ticks still cause
                return True
            time.sleep(0.5)
        return False


def _await_city(got: list[dict[str, Any]], untaken: set[str], wf: WorkflowConfig) -> None:
    """Until every warning no participant takes has its 督办 pushed to the city (told to the
    desk), at most the longest 签收 deadline plus the county's 督办 deadline and 10 s."""
    bound = time.monotonic() + 10 + max(d.ack_s for d in wf.steps.values()) + \
        wf.supervision_s["county"]
    while time.monotonic() < bound:
        city = {n.get("warning_id") for n in list(got)
                if n.get("kind") == "supervise" and n.get("admin") in ("city", "province")}
        if not untaken - city:
            return
        time.sleep(0.2)


def _signal_keys(sc: Scenario) -> dict[str, list[tuple[int, float]]]:
    keys = {f"{i.site}/{i.sensor}" for i in sc.incidents if i.sensor}
    keys |= {f"{i.vehicle}/speed_kmh" for i in sc.incidents if i.kind == "speeding"}
    return {k: [] for k in sorted(keys)}


def _record(signals: dict[str, list[tuple[int, float]]], msgs: list[Outgoing]) -> None:
    for m in msgs:
        if m.topic.endswith("/telemetry"):
            site = m.topic.split("/")[3]
            for p in json.loads(m.payload)["points"]:
                series = signals.get(f"{site}/{p['sensor']}")
                if series is not None:
                    series.append((m.ts, float(p["value"])))
        elif m.topic.endswith("/position"):
            series = signals.get(f"{m.topic.split('/')[3]}/speed_kmh")
            if series is not None:
                series.append((m.ts, float(json.loads(m.payload)["speed_kmh"])))


def _pipeline_latency(sent: list[tuple[int, float]],
                      records: list[tuple[WarningRecord, int]]) -> list[float]:
    """Wall ms from sending what a raise needed (the step or tick covering its event time)
    to its append on hw.warnings."""
    times = [t for t, _ in sent]
    out = []
    for w, appended in records:
        i = bisect.bisect_left(times, w.ts)
        if w.transition == "raised" and i < len(sent):
            out.append(max(0.0, appended - sent[i][1]))
    return out


def _wait_acked(metrics_port: int, published: int, timeout: float = 60) -> None:
    """Until the bridge has confirmed (Kafka has) every message published so far."""
    deadline = time.monotonic() + timeout
    while scrape(metrics_port).get("hw_bridge_acked_total", 0) < published:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bridge confirmed fewer than {published} messages")
        time.sleep(0.02)
