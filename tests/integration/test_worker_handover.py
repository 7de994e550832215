"""Two workers share the partitions; one is stopped or killed mid-episode; the other finishes.

Three sites on different partitions each have an open episode when worker A leaves (SIGTERM:
graceful, or SIGKILL); worker B must take over their state and send each `cleared` exactly
once, with no second `raised`.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from hazardwatch.stack.manager import Stack
from tests.helpers import wait_for
from tests.integration.conftest import Pipeline
from tests.integration.test_streams import GAS, WarningTail


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_one_of_two_workers_leaves_the_other_takes_over(
        how: str, stack: Stack, pipeline: Pipeline, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    a, b = pipeline.worker(1), pipeline.worker(2)
    a.start()
    b.start()
    tail = WarningTail(stack, pipeline)
    sites = {  # three sites land on different partitions; each gets one episode
        "dev.tf-hohhot-01.gds-01": ("hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry",
                                    "T101-GAS1", 30, 4),
        "dev.cm-ordos-01.kj-sub-01": ("hw/v1/sites/cm-ordos-01/devices/kj-sub-01/telemetry",
                                      "WF3102-T1", 1.2, 0.3),
        "dev.td-baotou-01.rtu-01": ("hw/v1/sites/td-baotou-01/devices/rtu-01/telemetry",
                                    "S1-GNSS1", 25, 2),
    }
    pubs = {u: publisher_factory(u, device_accounts[u]["password"]) for u in sites}
    # readings 30 s apart from 15 min ago: the bridge refuses timestamps > 5 min ahead, and the
    # tailings episode needs 300 s below its restore value to clear
    now = int(time.time() * 1000) - 900_000

    def send(rng: range, high: bool) -> None:
        for i in rng:
            for user, (topic, sensor, hi, lo) in sites.items():
                body = b'{"ts": %d, "points": [{"sensor": "%s", "value": %s}]}' % (
                    now + i * 30_000, sensor.encode(), str(hi if high else lo).encode())
                pubs[user].publish(topic, body).wait_for_publish(5)

    def count(ws: list[dict[str, Any]], transition: str) -> int:
        return sum(w["transition"] == transition and w["kind"] != "offline" for w in ws)

    # A has been through the rebalance that gave B its share (A's second recovery)
    wait_for(lambda: a.log.read_text().count("Recovery]: Worker ready") >= 2, 60)
    send(range(0, 4), True)
    assert count(tail.wait(lambda g: count(g, "raised") >= 3), "raised") == 3
    a.stop() if how == "stop" else a.kill()
    send(range(4, 6), True)
    send(range(6, 30), False)
    assert count(tail.wait(lambda g: count(g, "cleared") >= 3, timeout=120), "cleared") == 3
    time.sleep(5)  # anything repeated after the last `cleared` shows up too
    until = time.monotonic() + 3
    done = tail.wait(lambda g: time.monotonic() > until, timeout=30)
    episodes = [(w["site_id"], w["rule"], w["transition"]) for w in done if w["kind"] != "offline"]
    detail = [(w["warning_id"], w["transition"], w["ts"] - now) for w in done]
    assert sorted(episodes) == sorted(
        [(s, r, t) for s, r in [("tf-hohhot-01", GAS), ("cm-ordos-01", "coal_mine.ch4.threshold"),
                                ("td-baotou-01", "tailings_dam.displacement.threshold")]
         for t in ("raised", "cleared")]), detail
