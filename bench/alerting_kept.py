"""Benchmark the alerting service's step with thousands of cleared-but-unhandled warnings kept
(every warning stays until its 销号, docs/alerting.md): one process, the real service on a
changelog store whose producer only counts (Kafka is not measured here; bench/alerting.py
measures the processes end to end).

For each N in --kept: N warnings (the demo catalog's sites, levels 1–4) are raised, notified,
cleared a minute later and their resolved notices sent; nobody acts. Then it measures the
step at a quiet moment (nothing due: `quiet_step_ms` p50/p99 of 200 steps, and the workflow's
part, `supervise_ms`), the step that opens their county 督办 at the 签收 deadlines
(`deadline_step_ms`, the most expensive one), the memory they hold (`rss_mb`: growth of the
process's resident set; `alert_kb`: per warning) and the changelog records written. Each N
runs in a process of its own; `every_alert_*` repeats the quiet step as the service did
before it remembered each alert's next deadline (a `Case` built per alert per step).
The last line printed is JSON. Usage: python bench/alerting_kept.py [--kept 0 1000 5000]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine
from hazardwatch.alerting.changelog import ChangelogStore
from hazardwatch.alerting.config import load_alerting
from hazardwatch.alerting.service import AlertingService
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.warnings import COLOURS, WarningRecord, warning_id

CAT = load_catalog("deploy/catalog/demo.yaml")
T0 = 1_795_000_000_000  # 2026-11-19 08:26 local (the day shift is on duty)
MIN = 60_000


class Forgetful(dict[str, int]):
    """The service's `due` memory switched off: every alert looked at on every step."""

    def __setitem__(self, key: str, value: int) -> None:
        pass


class Counting:
    """A changelog producer that only counts what the service writes."""

    def __init__(self) -> None:
        self.records = 0

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                partition: int = 0) -> None:
        self.records += 1


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _warning(i: int, transition: str = "raised") -> WarningRecord:
    sites = sorted(CAT.sites)
    site, level = sites[i % len(sites)], 1 + i % 4
    at = T0 + i  # one ms apart: distinct episodes
    return WarningRecord(
        warning_id=warning_id("bench.kept", f"sensor:{site}/S{i}", at), transition=transition,  # type: ignore[arg-type]
        ts=at if transition == "raised" else at + MIN, level=level, colour=COLOURS[level],
        rule="bench.kept", kind="threshold", site_id=site, device_id="d", sensor=f"S{i}",
        vehicle_id=None, value=1.0, threshold=1.0, unit="%", started_at=at,
        message=f"基准测试预警 {i}")


def _timed(fn: Any, *args: Any) -> float:
    t = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t) * 1000


def run(n: int) -> dict[str, Any]:
    """Keep n cleared-unhandled warnings and time the service's steps."""
    gc.collect()
    rss0 = _rss_mb()
    producer = Counting()
    store = ChangelogStore(producer, "bench", 12)
    sent = [0]

    def send(_ch: Any, _m: Any) -> None:
        sent[0] += 1

    svc = AlertingService(load_alerting(), CAT, store, {k: send for k in (
        "webhook", "dingtalk", "wecom", "feishu", "email", "sms", "voice")})
    with store.tx():
        for i in range(n):
            svc.on_warning(_warning(i), T0 + i)
    svc.step(T0 + n)
    for t in (T0 + n + 30_000, T0 + n + 45_000):  # group waits over: notified
        svc.step(t)
    with store.tx():
        for i in range(n):
            svc.on_warning(_warning(i, "cleared"), T0 + MIN + i)
    for t in (T0 + 2 * MIN + n, T0 + 2 * MIN + n + 1000):  # the resolved notices
        svc.step(t)
    gc.collect()
    rss = _rss_mb() - rss0
    quiet = T0 + 2 * MIN + n + 2000  # 3 × 40 s of steps, all before the first 签收 deadline
    steps = [_timed(svc.step, quiet + k * 200) for k in range(200)]
    sup = [_timed(svc._supervise, quiet + 40_000 + k * 200) for k in range(200)]
    remembered = svc.due
    svc.due = Forgetful()
    every = [_timed(svc.step, quiet + 80_000 + k * 200) for k in range(200)]
    svc.due = remembered
    before = producer.records
    deadline_ms = _timed(svc.step, T0 + 60 * MIN + n)  # every 一级 and 二级 签收 deadline
    kept = sum(1 for a in svc.alerts.values() if not a.active and a.handled_at is None)
    opened = sum(len(a.supervisions) for a in svc.alerts.values())
    return {"kept": kept, "notifications_sent": sent[0],
            "quiet_step_ms_p50": round(statistics.median(steps), 3),
            "quiet_step_ms_p99": round(sorted(steps)[int(0.99 * len(steps))], 3),
            "supervise_ms_p50": round(statistics.median(sup), 3),
            "every_alert_step_ms_p50": round(statistics.median(every), 3),
            "deadline_step_ms": round(deadline_ms, 1), "supervisions_opened": opened,
            "deadline_changelog_records": producer.records - before,
            "rss_mb": round(rss, 1), "alert_kb": round(rss * 1024 / n, 2) if n else None}


def main() -> None:
    """Each N in turn; one JSON line at the end."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kept", type=int, nargs="+", default=[0, 1000, 5000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one N
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the 督办 holds of the rate limits: thousands of lines
    if args.one is not None:
        print(json.dumps(run(args.one)))
        return
    out = []
    for n in args.kept:
        child = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True,
                               capture_output=True, text=True)
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"kept {r['kept']:>6}: quiet step p50 {r['quiet_step_ms_p50']} ms "
              f"(workflow {r['supervise_ms_p50']} ms; every alert each step: "
              f"{r['every_alert_step_ms_p50']} ms), deadline step {r['deadline_step_ms']} ms "
              f"({r['supervisions_opened']} 督办), rss +{r['rss_mb']} MB", flush=True)
        out.append(r)
    print(json.dumps({"bench": "alerting_kept", **machine(), "runs": out}))


if __name__ == "__main__":
    main()
