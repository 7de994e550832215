"""What a worker does with one event: decode, load state, call the engine, return state + output.

No Faust here, so it is unit-tested directly. Ticks (one per partition and second from its
owner, fanned out to the partition's keys; or one per key from a drill) carry wall-clock time
through the stream: timers then run where the state lives, in order with its data, and a
replay of the input topics reproduces them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from hazardwatch.contracts.daily import VehicleDayRecord
from hazardwatch.contracts.records import InputRecord, decode_input
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.rules.state import SiteState, dump_state, load_state
from hazardwatch.streams.vehicles.clock import DAY_MS, day_text
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.vehicles.state import DayFigures, VehicleState, dump_vehicle, load_vehicle

TICK_TOPIC = "hw.ticks"


class Tick(msgspec.Struct, frozen=True):
    """A timer event at wall-clock time `now` (epoch ms) for one site, one vehicle, or (with
    `partition`) every site and vehicle whose key hashes to that partition."""

    site_id: str | None
    now: int
    vehicle_id: str | None = None
    partition: int | None = None


_tick_dec = msgspec.json.Decoder(Tick)
_enc = msgspec.json.Encoder()


def encode_tick(tick: Tick) -> bytes:
    """JSON bytes of a tick."""
    return _enc.encode(tick)


def decode_tick(value: bytes) -> Tick:
    """The tick in JSON bytes."""
    return _tick_dec.decode(value)


class TickFanOut:
    """Turns one partition's tick into one tick per site and vehicle whose key is on it."""

    def __init__(self, sites: list[str], vehicles: list[str],
                 partition_of: Callable[[bytes], int | None]) -> None:
        self.keys = [(k.encode(), Tick(k, 0)) for k in sites] + [
            (k.encode(), Tick(None, 0, k)) for k in vehicles]
        self.partition_of = partition_of
        self.by_partition: dict[int, list[tuple[bytes, Tick]]] = {}

    def events(self, key: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
        """(key, tick bytes) to evaluate for a tick read from the tick topic."""
        tick = decode_tick(value)
        if tick.partition is None:  # a drill's tick for one key
            return [(key, value)]
        return [(k, encode_tick(Tick(t.site_id, tick.now, t.vehicle_id)))
                for k, t in self._on(tick.partition)]

    def _on(self, part: int) -> list[tuple[bytes, Tick]]:
        if not self.by_partition:  # the partition count is known once the consumer runs
            for key, tick in self.keys:
                found = self.partition_of(key)
                if found is None:  # no metadata yet: the next tick tries again
                    self.by_partition.clear()
                    return []
                self.by_partition.setdefault(found, []).append((key, tick))
        return self.by_partition.get(part, [])


@dataclass
class Result:
    """New state bytes, the warnings and the closed vehicle days caused by one event."""

    state: bytes
    warnings: list[WarningRecord] = field(default_factory=list)
    days: list[VehicleDayRecord] = field(default_factory=list)


class WorkerCore:
    """Evaluates one event against one site's or vehicle's state."""

    def __init__(self, engine: Engine, vehicles: VehicleEngine, *, started_at: int,
                 grace_ms: int) -> None:
        self.engine, self.vehicles = engine, vehicles
        self.started_at, self.grace_ms = started_at, grace_ms
        self.offline_not_before = started_at + grace_ms  # no offline storm after a restart
        self.accounting_from: int | None = None  # 未接入: silent since the first tick
        self.first_tick: int | None = None
        self.now: int | None = None  # the latest tick: tells buffered uploads from live data

    def handle(self, state: bytes | None, topic: str, value: bytes) -> Result:
        """Evaluate one event (input record or tick) against the prior state bytes."""
        if topic.endswith(TICK_TOPIC):
            tick = _tick_dec.decode(value)
            if self.first_tick is None:  # the grace runs on the tick clock (a drill's is past)
                self.first_tick = tick.now
                self.offline_not_before = min(self.started_at, tick.now) + self.grace_ms
                self.accounting_from = tick.now
            if self.now is None or tick.now > self.now:
                self.now = tick.now
            if tick.vehicle_id is not None:
                return self._vehicle(state, tick.vehicle_id, tick.now, None)
            st = load_state(state) if state else SiteState()
            if tick.site_id not in self.engine.catalog.sites:
                return Result(dump_state(st))
            out = self.engine.on_tick(st, tick.site_id, tick.now, self.offline_not_before,
                                      self.accounting_from)
            return Result(dump_state(st), out)
        rec = decode_input(value)
        vehicle_id = getattr(rec, "vehicle_id", None)
        if vehicle_id is not None:
            return self._vehicle(state, vehicle_id, 0, rec)
        st = load_state(state) if state else SiteState()
        out = self.engine.on_record(st, rec, self.now)
        return Result(dump_state(st), out)

    def _vehicle(self, state: bytes | None, vehicle_id: str, now: int,
                 rec: InputRecord | None) -> Result:
        vst = load_vehicle(state) if state else VehicleState()
        if vehicle_id not in self.vehicles.catalog.vehicles:
            return Result(dump_vehicle(vst))
        out = (self.vehicles.on_record(vst, rec, self.now) if rec is not None
               else self.vehicles.on_tick(vst, vehicle_id, now, self.offline_not_before))
        days = [self._day(vehicle_id, d, vst.drill) for d in vst.closed]
        vst.closed = []
        return Result(dump_vehicle(vst), out, days)

    def _day(self, vehicle_id: str, d: DayFigures, drill: bool) -> VehicleDayRecord:
        v = self.vehicles.catalog.vehicles[vehicle_id]
        utc_midnight = d.day * DAY_MS
        midnight = utc_midnight - (self.vehicles.clock.local_ms(utc_midnight) - utc_midnight)
        return VehicleDayRecord(
            vehicle_id=vehicle_id, company=v.company, vehicle_class=v.vehicle_class,
            day=day_text(d.day), ts=midnight, positions=d.positions, drift=d.drift, gaps=d.gaps,
            overspeed=d.overspeed, fatigue_s=d.fatigue_ms / 1000, online_s=d.online_ms / 1000,
            drill=drill, complete_m=d.complete_m, incomplete_m=d.incomplete_m)
