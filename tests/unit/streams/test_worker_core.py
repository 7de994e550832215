"""WorkerCore: state bytes in, state bytes and output out, for sites, vehicles and ticks."""

from __future__ import annotations

import msgspec

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.records import PointRecord, PositionRecord, TelemetryRecord, encode
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.worker.core import Tick, TickFanOut, WorkerCore, decode_tick, encode_tick
from hazardwatch.streams.worker.platform_gap import PlatformGap

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
    assert [(h.hour, h.positions) for h in r.hours] == [(T0 - T0 % 3_600_000, 1)]  # its hour


def test_a_partition_tick_becomes_one_tick_per_site_and_vehicle_on_that_partition() -> None:
    on = {b"tf-a": 0, b"tf-b": 1, b"hz-1": 1}
    fan = TickFanOut(["tf-a", "tf-b"], ["hz-1"], on.get)
    got = [(k, decode_tick(v)) for k, v in fan.events(b"", encode_tick(Tick(None, T0, None, 1)))]
    assert got == [(b"tf-b", Tick("tf-b", T0)), (b"hz-1", Tick(None, T0, "hz-1"))]
    assert [k for k, _ in fan.events(b"", encode_tick(Tick(None, T0, None, 0)))] == [b"tf-a"]
    keyed = encode_tick(Tick("tf-a", T0))  # a drill's tick for one key passes as it is
    assert fan.events(b"tf-a", keyed) == [(b"tf-a", keyed)]


def test_fan_out_waits_for_partition_metadata() -> None:
    known: dict[bytes, int] = {}
    fan = TickFanOut(["tf-a"], [], known.get)
    tick = encode_tick(Tick(None, T0, None, 2))
    assert fan.events(b"", tick) == []  # no metadata yet: nothing cached, nothing ticked
    known[b"tf-a"] = 2
    assert [k for k, _ in fan.events(b"", tick)] == [b"tf-a"]


def test_a_tick_that_fires_nothing_leaves_the_state_bytes_unchanged() -> None:
    c = core()
    rec = TelemetryRecord(site_id="tf-hohhot-01", device_id="gds-01", ts=T0,
                          points=[PointRecord("T101-GAS1", 2.0, T0)], received_at=T0)
    state = c.handle(None, "hw.telemetry", encode(rec)).state
    first = c.handle(state, "p.hw.ticks", encode_tick(Tick("tf-hohhot-01", T0 + 1000)))
    assert len(first.seen) == 1  # the first tick of an hour sends its value tallies
    state = first.state  # (the first tick also wrote the wake-up time)
    for now in (T0 + 2000, T0 + 3000):
        after = c.handle(state, "p.hw.ticks", encode_tick(Tick("tf-hohhot-01", now)))
        assert after.state is state and after.warnings == [] and after.seen == []


def test_the_latest_tick_tells_an_upload_of_stored_fixes_from_live_ones() -> None:
    c = core()
    fix = PositionRecord(vehicle_id="hz-0001", ts=T0, lat=40.8, lon=111.6, speed_kmh=0,
                         heading=0, received_at=T0)
    r = c.handle(None, "hw.vehicle.positions", encode(fix))
    later = T0 + 3_600_000
    r = c.handle(r.state, "p.hw.ticks", encode_tick(Tick(None, later, "hz-0001")))
    assert [w.transition for w in r.warnings] == ["raised"]
    stored = msgspec.structs.replace(fix, ts=T0 + 60_000, received_at=later)  # 盲区补传
    r = c.handle(r.state, "hw.vehicle.positions", encode(stored))
    assert r.warnings == []  # still offline: the next tick would raise it again
    live = msgspec.structs.replace(fix, ts=later, received_at=later)
    r = c.handle(r.state, "hw.vehicle.positions", encode(live))
    assert [w.transition for w in r.warnings] == ["cleared"]


def test_a_partition_tick_reaches_only_the_vehicles_that_are_due() -> None:
    """Timers as data: a vehicle that reported is asleep until its offline timeout; a state
    the table holds that this worker did not write (a rebalance) is always evaluated."""
    c, table = core(), {}
    fan = TickFanOut(["tf-hohhot-01"], ["hz-0001", "hz-0002"], lambda _k: 0)
    for vid in ("hz-0001", "hz-0002"):
        pos = PositionRecord(vehicle_id=vid, ts=T0, lat=40.8, lon=111.6, speed_kmh=50,
                             heading=0, received_at=T0)
        table[vid.encode()] = c.handle(None, "hw.vehicle.positions", encode(pos)).state
    tick = encode_tick(Tick(None, T0 + 1000, partition=0))
    keys = [k for k, _ in c.tick_events(fan, b"", tick, table.get)]
    assert keys == [b"tf-hohhot-01"]  # (a site with no state is due); both vehicles asleep
    table[b"hz-0002"] = bytes(bytearray(table[b"hz-0002"]))  # equal bytes another worker wrote
    keys = [k for k, _ in c.tick_events(fan, b"", tick, table.get)]
    assert keys == [b"tf-hohhot-01", b"hz-0002"]
    late = encode_tick(Tick(None, T0 + 3_600_000, partition=0))  # past the offline timeout
    events = c.tick_events(fan, b"", late, table.get)
    assert [k for k, _ in events] == [b"tf-hohhot-01", b"hz-0001", b"hz-0002"]
    out = [w for k, v in events[1:] for w in c.handle(table[k], "hw.ticks", v).warnings]
    assert [(w.rule, w.vehicle_id) for w in out] == [("vehicle.offline", "hz-0001"),
                                                    ("vehicle.offline", "hz-0002")]
    assert c.now == T0 + 3_600_000


