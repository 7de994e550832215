"""WorkerCore: state bytes in, state bytes and output out, for sites, vehicles and ticks."""

from __future__ import annotations

from contracts.catalog import load_catalog
from contracts.records import PointRecord, PositionRecord, TelemetryRecord, encode
from streams.rules.config import load_rules
from streams.rules.engine import Engine
from streams.vehicles.config import load_vehicle_rules
from streams.vehicles.engine import VehicleEngine
from streams.worker.core import Tick, WorkerCore, encode_tick

CAT = load_catalog("deploy/catalog/demo.yaml")
T0 = 1_795_000_000_000


def core() -> WorkerCore:
    return WorkerCore(Engine(CAT, load_rules()), VehicleEngine(CAT, load_vehicle_rules()),
                      started_at=0, grace_ms=0)


def test_site_state_carries_over_between_events_so_persistence_raises() -> None:
    c, state, out = core(), None, []
    for i, v in enumerate([30.0, 30.0, 30.0]):  # 25 %LEL for 10 s → raised on the 2nd
        rec = TelemetryRecord(site_id="tf-hohhot-01", device_id="gds-01", ts=T0 + i * 10_000,
                              points=[PointRecord("T101-GAS1", v, T0 + i * 10_000)],
                              received_at=T0)
        r = c.handle(state, "hw.telemetry", encode(rec))
        state, out = r.state, out + r.warnings
    assert [(w.transition, w.level) for w in out] == [("raised", 3)]


def test_vehicle_ticks_raise_offline_and_days_close_at_midnight() -> None:
    c = core()
    pos = PositionRecord(vehicle_id="hz-0001", ts=T0, lat=40.8, lon=111.6, speed_kmh=0,
                         heading=0, received_at=T0)
    r = c.handle(None, "hw.vehicle.positions", encode(pos))
    tick = encode_tick(Tick(None, T0 + 86_400_000, "hz-0001"))
    r = c.handle(r.state, "p.hw.ticks", tick)
    assert [w.rule for w in r.warnings] == ["vehicle.offline"]
    assert [(d.vehicle_id, d.company, d.positions) for d in r.days] == [
        ("hz-0001", "nm-hazmat-01", 1)]
