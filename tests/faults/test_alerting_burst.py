"""Alerting killed -9 in a burst of 1,000 warnings, counted by warning id at a local webhook.

1,000 raised warnings (distinct ids) go onto hw.warnings at once; the `hazardwatch alerting`
process is killed (-9) once about a third of them reached the receiver, and started again.
Promises: no warning is lost (every id reaches the webhook), and a warning delivered twice (sent
before the kill, not yet marked sent) carries the same delivery id both times, so the receiver
can drop the repeat. Prints lost, duplicated and the time from the restart to the last one.
On the session's fault stack (conftest.py), with topics of its own.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from bench.fault_stack import FaultStack, wait_until
from hazardwatch import kafka_tail
from hazardwatch.contracts.warnings import WarningRecord, encode_warning, warning_id
from hazardwatch.stack.process import free_port
from tests.faults.conftest import SITES
from tests.integration.receivers import Receivers

BURST = 1000
RULE = "tank_farm.gas_combustible.threshold"
SENSORS = ("T0-GAS", "T0-LT", "T0-TT", "T0-PT")


def _config(tmp: Path, url: str, api: int) -> Path:
    p = tmp / "alerting.yaml"
    p.write_text(f"""
version: 1
timezone: Asia/Shanghai
public_url: http://127.0.0.1:{api}
link_secret: link-secret
api_tokens: {{tok: 测试值班员}}
people:
  - id: duty
    name: 值班员
    channels: [{{type: webhook, url: "{url}/webhook", secret: test-secret}}]
  - id: drill
    name: 演练导调台
    channels: [{{type: webhook, url: "{url}/webhook-drill", secret: test-secret}}]
receivers:
  - {{id: duty, people: [duty]}}
  - {{id: drill, people: [drill], drill: true}}
drill_receivers: [drill]
route:
  name: root
  escalation:
    - {{after_s: 0, receivers: [duty]}}
  repeat_s: 3600
  reminder_s: 3600
  group_wait_s: 0
  rate_per_min: 100000
""", encoding="utf-8")
    return p


def _burst(now: int) -> list[WarningRecord]:
    out = []
    for i in range(BURST):
        site, sensor = f"tf-{i % SITES:04d}", SENSORS[i // SITES % len(SENSORS)]
        ts = now + i // (SITES * len(SENSORS))  # a second episode of a subject: its own id
        out.append(WarningRecord(
            warning_id=warning_id(RULE, f"sensor:{site}/{sensor}", ts), transition="raised",
            ts=ts, level=1, colour="red",  # type: ignore[arg-type]
            rule=RULE, kind="threshold", site_id=site, device_id="gw", sensor=sensor,
            vehicle_id=None, value=52.0, threshold=50.0, unit="%LEL", started_at=ts,
            message=f"{site} {sensor} 可燃气体浓度 52%LEL", drill=False))
    return out


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    r = Receivers()
    yield r
    r.close()


def _delivered(r: Receivers) -> dict[str, list[str]]:
    """Warning id → the delivery ids it arrived with (one per arrival)."""
    out: dict[str, list[str]] = defaultdict(list)
    with r.lock:
        hooks = [x for x in r.got if x.channel == "webhook"]
    for h in hooks:
        for w, d in zip(h.body["warnings"], h.body["delivery_ids"], strict=True):
            out[w["warning_id"]].append(d)
    return out


def test_alerting_killed_mid_burst_loses_no_warning(tmp_path: Path, fault_stack: FaultStack,
                                                     receivers: Receivers) -> None:
    fs, prefix, api = fault_stack, f"burst-{time.time_ns()}.", free_port()
    kafka_tail.ensure_topics(fs.settings.kafka_bootstrap,
                             [prefix + "hw.warnings", prefix + "hw.alert-actions"])
    argv = ["alerting", "--config", str(_config(tmp_path, receivers.url, api)), "--catalog",
            str(fs.catalog), "--topic-prefix", prefix, "--api-port", str(api), "--state",
            str(tmp_path / "alerting.db")]
    fs.spawn("alerting", argv, "alerting: ready")
    burst = _burst(int(time.time() * 1000))
    producer = Producer({"bootstrap.servers": fs.settings.kafka_bootstrap, "linger.ms": 20})
    for w in burst:
        producer.produce(prefix + "hw.warnings", key=w.subject.encode(), value=encode_warning(w))
    producer.flush(30)
    assert wait_until(lambda: len(_delivered(receivers)) >= BURST // 3, 120, 0.05) is not None
    fs.procs["alerting"].kill()
    fs.procs["alerting"].wait(10)
    before = len(_delivered(receivers))
    restarted = time.monotonic()
    fs.spawn("alerting", argv, "alerting: ready")
    done = wait_until(lambda: len(_delivered(receivers)) >= BURST, 180, 0.2)
    recovered_s = time.monotonic() - restarted
    time.sleep(2)  # a repeat of the last ones would come now
    fs.procs["alerting"].terminate()
    got = _delivered(receivers)
    lost = {w.warning_id for w in burst} - set(got)
    dups = {w: ds for w, ds in got.items() if len(ds) > 1}
    figures = {"fault": "alerting kill -9 in a burst", "warnings": BURST,
               "delivered_before_kill": before, "lost": len(lost),
               "duplicated": sum(len(ds) - 1 for ds in dups.values()),
               "duplicates_with_another_delivery_id": sum(len(set(ds)) > 1 for ds in dups.values()),
               "recovered_after_restart_s": None if done is None else round(recovered_s, 1)}
    print(json.dumps(figures))
    assert 0 < before < BURST, figures  # killed mid-burst
    assert not lost, figures
    assert figures["duplicates_with_another_delivery_id"] == 0, figures
    assert receivers.errors == [], receivers.errors[:5]
