"""Shared helpers for benchmarks: machine facts, the stack, MQTT publishers in processes."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hazardwatch.stack.manager import Stack
from hazardwatch.stack.process import free_port
from hazardwatch.stack.settings import StackSettings

__all__ = ["credentials", "free_port", "machine", "mqtt_client", "publish_all",
           "running_stack", "telemetry_payloads"]


def machine() -> dict[str, Any]:
    """Date and machine, as the README records them."""
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()} {len(os.sched_getaffinity(0))} cores, "
                       f"Python {platform.python_version()}"}


def running_stack() -> Stack:
    """The local stack, started if needed."""
    stack = Stack(StackSettings.from_env())
    if not stack.is_up():
        stack.up(say=lambda _m: None)
    return stack


def credentials(stack: Stack) -> dict[str, str]:
    """Platform MQTT accounts."""
    creds: dict[str, str] = json.loads(
        (stack.service("mosquitto").dir / "credentials.json").read_text())
    return creds


def mqtt_client(port: int, user: str, password: str, client_id: str = "") -> mqtt.Client:
    """A connected MQTT 5 client with its network loop running."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.username_pw_set(user, password)
    c.max_queued_messages_set(0)
    ok = threading.Event()
    c.on_connect = lambda *a: ok.set()
    c.connect("127.0.0.1", port)
    c.loop_start()
    if not ok.wait(10):
        raise RuntimeError("MQTT connect failed")
    return c


def telemetry_payloads(n: int, points: int, start_seq: int = 0) -> list[bytes]:
    """n valid telemetry messages of the demo gateway, each with `points` samples."""
    now = int(time.time() * 1000)
    out = []
    for i in range(n):
        pts = ",".join(f'{{"sensor": "T101-LT", "value": {7.5 + j * 0.01}, "ts": {now - j}}}'
                       for j in range(points))
        out.append(f'{{"ts": {now}, "seq": {start_seq + i}, "points": [{pts}]}}'.encode())
    return out


def publish_all(port: int, user: str, password: str, topic: str, payloads: list[bytes],
                qos: int) -> float:
    """Publish every payload as fast as the client allows; returns seconds taken."""
    c = mqtt_client(port, user, password)
    t0 = time.perf_counter()
    infos = [c.publish(topic, p, qos=qos) for p in payloads]
    infos[-1].wait_for_publish(300)
    for info in infos:
        info.wait_for_publish(300)
    took = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return took


def best_replay(catalog_path: Any, lines: list[str], runs: int) -> tuple[float, int, Any]:
    """Replay the lines `runs` times (validation + site and vehicle engines + timers) on the
    current core; (best records/s, warning records, summary of that run)."""
    from hazardwatch.contracts.catalog import load_catalog
    from hazardwatch.ingest.decode import MessageDecoder
    from hazardwatch.streams.replay import Replayer
    from hazardwatch.streams.rules.config import load_rules
    from hazardwatch.streams.rules.engine import Engine
    from hazardwatch.streams.vehicles.config import load_vehicle_rules
    from hazardwatch.streams.vehicles.engine import VehicleEngine

    catalog = load_catalog(catalog_path)
    best: tuple[float, int, Any] = (0.0, 0, None)
    for _ in range(runs):
        replayer = Replayer(MessageDecoder(catalog), Engine(catalog, load_rules()),
                            VehicleEngine(catalog, load_vehicle_rules()))
        start = time.perf_counter()
        warnings = sum(1 for _ in replayer.run(lines))
        rate = replayer.summary.readings / (time.perf_counter() - start)
        if rate > best[0]:
            best = (rate, warnings, replayer.summary)
    return best
