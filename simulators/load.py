"""Load mode: many synthetic devices publishing telemetry over MQTT at a fixed total rate."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hazardwatch.contracts.topics import MQTT_ROOT
from hazardwatch.simulators.fleet import TANK_SENSORS, fleet_catalog


def load_catalog_text(devices: int) -> str:
    """The catalog of `devices` synthetic tank farms, one gateway of 4 sensors each."""
    return fleet_catalog(tank_farms=devices, mines=0, tanks_per_farm=1)


@dataclass
class LoadResult:
    """What a load run achieved."""

    sent: int
    seconds: float
    behind_s: float  # how far the publisher fell behind the schedule at the end
    unconfirmed: int = 0  # QoS 1 messages the broker had not confirmed at the end

    @property
    def rate(self) -> float:
        """Messages per second achieved."""
        return self.sent / self.seconds if self.seconds else 0.0


def run_load(port: int, user: str, password: str, devices: int, rate: float, duration_s: float,
             connections: int = 4, qos: int = 1, seed: int = 7, drill: bool = True,
             confirm_timeout_s: float = 120.0) -> LoadResult:
    """Publish round-robin over the devices at `rate` msgs/s for `duration_s`, in real time."""
    rng = np.random.default_rng(seed)
    clients = []
    confirmed = _Confirmed(qos)
    for k in range(connections):
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hw-load-{k}-{time.time_ns()}",
                        protocol=mqtt.MQTTv5)
        c.username_pw_set(user, password)
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)  # while the broker is away, queue; sent on reconnect
        c.reconnect_delay_set(min_delay=1, max_delay=5)
        c.on_publish = confirmed.on_publish
        c.connect_async("127.0.0.1", port)  # a broker away at start is waited for too
        c.loop_start()  # connects, and reconnects by itself after a broker restart
        clients.append(c)
    means = [m for _, _, _, m, _, _ in TANK_SENSORS]
    sent = 0
    t0 = time.monotonic()
    total = int(rate * duration_s)
    seq = [0] * devices
    while sent < total:
        due = t0 + sent / rate
        now = time.monotonic()
        if due > now:
            time.sleep(min(due - now, 0.01))
            continue
        d = sent % devices
        seq[d] += 1
        values = np.asarray(means) + rng.normal(0, 0.1, len(means))
        body = {"ts": int(time.time() * 1000), "seq": seq[d], "drill": drill, "points": [
            {"sensor": f"T0-{code}", "value": round(float(v), 3)}
            for (code, *_), v in zip(TANK_SENSORS, values, strict=True)]}
        topic = f"{MQTT_ROOT}/sites/tf-{d:04d}/devices/gw/telemetry"
        clients[sent % connections].publish(topic, json.dumps(body).encode(), qos=qos)
        sent += 1
    behind = max(0.0, time.monotonic() - t0 - duration_s)  # the schedule, not the broker
    unconfirmed = confirmed.wait(sent, confirm_timeout_s)
    took = time.monotonic() - t0
    for c in clients:
        c.disconnect()
        c.loop_stop()
    return LoadResult(sent, took, behind, unconfirmed)


class _Confirmed:
    """Counts the broker's confirmations (PUBACK for QoS 1, the send for QoS 0).

    Not `wait_for_publish` or `is_published`: both raise for a message queued while the
    client was disconnected, though the client sends it after reconnecting."""

    def __init__(self, qos: int) -> None:
        self.qos, self.count = qos, 0
        self.lock = threading.Lock()

    def on_publish(self, client: mqtt.Client, userdata: object, mid: int, rc: object,
                   props: object) -> None:
        """paho callback: one more message confirmed."""
        with self.lock:
            self.count += 1

    def wait(self, sent: int, timeout_s: float) -> int:
        """Wait until `sent` messages are confirmed; how many are not."""
        deadline = time.monotonic() + timeout_s
        while self.count < sent and time.monotonic() < deadline:
            time.sleep(0.1)
        return max(0, sent - self.count)