def test_a_partition_tick_reaches_a_site_only_when_it_is_due() -> None:
    """A site is evaluated on the first tick after its data, then asleep until its devices'
    offline timeout; the tick that is due raises the offline warning."""
    c, table = core(), {}
    fan = TickFanOut(["tf-hohhot-01"], [], lambda _k: 0)
    rec = TelemetryRecord(site_id="tf-hohhot-01", device_id="gds-01", ts=T0,
                          points=[PointRecord("T101-GAS1", 1.0, T0)], received_at=T0)
    table[b"tf-hohhot-01"] = c.handle(None, "hw.telemetry", encode(rec)).state

    def tick(now: int) -> list[str]:
        events = c.tick_events(fan, b"", encode_tick(Tick(None, now, partition=0)), table.get)
        out = []
        for k, v in events:
            r = c.handle(table[k], "hw.ticks", v)
            table[k] = r.state
            out += [w.rule for w in r.warnings]
        return [k.decode() for k, _ in events] + out

    assert tick(T0 + 1000) == ["tf-hohhot-01"]  # evaluated once: nothing due yet
    assert tick(T0 + 2000) == []  # asleep
    assert tick(T0 + 50_000) == []
    assert tick(T0 + 61_000) == ["tf-hohhot-01", "device.offline"]  # gds-01: 60 s timeout


def _live(clock: list[float]) -> WorkerCore:
    return WorkerCore(Engine(CAT, load_rules()), VehicleEngine(CAT, load_vehicle_rules()),
                      started_at=0, grace_ms=0,
                      gap=PlatformGap(120_000, clock=lambda: clock[0] / 1000))


def _offline_after_gap(c: WorkerCore, clock: list[float], resumes: bool) -> list[int]:
    """A device seen every second until T0+60 s, Kafka away 70 s (ticks made meanwhile read
    late), back at T0+130 s; the device is seen again from then on if `resumes`, else it
    stayed silent (a real outage). Returns the times of offline warnings raised."""
    state: bytes | None = None
    raised: list[int] = []

    def tick(at: int, made: int) -> None:
        nonlocal state
        clock[0] = at
        r = c.handle(state, "p.hw.ticks", encode_tick(Tick("tf-hohhot-01", made)))
        state = r.state
        raised.extend(w.ts for w in r.warnings
                      if w.kind == "offline" and w.transition == "raised")

    def reading(at: int) -> None:
        nonlocal state
        clock[0] = at
        rec = TelemetryRecord(site_id="tf-hohhot-01", device_id="gds-01", ts=at,
                              points=[PointRecord("T101-GAS1", 1.0, at)], received_at=at)
        state = c.handle(state, "hw.telemetry", encode(rec)).state

    for s in range(0, 60):
        reading(T0 + s * 1000)
        tick(T0 + s * 1000, T0 + s * 1000)
    # Kafka away 60 → 130 s: the ticks made meanwhile are read late, then fresh ones
    for s in range(60, 130):
        tick(T0 + 130_000 + (s - 60) * 10, T0 + s * 1000)
    for s in range(130, 400):
        if resumes:
            reading(T0 + s * 1000)
        tick(T0 + s * 1000, T0 + s * 1000)
    return raised


def test_a_platform_gap_raises_no_offline_and_a_real_outage_is_reported_after_the_hold() -> None:
    clock = [0.0]
    assert _offline_after_gap(_live(clock), clock, resumes=True) == []
    clock = [0.0]  # the device really went silent at 60 s: reported once the hold has passed
    raised = _offline_after_gap(_live(clock), clock, resumes=False)
    last_late_tick = T0 + 130_650  # the last tick read > 5 s late: made at 125 s
    assert raised == [last_late_tick + 120_000], [r - T0 for r in raised]


def test_without_the_gap_rule_the_platform_gap_raises_offline() -> None:  # the guard can fail
    clock = [0.0]
    c = WorkerCore(Engine(CAT, load_rules()), VehicleEngine(CAT, load_vehicle_rules()),
                   started_at=0, grace_ms=0)
    assert _offline_after_gap(c, clock, resumes=True) != []
