"""Benchmark alerting with two instances: latency from a warning on hw.warnings to the
notification received by a local webhook at 100 warnings/s (p50/p99), notifications/s in a
burst, then fail-over: 100 warnings/s while one instance is killed with SIGKILL.

Runs two real `hazardwatch alerting` processes on the local stack (Kafka), routing every warning
to one webhook person with no grouping window. Fail-over figures: `failover_s`, the longest a
warning sent in the fail-over phase waited for its notification (the dead instance's
partitions wait for the session timeout, 6 s, and the restore); `notifications_lost`,
warnings never notified; `notifications_duplicated`, extra deliveries of a warning (each must
carry the delivery id of the first: `duplicates_with_other_id` counts the ones that do not).
With --kept N, N warnings are first raised, notified, cleared and their resolved notices sent
with nobody acting (cleared but unhandled: kept until their 销号), so the paced and burst
figures are measured with them held; `rss_mb` is each instance's resident set after the burst.
The last line printed is JSON. Usage: python bench/alerting.py [--quick] [--kept 5000]
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
        self.copies: dict[str, list[str]] = {}  # warning id → delivery ids received
        self.messages = 0
        self.resolved: set[str] = set()  # warnings whose resolved notice arrived
        hook = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.time() * 1000
                hook.messages += 1
                for w, did in zip(body["warnings"], body["delivery_ids"], strict=True):
                    if body.get("kind") == "resolved":
                        hook.resolved.add(w["warning_id"])
                        continue
                    hook.arrived.setdefault(w["warning_id"], now)
                    hook.copies.setdefault(w["warning_id"], []).append(did)
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


def _warning(i: int, now: int, transition: str = "raised", started: int | None = None
             ) -> WarningRecord:
    site, now0 = SITES[i % 3], now if started is None else started
    return WarningRecord(
        warning_id=warning_id("bench", f"sensor:{site}/S{i}", now0), transition=transition,  # type: ignore[arg-type]
        ts=now, level=2, colour="orange", rule="bench", kind="threshold", site_id=site,
        device_id="d", sensor=f"S{i}", vehicle_id=None, value=1.0, threshold=1.0, unit="%",
        started_at=now0, message=f"基准测试预警 {i}")


def _pct(v: list[float], q: float) -> float:
    v = sorted(v)
    return round(v[min(len(v) - 1, int(q * len(v)))], 1)


def _start(name: str, cfg: Path, prefix: str, tmp: Path, env: dict[str, str]) -> Any:
    log = open(tmp / f"alerting-{name}.log", "wb")  # noqa: SIM115 - the process keeps it
    return subprocess.Popen(
        [sys.executable, "-m", "hazardwatch", "alerting", "--config", str(cfg),
         "--topic-prefix", prefix, "--api-port", str(free_port()), "--instance", name],
        stdout=log, stderr=subprocess.STDOUT, env=env)


def _wait_log(path: Path, text: str, proc: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"{path.name}: no {text!r}")
        time.sleep(0.1)


def _paced(producer: Producer, topic: str, first: int, n: int, sent: dict[str, float],
           at: Any = None) -> None:
    t0 = time.monotonic()
    for i in range(n):  # 100 warnings/s
        while time.monotonic() < t0 + i / 100:
            time.sleep(0.001)
        if at is not None and i == at[0]:
            at[1]()
        now = time.time() * 1000
        w = _warning(first + i, int(now))
        producer.produce(topic, key=w.subject.encode(), value=encode_warning(w))
        producer.poll(0)
        sent[w.warning_id] = now
    producer.flush(10)


def _wait_all(hook: Hook, ids: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not set(ids) <= set(hook.arrived) and time.monotonic() < deadline:
        time.sleep(0.02)


def _keep(producer: Producer, topic: str, hook: Hook, n: int) -> float:
    """n warnings raised, notified, then cleared and their resolved notices out: held by the
    service until their 销号 (nobody acts); returns the seconds it took."""
    t0, now = time.monotonic(), int(time.time() * 1000)
    ws = [_warning(500_000 + i, now) for i in range(n)]
    for w in ws:
        producer.produce(topic, key=w.subject.encode(), value=encode_warning(w))
        producer.poll(0)
    producer.flush(30)
    _wait_all(hook, [w.warning_id for w in ws], 300)
    for i in range(n):
        c = _warning(500_000 + i, now + 1000, "cleared", now)
        producer.produce(topic, key=c.subject.encode(), value=encode_warning(c))
        producer.poll(0)
    producer.flush(30)
    deadline = time.monotonic() + 300
    while len(hook.resolved) < n and time.monotonic() < deadline:  # resolved notices
        time.sleep(0.1)
    if len(hook.resolved) < n:
        raise SystemExit(f"only {len(hook.resolved)} of {n} resolved notices arrived")
    time.sleep(2)
    return round(time.monotonic() - t0, 1)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    """Start two instances, send paced, burst and fail-over warnings, print figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 s at 100/s, a 1,000 burst")
    parser.add_argument("--kept", type=int, default=0,
                        help="cleared-but-unhandled warnings held during the measurement")
    args = parser.parse_args()
    stack = running_stack()
    seconds, burst = (10, 1000) if args.quick else (30, 3000)
    prefix = f"bench-al-{time.time_ns()}."
    topic = prefix + "hw.warnings"
    kafka_tail.ensure_topics(stack.settings.kafka_bootstrap, [topic, prefix + "hw.alert-actions"])
    hook = Hook()
    env = {**os.environ, **stack.settings.to_env()}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cfg = tmp / "alerting.yaml"
        _config(cfg, hook)
        procs = {n: _start(n, cfg, prefix, tmp, env) for n in ("a", "b")}
        try:
            for n, p in procs.items():
                _wait_log(tmp / f"alerting-{n}.log", "assigned partitions", p)
            time.sleep(3)  # the second instance's rebalance settles
            producer = Producer({"bootstrap.servers": stack.settings.kafka_bootstrap,
                                 "linger.ms": 1})
            kept_s = _keep(producer, topic, hook, args.kept) if args.kept else None
            sent: dict[str, float] = {}
            _paced(producer, topic, 0, 100 * seconds, sent)
            _wait_all(hook, sent, 30)
            lat = [hook.arrived[k] - v for k, v in sent.items() if k in hook.arrived]
            before = hook.messages
            burst_ids = []
            start = time.monotonic()
            for i in range(burst):
                w = _warning(100_000 + i, int(time.time() * 1000))
                producer.produce(topic, key=w.subject.encode(), value=encode_warning(w))
                burst_ids.append(w.warning_id)
            producer.flush(10)
            _wait_all(hook, burst_ids, 120)
            took = time.monotonic() - start
            rss = {n: _rss_mb(p.pid) for n, p in procs.items()}  # before the fail-over
            fail: dict[str, float] = {}
            _paced(producer, topic, 200_000, 1000, fail, (200, procs["a"].kill))
            _wait_all(hook, fail, 60)
            time.sleep(2)  # late duplicates
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.terminate()
                p.wait(30)
    every = [*sent, *burst_ids, *fail]
    waits = [hook.arrived[k] - v for k, v in fail.items() if k in hook.arrived]
    dups = sum(len(hook.copies.get(k, [])) - 1 for k in every if k in hook.copies)
    other_id = sum(1 for k in every if len(set(hook.copies.get(k, []))) > 1)
    print(json.dumps({"bench": "alerting", **machine(), "instances": 2,
                      "kept": args.kept, "kept_setup_s": kept_s, "rss_mb": rss,
                      "warnings_paced": len(sent), "rate_per_s": 100, "delivered": len(lat),
                      "latency_ms_p50": _pct(lat, 0.5), "latency_ms_p99": _pct(lat, 0.99),
                      "burst_warnings": burst,
                      "burst_notified": len(set(burst_ids) & set(hook.arrived)),
                      "burst_warnings_per_s": round(burst / took),
                      "burst_messages_per_s": round((hook.messages - before) / took),
                      "failover_warnings": len(fail),
                      "failover_s": round(max(waits) / 1000, 2) if waits else None,
                      "notifications_lost": sum(1 for k in every if k not in hook.arrived),
                      "notifications_duplicated": dups,
                      "duplicates_with_other_id": other_id}))


if __name__ == "__main__":
    main()
