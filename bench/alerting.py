"""Benchmark alerting: latency from a warning on hw.warnings to the notification received by a
local webhook at 100 warnings/s (p50/p99), and notifications/s in a burst.

Runs a real `hazardwatch alerting` process on the local stack (Kafka), routing every warning
to one webhook person with no grouping window. The last line printed is JSON.
Usage: python bench/alerting.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confluent_kafka import Producer

from bench.common import machine, running_stack
from hazardwatch import kafka_tail
from hazardwatch.contracts.warnings import WarningRecord, encode_warning, warning_id
from hazardwatch.stack.process import free_port

SITES = ["tf-hohhot-01", "cm-ordos-01", "td-baotou-01"]


class Hook:
    """Records when each warning's notification arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.messages = 0
        hook = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.time() * 1000
                hook.messages += 1
                for w in body["warnings"]:
                    hook.arrived.setdefault(w["warning_id"], now)
                self.send_response(200)
                self.end_headers()

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _config(path: Path, hook: Hook) -> None:
    path.write_text(f"""
version: 1
timezone: Asia/Shanghai
public_url: http://127.0.0.1:1
link_secret: bench
api_tokens: {{t: bench}}
people:
  - {{id: p, name: 值班员, channels: [{{type: webhook, url: "http://127.0.0.1:{hook.port}/h"}}]}}
receivers: [{{id: r, people: [p]}}, {{id: d, people: [p], drill: true}}]
drill_receivers: [d]
route: {{name: root, escalation: [{{after_s: 0, receivers: [r]}}], repeat_s: 3600,
         group_wait_s: 0, rate_per_min: 10000000}}
""", encoding="utf-8")


def _warning(i: int, now: int) -> WarningRecord:
    site = SITES[i % 3]
    return WarningRecord(
        warning_id=warning_id("bench", f"sensor:{site}/S{i}", now), transition="raised",
        ts=now, level=2, colour="orange", rule="bench", kind="threshold", site_id=site,
        device_id="d", sensor=f"S{i}", vehicle_id=None, value=1.0, threshold=1.0, unit="%",
        started_at=now, message=f"基准测试预警 {i}")


def _pct(v: list[float], q: float) -> float:
    v = sorted(v)
    return round(v[min(len(v) - 1, int(q * len(v)))], 1)


def main() -> None:
    """Start alerting, send paced then burst warnings, print figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 s at 100/s, a 1,000 burst")
    args = parser.parse_args()
    stack = running_stack()
    seconds, burst = (10, 1000) if args.quick else (30, 3000)
    prefix = f"bench-al-{time.time_ns()}."
    kafka_tail.ensure_topics(stack.settings.kafka_bootstrap,
                             [prefix + "hw.warnings", prefix + "hw.alert-actions"])
    hook = Hook()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "alerting.yaml"
        _config(cfg, hook)
        log = open(Path(tmp) / "alerting.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [sys.executable, "-m", "hazardwatch", "alerting", "--config", str(cfg),
             "--topic-prefix", prefix, "--api-port", str(free_port()), "--state",
             str(Path(tmp) / "s.db")], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **stack.settings.to_env()})
        try:
            deadline = time.monotonic() + 60
            while b"alerting: ready" not in (Path(tmp) / "alerting.log").read_bytes():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("alerting did not start")
                time.sleep(0.1)
            producer = Producer({"bootstrap.servers": stack.settings.kafka_bootstrap,
                                 "linger.ms": 1})
            sent: dict[str, float] = {}
            t0 = time.monotonic()
            for i in range(100 * seconds):  # paced: 100 warnings/s
                while time.monotonic() < t0 + i / 100:
                    time.sleep(0.001)
                now = time.time() * 1000
                w = _warning(i, int(now))
                producer.produce(prefix + "hw.warnings", key=w.subject.encode(),
                                 value=encode_warning(w))
                producer.poll(0)
                sent[w.warning_id] = now
            producer.flush(10)
            deadline = time.monotonic() + 30
            while len(set(sent) & set(hook.arrived)) < len(sent) and time.monotonic() < deadline:
                time.sleep(0.05)
            lat = [hook.arrived[k] - v for k, v in sent.items() if k in hook.arrived]
            before = hook.messages
            burst_ids = []
            start = time.monotonic()
            for i in range(burst):
                w = _warning(100_000 + i, int(time.time() * 1000))
                producer.produce(prefix + "hw.warnings", key=w.subject.encode(),
                                 value=encode_warning(w))
                burst_ids.append(w.warning_id)
            producer.flush(10)
            deadline = time.monotonic() + 120
            while not set(burst_ids) <= set(hook.arrived) and time.monotonic() < deadline:
                time.sleep(0.02)
            took = time.monotonic() - start
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
    print(json.dumps({"bench": "alerting", **machine(), "warnings_paced": len(sent),
                      "rate_per_s": 100, "delivered": len(lat),
                      "latency_ms_p50": _pct(lat, 0.5), "latency_ms_p99": _pct(lat, 0.99),
                      "burst_warnings": burst,
                      "burst_notified": len(set(burst_ids) & set(hook.arrived)),
                      "burst_warnings_per_s": round(burst / took),
                      "burst_messages_per_s": round((hook.messages - before) / took)}))


if __name__ == "__main__":
    main()
