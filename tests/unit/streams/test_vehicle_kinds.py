"""Vehicle rule kinds: one table, one interface, the packed 24-hour window."""

from __future__ import annotations

import pytest

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.records import PositionRecord
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.streams import kinds as registry
from hazardwatch.streams.vehicles import kinds as vehicle_kinds
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.vehicles.kinds.base import Fix, Out, VehicleRule
from hazardwatch.streams.vehicles.kinds.daily import BUCKET_MS, buckets
from hazardwatch.streams.vehicles.state import VehicleState, dump_vehicle, load_vehicle

CAT = load_catalog("deploy/catalog/demo.yaml")
RULES = load_vehicle_rules()
TRUCK = "hz-0003"
T0 = 1_795_000_000_000


def drive(e: VehicleEngine, st: VehicleState, start: int, minutes: int,
          step_s: int = 30) -> list[WarningRecord]:
    """Fixes every step_s at 60 km/h heading east (from 41.5, 112.5)."""
    out: list[WarningRecord] = []
    lon = 112.5 + (start - T0) / 3_600_000 * 60 / 83.4
    for i in range(minutes * 60 // step_s):
        ts = start + i * step_s * 1000
        rec = PositionRecord(vehicle_id=TRUCK, ts=ts, lat=41.5,
                             lon=lon + i * step_s / 3600 * 60 / 83.4, speed_kmh=60, heading=90,
                             received_at=ts)
        out += e.on_tick(st, TRUCK, ts) + e.on_record(st, rec)
    return out


def test_the_registry_lists_site_and_vehicle_kinds_once_each() -> None:
    names = registry.kind_names()
    subjects = {s for s, _ in names}
    assert subjects == {"site", "vehicle"}
    vehicle = [n for s, n in names if s == "vehicle"]
    assert len(vehicle) == len(set(vehicle)) == len(vehicle_kinds.KINDS)
    assert {"overspeed", "continuous_driving", "daily_driving", "night_ban", "places",
            "jt808_bits", "video_ai", "offline", "offline_displacement", "drift",
            "day_figures"} <= set(vehicle)
    for k in vehicle_kinds.KINDS:
        assert k.__doc__ and k.name


class _Counter(VehicleRule):
    """A made-up kind: counts the fixes it sees (not the jumps) in the day figures."""

    name = "counter"

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        st.day.gaps += 1000


def test_adding_a_kind_is_one_line_in_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vehicle_kinds, "KINDS", (*vehicle_kinds.KINDS, _Counter))
    e, st = VehicleEngine(CAT, RULES), VehicleState()
    drive(e, st, T0, 10)
    assert st.day.gaps == 1000 * 20
    plain = VehicleState()
    monkeypatch.undo()
    drive(VehicleEngine(CAT, RULES), plain, T0, 10)
    assert plain.day.gaps == 0


def test_the_window_is_packed_and_pruned_after_24_hours() -> None:
    e, st = VehicleEngine(CAT, RULES), VehicleState()
    drive(e, st, T0, 60)
    closed = buckets(st)
    assert [b for b, _ in closed] == list(range(T0 // BUCKET_MS, T0 // BUCKET_MS + len(closed)))
    assert sum(ms for _, ms in closed) + st.bucket_ms == st.window_ms
    assert isinstance(st.window, bytes) and len(st.window) == 12 * len(closed)
    drive(e, st, T0 + 25 * 3_600_000, 30)  # a day later: the first hour has left the window
    assert all(b >= (T0 + 24 * 3_600_000) // BUCKET_MS for b, _ in buckets(st))
    assert st.window_ms == sum(ms for _, ms in buckets(st)) + st.bucket_ms
    assert load_vehicle(dump_vehicle(st)) == st


def test_a_state_with_the_old_bucket_map_is_packed_on_its_next_drive() -> None:
    e = VehicleEngine(CAT, RULES)
    packed = VehicleState()
    drive(e, packed, T0, 60)
    old = load_vehicle(dump_vehicle(packed))
    old.buckets, old.window = dict(buckets(packed)), b""
    for st in (packed, old):
        drive(e, st, T0 + 3_600_000, 30)
    assert old.buckets == {} and old.window == packed.window
    assert old.window_ms == packed.window_ms
