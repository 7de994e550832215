"""The vehicle engine at its edges, table-driven, with controlled event time (no broker)."""

from __future__ import annotations

import math
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
import pytest

from hazardwatch.clock import LocalClock
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.records import (
    MediaRecord,
    PositionRecord,
    StatusRecord,
    TyreRecord,
    VideoEventRecord,
)
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.streams.vehicles.bands import speed_level
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.vehicles.geo import (
    distance_m,
    polygon_signed_m,
    polyline_distance_m,
    short_distance_m,
)
from hazardwatch.streams.vehicles.state import VehicleState, dump_vehicle, load_vehicle

CAT = load_catalog("deploy/catalog/demo.yaml")
RULES = load_vehicle_rules()
TZ = ZoneInfo("Asia/Shanghai")
MIN = 60_000
TRUCK, COACH, TOUR = "hz-0003", "co-0001", "tb-0001"  # hz-0003 has no approved route


def at(hhmm: str, day: int = 23) -> int:
    """UTC epoch ms of a local (Asia/Shanghai) time on 2026-11-{day}."""
    h, m = map(int, hhmm.split(":"))
    return int(datetime(2026, 11, day, h, m, tzinfo=TZ).timestamp() * 1000)


class Trip:
    """Feeds positions of one vehicle every `step_s`, moving consistently with its speed."""

    def __init__(self, vehicle: str, lat: float = 41.5, lon: float = 112.5) -> None:
        self.e = VehicleEngine(CAT, RULES)
        self.st = VehicleState()
        self.vehicle, self.lat, self.lon, self.ts = vehicle, lat, lon, 0
        self.out: list[WarningRecord] = []

    def pos(self, ts: int, speed: float, flags: int = 0, lat: float | None = None,
            lon: float | None = None) -> list[WarningRecord]:
        if self.ts and lat is None:
            km = speed * (ts - self.ts) / 3_600_000
            self.lon += km / (111.32 * math.cos(math.radians(self.lat)))
        self.lat, self.lon = lat if lat is not None else self.lat, lon or self.lon
        self.ts = ts
        rec = PositionRecord(vehicle_id=self.vehicle, ts=ts, lat=self.lat, lon=self.lon,
                             speed_kmh=speed, heading=90, received_at=ts, alarm_flags=flags)
        got = self.e.on_tick(self.st, self.vehicle, ts) + self.e.on_record(self.st, rec)
        self.out += got
        return got

    def run(self, start: int, minutes: float, speed: float, step_s: int = 30) -> None:
        for i in range(int(minutes * 60 / step_s)):
            self.pos(start + i * step_s * 1000, speed)

    def rules(self, prefix: str) -> list[tuple[str, int]]:
        return [(w.transition, w.level) for w in self.out if w.rule.startswith(prefix)]


# -- speed ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("speed", "expect"), [
    (60.0, []),  # exactly at the limit is not over
    (60.5, [("raised", 4)]),
    (66.0, [("raised", 3)]),  # 10 % over
    (72.0, [("raised", 2)]),  # 20 % over
    (90.0, [("raised", 1)]),  # 50 % over
])
def test_overspeed_bands_for_a_hazmat_truck_off_the_expressway(
        speed: float, expect: list[tuple[str, int]]) -> None:
    t = Trip(TRUCK)
    t.run(at("10:00"), 2, speed, step_s=5)
    assert t.rules("vehicle.overspeed") == expect


