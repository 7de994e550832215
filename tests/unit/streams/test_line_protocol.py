"""Line protocol of the vehicle day figures and the alerting actions (as the sink writes them)."""

from __future__ import annotations

from hazardwatch.contracts.daily import VehicleDayRecord, decode_day, encode_day
from hazardwatch.streams.sinks.line_protocol import alert_action, vehicle_day


def test_vehicle_day_is_tagged_by_company_and_day_with_integer_counters() -> None:
    d = VehicleDayRecord(vehicle_id="hz-0001", company="nm-hazmat-01", vehicle_class="hazmat",
                         day="2026-11-22", ts=1_795_276_800_000, positions=2880, drift=3,
                         gaps=1, overspeed=2, fatigue_s=600.0, online_s=86_000.0)
    assert decode_day(encode_day(d)) == d
    assert vehicle_day(d) == (
        "vehicle_daily,company=nm-hazmat-01,vehicle=hz-0001,class=hazmat,day=2026-11-22 "
        "positions=2880i,drift=3i,gaps=1i,overspeed=2i,fatigue_s=600.0,online_s=86000.0,"
        "complete_m=0.0,incomplete_m=0.0,online=1i,drill=false 1795276800000")


def test_alert_action_keeps_who_and_escapes_text() -> None:
    line = alert_action({"action": "resolve", "warning_id": "W1-a", "who": "值班员 张三",
                         "cause": 'a "quoted" cause', "taken": "关阀", "at": 1_795_000_000_000,
                         "level": 1, "drill": False})
    assert line.startswith("alert_action,action=resolve,level=1,warning_id=W1-a ")
    assert 'who="值班员 张三"' in line and r'cause="a \"quoted\" cause"' in line
    assert line.endswith(" 1795000000000")
