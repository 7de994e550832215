"""Benchmark the duty console on the local stack: a real `hazardwatch alerting` process with
2,000 active warnings from hw.warnings; `first_paint_ms`, the time from navigation until
Chromium shows the list of all 2,000 (Debian chromium, headless); `live_ms_p99`, the latency
from producing a warning on hw.warnings to its arrival on 50 connected consoles (SSE streams
read by this process); `api_requests_per_s`, warning detail requests served with 8 clients
(also `list_requests_per_s`: the whole scoped list of 2,000). Noisy on a shared machine.
The last line printed is JSON. Usage: python bench/console.py [--quick]
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
from confluent_kafka import Producer

from bench.common import machine, running_stack
from hazardwatch import kafka_tail
from hazardwatch.alerting.accounts import Role, Scope
from hazardwatch.alerting.users import UserFile
from hazardwatch.contracts.warnings import WarningRecord, encode_warning, warning_id
from hazardwatch.stack.process import free_port
from tests.integration.browser import chromium

SITES = ["tf-hohhot-01", "cm-ordos-01", "td-baotou-01"]
PW = "bench-console-pw"


def _warning(i: int, now: int, level: int) -> WarningRecord:
    site = SITES[i % 3]
    return WarningRecord(
        warning_id=warning_id("bench", f"sensor:{site}/S{i}", now), transition="raised",
        ts=now, level=level, colour="orange", rule="bench", kind="threshold", site_id=site,
        device_id="d", sensor=f"S{i}", vehicle_id=None, value=float(i), threshold=1.0,
        unit="%", started_at=now, message=f"基准测试预警 {i}")


def _pct(v: list[float], q: float) -> float:
    v = sorted(v)
    return round(v[min(len(v) - 1, int(q * len(v)))], 1)


def _config(path: Path) -> None:
    path.write_text("""
version: 1
timezone: Asia/Shanghai
public_url: http://127.0.0.1:1
link_secret: bench-console
api_tokens: {t: bench}
people:
  - {id: p, name: 值班员, channels: [{type: webhook, url: "http://127.0.0.1:9/h"}]}
receivers: [{id: r, people: [p]}, {id: d, people: [p], drill: true}]
drill_receivers: [d]
route: {name: root, escalation: [{after_s: 3600, receivers: [r]}], repeat_s: 3600,
        group_wait_s: 0, rate_per_min: 60}