def test_overspeed_needs_persistence_and_a_short_spike_does_not_raise() -> None:
    t = Trip(TRUCK)
    t0 = at("10:00")
    for i, v in enumerate([55, 70, 55, 55, 70, 70, 70, 55]):
        t.pos(t0 + i * 5000, v)  # 70 held 5 s, then 10 s → raised at the third 70
    assert [(w.transition, (w.ts - t0) // 1000) for w in t.out] == [("raised", 30)]


@pytest.mark.parametrize(("over", "held", "expect"), [
    (0.0, None, None),  # at the limit
    (5.0, None, 4), (10.0, None, 3), (19.9, None, 3), (20.0, None, 2), (50.0, None, 1),
    (7.0, 3, 3),  # below the 10 % band, but not by 5 points: held
    (4.9, 3, 4),  # 5.1 points below it: down one band
    (25.0, 3, 2),  # a more severe band at once
    (-4.0, 4, 4),  # under the limit by less than 5 %: still over
    (-5.0, 4, None),  # 5 % under: cleared
    (1.0, 1, 4),  # from ≥ 50 % to 1 %: the band that 6 % is in
])
def test_speed_level_holds_a_band_until_the_speed_is_5_points_below_it(
        over: float, held: int | None, expect: int | None) -> None:
    assert speed_level(over, RULES.speed.bands, held, 5.0) == expect


def test_one_fast_fix_between_30_second_fixes_does_not_raise_two_do() -> None:
    t = Trip(TRUCK)
    t0 = at("10:00")
    for i, v in enumerate([55, 70, 55, 55]):
        t.pos(t0 + i * 30_000, v)
    assert t.out == []  # sample and hold would call it 30 s over: one fix is not evidence
    for i, v in enumerate([70, 70]):
        t.pos(t0 + (4 + i) * 30_000, v)
    assert [(w.transition, w.level, w.ts - t0, w.started_at - t0) for w in t.out] == [
        ("raised", 3, 150_000, 120_000)]


def test_speed_noise_at_a_band_edge_raises_once_and_clears_once() -> None:
    t = Trip(TRUCK)
    t0 = at("10:00")
    for i, v in enumerate([65, 67, 64, 68, 63.5, 67, 64, 66, 63, 67]):  # around 66 = 10 % over
        t.pos(t0 + i * 30_000, v)
    for i in range(4):
        t.pos(t0 + (10 + i) * 30_000, 55)  # 8 % under the limit
    assert t.rules("vehicle.overspeed") == [("raised", 3), ("cleared", 3)]


def test_a_lower_band_is_taken_only_after_it_held_60_seconds() -> None:
    t = Trip(TRUCK)
    t0 = at("10:00")
    for i, v in enumerate([75, 75, 64, 75, 64, 64, 64, 64]):  # 25 % over, then 6.7 % over
        t.pos(t0 + i * 30_000, v)
    assert [(w.transition, w.level, (w.ts - t0) // 1000) for w in t.out] == [
        ("raised", 2, 30), ("downgraded", 3, 180)]  # 64 from 120 s (75 at 90 s restarted it)


def test_a_more_severe_band_is_taken_only_when_a_later_fix_confirms_it() -> None:
    t = Trip(TRUCK)
    t0 = at("10:00")
    for i, v in enumerate([64, 64, 73, 64, 73, 73, 73]):  # 6.7 % over, 21.7 % over
        t.pos(t0 + i * 30_000, v)
    assert [(w.transition, w.level, (w.ts - t0) // 1000) for w in t.out] == [
        ("raised", 4, 30), ("upgraded", 2, 150)]  # one fast fix at 60 s is not evidence


def test_expressway_zone_raises_the_hazmat_limit_to_80_and_night_lowers_it() -> None:
    day = Trip(TRUCK, lat=40.80, lon=111.60)  # inside the ring-expressway polygon
    day.run(at("10:00"), 2, 78, step_s=5)
    assert day.rules("vehicle.overspeed") == []
    night = Trip(TRUCK, lat=40.80, lon=111.60)
    night.run(at("23:00"), 2, 70, step_s=5)  # night limit 64 km/h: 9 % over
    assert night.rules("vehicle.overspeed") == [("raised", 4)]
    assert "呼和浩特绕城高速夜间限速 64km/h" in night.out[0].message


# -- driving time -----------------------------------------------------------------------------

@pytest.mark.parametrize(("rest_min", "reset"), [(19, False), (20, True)])
def test_a_19_minute_rest_does_not_reset_continuous_driving_but_20_does(
        rest_min: int, reset: bool) -> None:
    t = Trip(COACH)
    t.run(at("08:00"), 120, 50)
    t.run(at("10:00"), rest_min, 0)
    t.run(at("10:00") + rest_min * MIN, 125, 50)
    kinds = t.rules("vehicle.driving.continuous")
    assert (kinds == []) is reset
    if not reset:  # 4 h of driving reached: pre-warning 15 min before, then over
        assert kinds == [("raised", 4), ("upgraded", 3)]


def test_driving_across_22_00_switches_a_bus_to_the_2_hour_night_limit() -> None:
    t = Trip(COACH)
    t.run(at("19:40"), 150, 50)  # 2 h 20 min by 22:00 → over the night limit at once
    w = [x for x in t.out if x.rule == "vehicle.driving.continuous"]
    assert [(x.transition, x.level) for x in w] == [("raised", 3)]  # no day pre-warning first
    assert at("22:00") <= w[0].ts < at("22:01")
    assert "超过夜间连续驾驶限值 2小时" in w[0].message
    truck = Trip(TRUCK)  # the night limit is for buses
    truck.run(at("19:40"), 150, 50)
    assert truck.rules("vehicle.driving.continuous") == []


def test_coach_moving_across_02_00_raises_the_night_ban_and_clears_when_parked() -> None:
    t = Trip(COACH)
    t.run(at("01:50"), 15, 50)
    t.run(at("02:05"), 5, 0)
    w = [x for x in t.out if x.rule == "vehicle.night_ban"]
    assert [(x.transition, x.level) for x in w] == [("raised", 2), ("cleared", 2)]
    assert at("02:01") <= w[0].ts <= at("02:02")  # persisted 60 s after 02:00
    assert "当地时间02:01" in w[0].message
    tour = Trip(TOUR)  # 旅游客车 are not long-distance coaches
    tour.run(at("01:50"), 15, 50)
    assert tour.rules("vehicle.night_ban") == []


def test_a_gnss_gap_counts_as_driving_only_if_the_vehicle_got_somewhere() -> None:
    moved, parked = Trip(COACH), Trip(COACH)
    for t in (moved, parked):
        t.run(at("08:00"), 200, 50)
    moved.pos(at("08:00") + 260 * MIN, 50)  # 60 min gap, 50 km further: drove through it
    parked.pos(at("08:00") + 260 * MIN, 50, lon=parked.lon)  # same place: rested
    assert moved.st.cont_ms > 4 * 60 * MIN and ("raised", 3) in moved.rules("vehicle.driving")
    assert parked.st.cont_ms == 0
    assert moved.st.day.gaps == parked.st.day.gaps == 1


def test_daily_driving_over_8_hours_in_24_with_rests_between() -> None:
    t = Trip(TRUCK)
    start = at("04:00")
    for k in range(3):  # 3 × (3 h drive + 30 min rest) = 9 h of driving
        t.run(start + k * 210 * MIN, 180, 50)
        t.run(start + k * 210 * MIN + 180 * MIN, 30, 0)
    assert t.rules("vehicle.driving.continuous") == []
    assert t.rules("vehicle.driving.daily") == [("raised", 4), ("upgraded", 3)]


# -- geofences --------------------------------------------------------------------------------

ZONE_LAT, ZONE_LON, RADIUS = 40.60, 111.80, 1500.0


def _at_edge(offset_m: float) -> tuple[float, float]:
    """A point due north of the zone centre, offset_m outside (+) or inside (−) its border."""
    return ZONE_LAT + (RADIUS + offset_m) / 111_195, ZONE_LON


def test_jitter_at_a_fence_border_does_not_spam_enter_and_leave() -> None:
    t = Trip(TRUCK, *_at_edge(200))
    t0 = at("10:00")
    for i, off in enumerate([200, 30, -30, 40, -40, 20, -45, 35] * 3):
        t.pos(t0 + i * 10_000, 10, lat=_at_edge(off)[0], lon=ZONE_LON)
    assert t.rules("vehicle.zone") == []  # never 50 m inside: margin holds
    for i, off in enumerate([-80, -30, 20, -40, 45]):  # inside by 80 m, then jitter
        t.pos(t0 + (30 + i) * 10_000, 10, lat=_at_edge(off)[0], lon=ZONE_LON)
    assert t.rules("vehicle.zone") == [("raised", 2)]
    t.pos(t0 + 40 * 10_000, 10, lat=_at_edge(80)[0], lon=ZONE_LON)
    assert t.rules("vehicle.zone") == [("raised", 2), ("cleared", 2)]


def test_dwelling_in_a_restricted_zone_upgrades_after_5_minutes() -> None:
    t = Trip(TRUCK, ZONE_LAT, ZONE_LON)
    t.run(at("10:00"), 7, 0)
    w = [x for x in t.out if x.rule.startswith("vehicle.zone")]
    assert [(x.transition, x.level) for x in w] == [("raised", 2), ("upgraded", 1)]
    assert w[1].ts - w[0].ts == 5 * MIN and "停留超过5分钟" in w[1].message
    coach = Trip(COACH, ZONE_LAT, ZONE_LON)  # the zone applies to hazmat trucks only
    coach.run(at("10:00"), 7, 0)
    assert coach.rules("vehicle.zone") == []


def test_route_deviation_raises_after_persisting_and_clears_on_return() -> None:
    t = Trip("hz-0001", 40.80, 111.60)  # on the first vertex of its corridor
    t0 = at("10:00")
    for i in range(6):
        t.pos(t0 + i * 20_000, 30, lat=40.80, lon=111.60 + 0.001 * i)
    for i in range(6, 12):  # 1.1 km north: off the 500 m corridor
        t.pos(t0 + i * 20_000, 30, lat=40.81, lon=111.60)
    for i in range(12, 16):
        t.pos(t0 + i * 20_000, 30, lat=40.80, lon=111.60)
    w = [x for x in t.out if x.rule.startswith("vehicle.route")]
    assert [(x.transition, x.level) for x in w] == [("raised", 3), ("cleared", 3)]
    assert w[0].ts - (t0 + 6 * 20_000) == 60_000 and "偏离核定线路" in w[0].message


# -- terminal alarms, video AI, offline, drift -------------------------------------------------

@pytest.mark.parametrize(("vehicle", "bit", "level"), [
    ("hz-0001", 30, 1), ("co-0001", 30, 2),  # rollover: a hazmat truck reaches 红
    ("hz-0001", 29, 1), ("hz-0001", 0, 1), ("co-0001", 0, 2), ("co-0001", 8, 3),
])
def test_jt808_alarm_bits_become_warnings_held_while_the_bit_is_set(
        vehicle: str, bit: int, level: int) -> None:
    t = Trip(vehicle)
    t0 = at("10:00")
    t.pos(t0, 40)
    t.pos(t0 + 10_000, 40, flags=1 << bit | 1 << 1)  # bit 1 (overspeed) is ours, not the terminal's
    t.pos(t0 + 20_000, 40, flags=1 << bit)
    t.pos(t0 + 30_000, 40)
    assert t.rules("vehicle.jt808") == [("raised", level), ("cleared", level)]


def _video(vehicle: str, ts: int, typ: str = "fatigue", level: int | None = 1,
           speed: float = 40) -> VideoEventRecord:
    return VideoEventRecord(ts=ts, event_id=f"A-{ts}", family="dsm", type=typ, received_at=ts,
                            vehicle_id=vehicle, terminal_level=level, speed_kmh=speed,
                            media=[MediaRecord("image", f"https://files.example/{ts}.jpg")])


def test_three_fatigue_alarms_in_10_minutes_escalate_and_carry_the_media() -> None:
    e, st, t0 = VehicleEngine(CAT, RULES), VehicleState(), at("10:00")
    out = []
    for m in (0, 4, 8):
        out += e.on_record(st, _video(COACH, t0 + m * MIN))
    assert [(w.transition, w.level) for w in out] == [("raised", 3), ("upgraded", 2)]
    assert out[1].evidence[0].uri == f"https://files.example/{t0 + 8 * MIN}.jpg"
    assert "10分钟内第3次" in out[1].message
    out = e.on_tick(st, COACH, t0 + 12 * MIN) + e.on_tick(st, COACH, t0 + 14 * MIN)
    assert [(w.transition, w.ts - t0) for w in out] == [("cleared", 13 * MIN)]


def test_video_alarm_level_follows_the_terminal_level_and_speed() -> None:
    e, t0 = VehicleEngine(CAT, RULES), at("10:00")
    assert e.on_record(VehicleState(), _video(COACH, t0, "phone", 2))[0].level == 2
    assert e.on_record(VehicleState(), _video(COACH, t0, "phone", None, 60))[0].level == 2
    assert e.on_record(VehicleState(), _video(COACH, t0, "phone", 1, 60))[0].level == 3


def test_a_tpms_tyre_alarm_is_graded_by_speed_and_names_the_tyre() -> None:
    e, t0 = VehicleEngine(CAT, RULES), at("10:00")

    def tpms(typ: str, speed: float) -> VideoEventRecord:
        return VideoEventRecord(ts=t0, event_id=f"T-{typ}", family="tpms", type=typ,
                                received_at=t0, vehicle_id=TRUCK, speed_kmh=speed,
                                tyre=TyreRecord(3, 1 | 4, 420.0, 38.0, 80.0))

    (w,) = e.on_record(VehicleState(), tpms("pressure_low", 40))
    assert (w.rule, w.level) == ("vehicle.video.tpms.pressure_low", 3)
    assert "TPMS胎压监测报警：胎压过低，03号轮胎（左前轮为00），胎压420kPa，胎温38℃" in w.message
    assert e.on_record(VehicleState(), tpms("pressure_low", 60))[0].level == 2  # fast: one up
    assert e.on_record(VehicleState(), tpms("battery_low", 40))[0].level == 4
    # four tyres low in one 0x66 item: one moment, not four repeats (no level up, no 第4次)
    st, out = VehicleState(), []
    for pos in (0, 1, 2, 3):
        ev = msgspec.structs.replace(tpms("pressure_low", 40), event_id=f"T-{pos}",
                                     tyre=TyreRecord(pos, 4, 300.0, 30.0, 80.0))
        out += e.on_record(st, ev)
    assert [(w.transition, w.level) for w in out] == [("raised", 3)]
    assert "次" not in out[0].message


def test_offline_then_reappearing_far_away_raises_offline_displacement() -> None:
    t = Trip(TRUCK)
    t0 = at("10:00")
    t.run(t0, 5, 40)
    off = t.e.on_tick(t.st, TRUCK, t0 + 22 * MIN)
    assert [(w.rule, w.transition, w.level) for w in off] == [("vehicle.offline", "raised", 3)]
    back = t.pos(t0 + 40 * MIN, 40, lat=t.lat + 0.05, lon=t.lon)  # 5.6 km away
    assert sorted((w.rule, w.transition) for w in back) == [
        ("vehicle.offline", "cleared"), ("vehicle.offline_displacement", "raised")]
    assert "离线位移" in next(w.message for w in back if "displacement" in w.rule)


def test_a_blind_area_upload_does_not_make_offline_flap_and_the_live_fix_clears_it() -> None:
    # 盲区补传: back in coverage at 11:30, the terminal uploads the fixes it stored since 10:05
    # (ten a second, ticks every second in between), then reports live. The offline warning
    # must end once, when the data are current again, not flap with every upload and tick.
    t = Trip(TRUCK)
    t0, back = at("10:00"), at("11:30")
    t.run(t0, 5, 40)
    timeout = CAT.vehicles[TRUCK].offline_timeout_s * 1000
    assert [w.transition for w in t.e.on_tick(t.st, TRUCK, t0 + 5 * MIN + timeout)] == ["raised"]
    out: list[WarningRecord] = []
    fixes = [t0 + 5 * MIN + i * 30_000 for i in range(180)]  # 10:05 … 11:34:30, every 30 s
    now = back
    for i, ts in enumerate(fixes):
        if i % 10 == 0:
            now = max(now + 1000, ts)
            out += t.e.on_tick(t.st, TRUCK, now)
        t.lon += 40 * 30 / 3600 / (111.32 * math.cos(math.radians(t.lat)))  # a continuous track
        out += t.e.on_record(t.st, PositionRecord(
            vehicle_id=TRUCK, ts=ts, lat=t.lat, lon=t.lon, speed_kmh=40, heading=90,
            received_at=now), now)
    offline = [w for w in out if w.rule.startswith("vehicle.offline")]
    assert [(w.rule, w.transition) for w in offline] == [("vehicle.offline", "cleared")]
    assert offline[0].ts + timeout >= back  # (cleared by a fix within the timeout of "now")
    # the text tells the time it was flagged offline (10:19:30 → 11:15:30), not the 30 s since
    # the uploaded fix before
    assert "已恢复在线（离线56分钟）" in offline[0].message


def test_last_will_offline_raises_after_30_seconds_unless_back() -> None:
    e, st, t0 = VehicleEngine(CAT, RULES), VehicleState(), at("10:00")
    e.on_record(st, PositionRecord(vehicle_id=COACH, ts=t0, lat=41.0, lon=112.0, speed_kmh=0,
                                   heading=0, received_at=t0))
    e.on_record(st, StatusRecord(status="offline", ts=t0 + 1000, received_at=t0,
                                 vehicle_id=COACH))
    assert e.on_tick(st, COACH, t0 + 20_000) == []
    assert [w.transition for w in e.on_tick(st, COACH, t0 + 40_000)] == ["raised"]


def test_gnss_drift_is_counted_and_not_used_for_speed_distance_or_zones() -> None:
    t = Trip(TRUCK)
    t0 = at("10:00")
    t.run(t0, 3, 40)
    lat, lon = t.lat, t.lon
    t.pos(t0 + 3 * MIN, 40, lat=ZONE_LAT, lon=ZONE_LON)  # a jump of ~100 km in 5 s
    t.pos(t0 + 3 * MIN + 30_000, 40, lat=lat, lon=lon + 0.004)
    assert t.st.day.drift == 1 and t.rules("vehicle.zone") == []
    assert (t.st.lat, t.st.lon) == (lat, lon + 0.004)


def test_daily_figures_close_at_local_midnight_and_state_round_trips() -> None:
    t = Trip(TRUCK)
    t.run(at("23:50", 22), 20, 50)
    assert len(t.st.closed) == 1 and t.st.closed[0].positions == 20
    assert t.st.day.positions == 20
    assert load_vehicle(dump_vehicle(t.st)) == t.st


def test_geometry_helpers() -> None:
    assert distance_m(40.0, 111.0, 41.0, 111.0) == pytest.approx(111_195, rel=1e-3)
    square = [(0.0, 0.0), (0.0, 0.01), (0.01, 0.01), (0.01, 0.0)]
    assert polygon_signed_m(0.005, 0.005, square) == pytest.approx(556, rel=0.01)
    assert polygon_signed_m(0.02, 0.005, square) == pytest.approx(-1112, rel=0.01)
    assert polyline_distance_m(0.001, 0.005, [(0.0, 0.0), (0.0, 0.01)]) == pytest.approx(
        111.2, rel=0.01)
    rng = random.Random(3)
    for _ in range(2000):  # the plane distance between fixes, all over China, up to ~100 km
        lat, lon = rng.uniform(18, 54), rng.uniform(73, 135)
        lat2, lon2 = lat + rng.uniform(-0.6, 0.6), lon + rng.uniform(-0.6, 0.6)
        assert short_distance_m(lat, lon, lat2, lon2) == pytest.approx(
            distance_m(lat, lon, lat2, lon2), rel=1e-3, abs=0.01)


def test_local_clock_uses_a_fixed_offset_only_without_daylight_saving() -> None:
    assert LocalClock("Asia/Shanghai").fixed_offset_ms == 8 * 3_600_000
    berlin = LocalClock("Europe/Berlin")
    assert berlin.fixed_offset_ms is None
    summer, winter = at("12:00", 1) + 180 * 86_400_000, at("12:00", 1)
    assert berlin.minute_of_day(summer) - berlin.minute_of_day(winter) == 60  # CEST vs CET


def test_a_vehicle_woken_only_when_due_gives_the_same_warnings() -> None:
    """Timers as data: on_tick does nothing before st.wake_at; a vehicle ticked only then
    gives the same warnings as one whose wake time is ignored (every tick evaluated)."""
    def drive(skip: bool) -> list[tuple[str, str, int, int]]:
        e, st = VehicleEngine(CAT, RULES), VehicleState()
        rng, out, lat, lon = random.Random(5), [], 40.60, 111.77  # by the water source
        asleep = 0
        ts, speed = at("21:30"), 50.0
        for i in range(4000):  # 33 h of 30-s fixes with stops, fast runs, gaps, zone visits
            last, ts = ts, ts + (30_000 if rng.random() > 0.003 else 1_200_000)
            if i % 60 == 0:
                speed = rng.choice([0.0, 40.0, 58.0, 63.0, 70.0, 80.0])
            lon += (speed + rng.gauss(0, 3)) * 30 / 3600 / 84 * rng.choice([1, -1])
            for now in range(last + 5_000, ts, 5_000):
                asleep += now < st.wake_at
                if not skip:
                    st.wake_at = 0
                out += e.on_tick(st, TRUCK, now)
            out += e.on_record(st, PositionRecord(
                vehicle_id=TRUCK, ts=ts, lat=lat + rng.gauss(0, 0.0002), lon=lon,
                speed_kmh=max(0.0, speed + rng.gauss(0, 3)), heading=90, received_at=ts,
                alarm_flags=1 << 11 if rng.random() < 0.01 else 0))
        assert not skip or asleep > 5_000  # many ticks find nothing due
        return [(w.rule, w.transition, w.level, w.ts) for w in out]
    skipping = drive(skip=True)
    assert {r for r, *_ in skipping} >= {
        "vehicle.overspeed", "vehicle.zone.dahei-river-water-source", "vehicle.offline",
        "vehicle.driving.continuous", "vehicle.jt808.11"}
    assert skipping == drive(skip=False)
