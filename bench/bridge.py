"""Benchmark the MQTT → Kafka bridge against the raw MQTT ceiling on this machine.

Ceiling: paho publisher process → Mosquitto → paho subscriber process (QoS 1, 1 point).
Bridge: publisher process(es) → Mosquitto → N `hazardwatch bridge` processes → Kafka, timed
from the first publish until the bridges report every record confirmed by Kafka.
Usage: python bench/bridge.py [--quick]. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    credentials,
    free_port,
    machine,
    mqtt_client,
    publish_all,
    running_stack,
    telemetry_payloads,
)
from hazardwatch.ingest.metrics_probe import scrape, wait_subscribed
from hazardwatch.ingest.session import retire_session

TOPIC = "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry"


def _publisher(port: int, user: str, pw: str, n: int, qos: int, points: int, seq0: int,
               go: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    payloads = telemetry_payloads(n, points, seq0)
    go.wait()
    publish_all(port, user, pw, TOPIC, payloads, qos)


def _subscriber(port: int, user: str, pw: str, n: int, qos: int, ready: mp.synchronize.Event,  # type: ignore[name-defined]
                out: mp.Queue) -> None:  # type: ignore[type-arg]
    import threading
    done = threading.Event()
    count = [0]
    first = [0.0]

    def on_message(*_a: object) -> None:
        if count[0] == 0:
            first[0] = time.perf_counter()
        count[0] += 1
        if count[0] >= n:
            done.set()

    c = mqtt_client(port, user, pw, client_id=f"ceiling-{uuid.uuid4().hex[:6]}")
    c.on_message = on_message
    c.subscribe(f"$share/ceil-{uuid.uuid4().hex[:6]}/{TOPIC}", qos=qos)
    time.sleep(0.5)
    ready.set()
    done.wait(300)
    out.put((count[0], time.perf_counter()))
    c.disconnect()
    c.loop_stop()


def ceiling(port: int, creds: dict[str, str], n: int, qos: int) -> float:
    """Messages/s from one paho publisher process to one paho subscriber process."""
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
    sub = ctx.Process(target=_subscriber, args=(port, "hw-admin", creds["hw-admin"], n, qos,
                                                ready, out))
    pub = ctx.Process(target=_publisher, args=(port, "hw-simulator", creds["hw-simulator"], n,
                                               qos, 1, 0, go))
    sub.start()
    pub.start()
    ready.wait(30)
    time.sleep(2)  # the publisher builds its payloads
    t0 = time.perf_counter()
    go.set()
    count, t1 = out.get(timeout=300)
    pub.join(60)
    sub.join(60)
    return count / (t1 - t0)


def bridge_rate(stack: object, creds: dict[str, str], *, procs: int, qos: int, points: int,
                n: int) -> float:
    """Messages/s through `procs` bridge processes until Kafka confirmed all n."""
    settings = stack.settings  # type: ignore[attr-defined]
    run = uuid.uuid4().hex[:6]
    env = {**os.environ, **settings.to_env()}
    bridges = []
    for i in range(procs):
        port = free_port()
        argv = [sys.executable, "-m", "hazardwatch", "bridge", "--client-id",
                f"bench-{run}-{i}", "--group", f"bench-{run}", "--topic-prefix", f"bench-{run}.",
                "--metrics-port", str(port), "--session-expiry", "60", "--log-interval", "60"]
        bridges.append((subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL), port))
    try:
        for _, port in bridges:
            wait_subscribed(port)
        ctx = mp.get_context("spawn")
        go = ctx.Event()
        pubs = [ctx.Process(target=_publisher, args=(
            settings.mqtt_port, "hw-simulator", creds["hw-simulator"], n // procs, qos, points,
            k * n, go)) for k in range(procs)]
        for p in pubs:
            p.start()
        time.sleep(2 + n / 50000)
        total = (n // procs) * procs
        t0 = time.perf_counter()
        go.set()
        while sum(scrape(port).get("hw_bridge_forwarded_total", 0) for _, port in bridges) < total:
            time.sleep(0.01)
            if time.perf_counter() - t0 > 300:
                raise TimeoutError("bridge did not forward everything in 300 s")
        took = time.perf_counter() - t0
        for p in pubs:
            p.join(60)
        return total / took
    finally:
        for proc, _ in bridges:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in bridges:
            proc.wait(30)
        for i in range(procs):
            retire_session("127.0.0.1", settings.mqtt_port, "hw-bridge", creds["hw-bridge"],
                           f"bench-{run}-{i}")


def main() -> None:
    """Run every configuration and print the figures (last line JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer messages (under 2 minutes)")
    parser.add_argument("--only", action="store_true",
                        help="only one bridge process, QoS 1, 1 point (for tuning)")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    stack = running_stack()
    creds = credentials(stack)
    port = stack.settings.mqtt_port
    results: dict[str, float] = {}
    if args.only:
        rate = bridge_rate(stack, creds, procs=1, qos=1, points=1, n=n)
        print(json.dumps({"bridge_p1_qos1_pts1": round(rate)}))
        return
    results["ceiling_qos1"] = ceiling(port, creds, n, 1)
    results["ceiling_qos0"] = ceiling(port, creds, n, 0)
    for procs, qos, points in [(1, 1, 1), (1, 0, 1), (1, 1, 20), (2, 1, 1), (2, 0, 1)]:
        key = f"bridge_p{procs}_qos{qos}_pts{points}"
        results[key] = bridge_rate(stack, creds, procs=procs, qos=qos, points=points, n=n)
        print(f"{key}: {results[key]:.0f} msg/s", file=sys.stderr)
    one = results["bridge_p1_qos1_pts1"]
    figures = {
        "bench": "bridge", **machine(), "messages_per_run": n,
        "ceiling_msgs_per_s": round(results["ceiling_qos1"]),
        "bridge_msgs_per_s": round(one),
        "ratio_to_ceiling": round(one / results["ceiling_qos1"], 2),
        "scale_two_processes": round(results["bridge_p2_qos1_pts1"] / one, 2),
        "all_msgs_per_s": {k: round(v) for k, v in results.items()},
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