""", encoding="utf-8")


def _rate(fn: Any, seconds: float, threads: int = 8) -> float:
    count = [0] * threads
    stop = time.monotonic() + seconds

    def work(k: int) -> None:
        with requests.Session() as s:
            while time.monotonic() < stop:
                fn(s)
                count[k] += 1

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return round(sum(count) / seconds, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    t_start = time.monotonic()
    n_live = 20 if args.quick else 100
    stack = running_stack()
    boot = stack.settings.kafka_bootstrap
    tmp = Path(tempfile.mkdtemp(prefix="hw-bench-console-"))
    prefix, port = f"bc-{os.getpid()}-{int(time.time())}.", free_port()
    base = f"http://127.0.0.1:{port}"
    cfg = tmp / "alerting.yaml"
    _config(cfg)
    UserFile(tmp / "users.json").add("基准值班员", Role.DUTY, Scope(), PW, 0)
    kafka_tail.ensure_topics(boot, [prefix + "hw.warnings", prefix + "hw.alert-actions"])
    log = open(tmp / "alerting.log", "wb")  # noqa: SIM115 - the process keeps it
    proc = subprocess.Popen(
        [sys.executable, "-m", "hazardwatch", "alerting", "--config", str(cfg), "--topic-prefix",
         prefix, "--api-port", str(port), "--users", str(tmp / "users.json")],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **stack.settings.to_env()})
    producer = Producer({"bootstrap.servers": boot, "linger.ms": 5})
    streams: list[Any] = []
    try:
        deadline = time.monotonic() + 90
        while "alerting: ready" not in (tmp / "alerting.log").read_text(errors="replace"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("alerting did not start")
            time.sleep(0.1)
        now = int(time.time() * 1000)
        for i in range(2000):
            w = _warning(i, now, 1 + i % 4)
            producer.produce(prefix + "hw.warnings", key=w.subject.encode(),
                             value=encode_warning(w))
        producer.flush(30)
        tok = {"Authorization": "Bearer t"}
        while len(requests.get(f"{base}/api/warnings", headers=tok, timeout=10).json()) < 2000:
            if time.monotonic() > deadline + 60:
                raise SystemExit("2,000 warnings not active in time")
            time.sleep(0.2)
        login = requests.post(f"{base}/api/login", json={"name": "基准值班员", "password": PW},
                              timeout=10)
        cookie = login.cookies["hw_session"]
        d = chromium(1280, 900)
        try:
            d.get(base + "/static/console.css")
            d.add_cookie({"name": "hw_session", "value": cookie, "path": "/"})
            d.get(base + "/")
            t_end = time.monotonic() + 60
            while d.execute_script("return window.hwListShown") is None:
                if time.monotonic() > t_end:
                    raise SystemExit("the list was not shown")
                time.sleep(0.05)
            first_paint = float(d.execute_script("return window.hwListShown"))
            rows = int(d.execute_script("return document.querySelectorAll('#warnings tbody tr')"
                                        ".length"))
        finally:
            d.quit()
        # 50 consoles on the live stream
        got: dict[str, list[float]] = {}
        lock = threading.Lock()

        def reader() -> None:
            r = requests.get(f"{base}/api/events?drill=exclude", stream=True, timeout=60,
                             cookies={"hw_session": cookie})
            streams.append(r)
            try:
                for line in r.iter_lines():
                    if line.startswith(b"data: {\"changed\""):
                        t = time.time() * 1000
                        for row in json.loads(line[6:])["changed"]:
                            with lock:
                                got.setdefault(row["warning"]["warning_id"], []).append(t)
            except Exception:
                return

        readers = [threading.Thread(target=reader, daemon=True) for _ in range(50)]
        for t in readers:
            t.start()
        time.sleep(2)
        sent: dict[str, float] = {}
        base_i = 10_000
        for k in range(n_live):
            w = _warning(base_i + k, int(time.time() * 1000), 1)
            sent[w.warning_id] = time.time() * 1000
            producer.produce(prefix + "hw.warnings", key=w.subject.encode(),
                             value=encode_warning(w))
            producer.flush(5)
            time.sleep(0.25)
        time.sleep(3)
        lat = [t - sent[wid] for wid, ts in got.items() if wid in sent for t in ts]
        delivered = sum(1 for wid in sent for _ in got.get(wid, []))
        wid = next(iter(sent))
        api_rps = _rate(lambda s: s.get(f"{base}/api/warnings/{wid}", headers=tok, timeout=10),
                        3 if args.quick else 10)
        list_rps = _rate(lambda s: s.get(f"{base}/api/warnings", headers=tok, timeout=30),
                         3 if args.quick else 10, threads=4)
        print(f"list of {rows} rows shown in {first_paint:.0f} ms; live p50 {_pct(lat, .5)} ms "
              f"p99 {_pct(lat, .99)} ms over {delivered}/{len(sent) * 50} deliveries; "
              f"detail {api_rps} req/s, list {list_rps} req/s")
        print(json.dumps({"bench": "console", **machine(), "warnings": 2000, "rows_rendered": rows,
                          "first_paint_ms": round(first_paint, 1), "consoles": 50,
                          "live_updates": len(sent), "live_delivered": delivered,
                          "live_expected": len(sent) * 50, "live_ms_p50": _pct(lat, .5),
                          "live_ms_p99": _pct(lat, .99), "api_requests_per_s": api_rps,
                          "list_requests_per_s": list_rps, "quick": args.quick,
                          "wall_s": round(time.monotonic() - t_start, 1)},
                         ensure_ascii=False))
    finally:
        proc.terminate()  # ends the streams too (their readers are daemon threads)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
