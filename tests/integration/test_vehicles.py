"""Vehicle rules on the real pipeline: MQTT positions and video events → hw.warnings → InfluxDB."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hazardwatch.stack.influx import influxql
from hazardwatch.stack.manager import Stack
from tests.helpers import wait_for
from tests.integration.conftest import Pipeline
from tests.integration.test_streams import WarningTail

TRUCK = "hz-0003"
USER = f"veh.{TRUCK}"
BASE = f"hw/v1/vehicles/{TRUCK}"


def _pos(ts: int, lon: float, speed: float, flags: int = 0) -> bytes:
    return json.dumps({"ts": ts, "lat": 41.5, "lon": lon, "speed_kmh": speed, "heading": 90,
                       "alarm_flags": flags}).encode()


def _limit_at(ts_ms: int) -> float:
    """The truck's 60 km/h zone limit, 80 % of it at night (22:00–06:00 Beijing time, §5.2)."""
    hour = datetime.fromtimestamp(ts_ms / 1000, ZoneInfo("Asia/Shanghai")).hour
    return 48.0 if hour >= 22 or hour < 6 else 60.0


def test_positions_and_video_events_on_mqtt_yield_vehicle_warnings_with_evidence(
        stack: Stack, pipeline: Pipeline, device_accounts: dict[str, Any],
        publisher_factory: Any) -> None:
    pipeline.worker().start()
    pipeline.sink().start()
    tail = WarningTail(stack, pipeline)
    pub = publisher_factory(USER, device_accounts[USER]["password"])
    now = int(time.time() * 1000) - 120_000
    if _limit_at(now) != _limit_at(now + 60_000):  # keep all positions on one side of 22:00/06:00
        now -= 120_000
    limit = _limit_at(now)
    lon, speed_kmh = 112.5, limit * 1.5
    for i in range(8):  # 50 % over the zone's limit for 35 s, every 5 s
        lon += speed_kmh * 5 / 3600 / 83.4  # km → degrees of longitude at 41.5°N
        flags = 1 << 30 if i >= 6 else 0  # the terminal reports a rollover
        pub.publish(f"{BASE}/position",
                    _pos(now + i * 5000, lon, speed_kmh, flags)).wait_for_publish(5)
    media = [{"kind": "video", "uri": "https://files.example/A-1/1.mp4"}]
    pub.publish(f"{BASE}/video-event", json.dumps({
        "ts": now + 40_000, "event_id": "A-1", "family": "dsm", "type": "fatigue",
        "terminal_level": 2, "speed_kmh": 88, "media": media}).encode()).wait_for_publish(5)

    def rules(ws: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {w["rule"]: w for w in ws if w["vehicle_id"] == TRUCK}

    ws = rules(tail.wait(lambda g: len(rules(g)) >= 3, timeout=90))
    speed = ws["vehicle.overspeed"]
    assert (speed["transition"], speed["level"], speed["threshold"]) == ("raised", 1, limit)
    assert speed["started_at"] == now + 0 and "超速 50%" in speed["message"]
    roll = ws["vehicle.jt808.30"]
    assert (roll["level"], roll["colour"]) == (1, "red") and "侧翻预警" in roll["message"]
    fatigue = ws["vehicle.video.dsm.fatigue"]
    assert fatigue["level"] == 2 and fatigue["evidence"] == media
    assert fatigue["message"].startswith("危货车 蒙A·D3456 DSM驾驶员状态报警：疲劳驾驶")
    q = (f"SELECT count(level_value) FROM \"events_1096d\".\"warning\" "
         f"WHERE vehicle = '{TRUCK}'")
    rows = wait_for(lambda: influxql(stack.settings.influx_url, q, db=pipeline.db)[
        "results"][0].get("series"), 30)
    assert rows[0]["values"][0][1] >= 3
