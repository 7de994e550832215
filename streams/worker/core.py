"""What a worker does with one event: decode, load state, call the engine, return state + output.

No Faust here, so it is unit-tested directly. Ticks (one per partition and second from its
owner, fanned out to the partition's keys; or one per key from a drill) carry wall-clock time
through the stream: timers then run where the state lives, in order with its data, and a
replay of the input topics reproduces them.

Timers are data: a site's or vehicle's state carries its next wake-up (SiteState.wake_at,
VehicleState.wake_at), and a partition's tick reaches only the keys that are due
(`tick_events`). The state a worker
last wrote is kept decoded beside its bytes, so an event decodes state at most once, and
only when the table holds bytes this worker did not write (after a rebalance or restart).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import msgspec

from hazardwatch.clock import DAY_MS, day_text
from hazardwatch.contracts.daily import VehicleDayRecord, VehicleHourRecord
from hazardwatch.contracts.records import InputRecord, TelemetryRecord, decode_input
from hazardwatch.contracts.seen import SeenRecord
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.rules.state import SiteState, dump_state, load_state
from hazardwatch.streams.seen import RESEND_MS, Ledger, due, observe_record
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.vehicles.state import DayFigures, VehicleState, dump_vehicle, load_vehicle
from hazardwatch.streams.worker.platform_gap import PlatformGap

TICK_TOPIC = "hw.ticks"
_S = TypeVar("_S")


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

    def on_partition(self, part: int) -> list[tuple[bytes, Tick]]:
        """(key, tick template) of every site and vehicle on a partition."""
        return self._on(part)

    def _on(self, part: int) -> list[tuple[bytes, Tick]]:
        if not self.by_partition:  # the partition count is known once the consumer runs
            for key, tick in self.keys:
                found = self.partition_of(key)
                if found is None:  # no metadata yet: the next tick tries again
                    self.by_partition.clear()
                    return []
                self.by_partition.setdefault(found, []).append((key, tick))
        return self.by_partition.get(part, [])


CACHE_MAX = 200_000  # decoded states kept (all dropped beyond: they are decoded again)


@dataclass
class Result:
    """New state bytes, the warnings, the closed vehicle days and the hourly tallies of valid
    values caused by one event."""

    state: bytes
    warnings: list[WarningRecord] = field(default_factory=list)
    days: list[VehicleDayRecord] = field(default_factory=list)
    seen: list[SeenRecord] = field(default_factory=list)
    hours: list[VehicleHourRecord] = field(default_factory=list)


class WorkerCore:
    """Evaluates one event against one site's or vehicle's state."""

    def __init__(self, engine: Engine, vehicles: VehicleEngine, *, started_at: int,
                 grace_ms: int, gap: PlatformGap | None = None,
                 seen_every_ms: int = RESEND_MS) -> None:
        self.engine, self.vehicles = engine, vehicles
        self.gap = gap  # live ticks only: a drill's scenario clock is not the wall clock
        self.started_at, self.grace_ms = started_at, grace_ms
        self.seen_every_ms = seen_every_ms  # open hours of value tallies rewritten this often
        self.offline_not_before = started_at + grace_ms  # no offline storm after a restart
        self.accounting_from: int | None = None  # 未接入: silent since the first tick
        self.first_tick: int | None = None
        self.now: int | None = None  # the latest tick: tells buffered uploads from live data
        self._sites: dict[str, tuple[bytes, SiteState]] = {}  # id → (bytes written, decoded)
        self._vehicles: dict[str, tuple[bytes, VehicleState]] = {}

    def _clock(self, tick: Tick) -> None:
        if self.first_tick is None:  # the grace runs on the tick clock (a drill's is past)
            self.first_tick = tick.now
            self.offline_not_before = min(self.started_at, tick.now) + self.grace_ms
            self.accounting_from = tick.now
        if self.gap is not None:
            self.offline_not_before = max(self.offline_not_before,
                                          self.gap.tick(tick.now, self.now))
        if self.now is None or tick.now > self.now:
            self.now = tick.now

    def tick_events(self, fan_out: TickFanOut, key: bytes, value: bytes,
                    table_get: Callable[[bytes], bytes | None]) -> list[tuple[bytes, bytes]]:
        """(key, tick bytes) to evaluate for a tick read from the tick topic: the partition's
        sites and vehicles whose state (as the table holds it) is due by the tick."""
        tick = decode_tick(value)
        self._clock(tick)
        if tick.partition is None:  # a drill's tick for one key
            return [(key, value)]
        now, sites, vehicles, out = tick.now, self._sites, self._vehicles, []
        for k, t in fan_out.on_partition(tick.partition):
            hit: tuple[bytes, SiteState | VehicleState] | None = (
                vehicles.get(t.vehicle_id) if t.vehicle_id is not None
                else sites.get(str(t.site_id)))
            if hit is not None and hit[1].wake_at > now and hit[0] is table_get(k):
                continue  # asleep: nothing of this site or vehicle is due
            out.append((k, encode_tick(Tick(t.site_id, now, t.vehicle_id))))
        return out

    def handle(self, state: bytes | None, topic: str, value: bytes) -> Result:
        """Evaluate one event (input record or tick) against the prior state bytes."""
        if topic.endswith(TICK_TOPIC):
            tick = _tick_dec.decode(value)
            self._clock(tick)
            if tick.vehicle_id is not None:
                return self._vehicle(state, tick.vehicle_id, tick.now, None)
            site_id = str(tick.site_id)
            if site_id not in self.engine.catalog.sites:
                return Result(dump_state(load_state(state) if state else SiteState()))
            hit = self._sites.get(site_id)
            if state is not None and hit is not None and hit[0] is state and (
                    hit[1].wake_at > tick.now):
                return Result(state)  # asleep: the state stays as it is
            return self._site(state, site_id, lambda st: self.engine.on_tick(
                st, site_id, tick.now, self.offline_not_before, self.accounting_from),
                lambda st: due(st.seen, site_id, tick.now, self.seen_every_ms) if st.seen else [])
        rec = decode_input(value)
        vehicle_id = getattr(rec, "vehicle_id", None)
        if vehicle_id is not None:
            return self._vehicle(state, vehicle_id, 0, rec)
        return self._site(state, str(getattr(rec, "site_id", "")),
                          lambda st: self.engine.on_record(st, rec, self.now),
                          lambda st: self._tally(st, rec))

    def _tally(self, st: SiteState, rec: InputRecord) -> list[SeenRecord]:
        if not isinstance(rec, TelemetryRecord):
            return []
        if st.seen is None:
            st.seen = Ledger()
        return observe_record(st.seen, self.engine.catalog, rec)

    def _site(self, state: bytes | None, site_id: str,
              evaluate: Callable[[SiteState], list[WarningRecord]],
              tally: Callable[[SiteState], list[SeenRecord]]) -> Result:
        cache = self._sites
        hit = cache.get(site_id)
        st = hit[1] if hit is not None and hit[0] is state else (
            load_state(state) if state else SiteState())
        try:
            out = evaluate(st)
            seen = tally(st)
            if st.seen is not None and st.seen.hour and st.wake_at > st.seen.due:
                st.wake_at = st.seen.due  # wake for the open hour's tallies too
        except BaseException:
            cache.pop(site_id, None)  # (possibly half-changed: decode it again next time)
            raise
        data = dump_state(st)
        if data == state:
            data = state  # the table keeps its bytes: the cache must know them
        _keep(cache, site_id, data, st)
        return Result(data, out, seen=seen)

    def _vehicle(self, state: bytes | None, vehicle_id: str, now: int,
                 rec: InputRecord | None) -> Result:
        if vehicle_id not in self.vehicles.catalog.vehicles:
            return Result(dump_vehicle(load_vehicle(state) if state else VehicleState()))
        cache = self._vehicles
        hit = cache.get(vehicle_id)
        vst = hit[1] if hit is not None and hit[0] is state else (
            load_vehicle(state) if state else VehicleState())
        try:
            out = (self.vehicles.on_record(vst, rec, self.now) if rec is not None
                   else self.vehicles.on_tick(vst, vehicle_id, now, self.offline_not_before))
            if rec is None and self.accounting_from is not None:  # 未接入
                out += self.vehicles.never_connected(vst, vehicle_id, self.accounting_from,
                                                     now)
        except BaseException:
            cache.pop(vehicle_id, None)
            raise
        days = [self._day(vehicle_id, d, vst.drill) for d in vst.closed]
        hours = [self._hour(vehicle_id, at, d, vst.drill) for at, d in vst.closed_hours]
        vst.closed, vst.closed_hours = [], []
        data = dump_vehicle(vst)
        if data == state:
            data = state
        _keep(cache, vehicle_id, data, vst)
        return Result(data, out, days, hours=hours)

    def _hour(self, vehicle_id: str, at: int, d: DayFigures, drill: bool) -> VehicleHourRecord:
        v = self.vehicles.catalog.vehicles[vehicle_id]
        return VehicleHourRecord(
            vehicle_id=vehicle_id, company=v.company, vehicle_class=v.vehicle_class, hour=at,
            positions=d.positions, drift=d.drift, gaps=d.gaps, complete_m=d.complete_m,
            incomplete_m=d.incomplete_m, online_s=d.online_ms / 1000, drill=drill)

    def _day(self, vehicle_id: str, d: DayFigures, drill: bool) -> VehicleDayRecord:
        v = self.vehicles.catalog.vehicles[vehicle_id]
        utc_midnight = d.day * DAY_MS
        midnight = utc_midnight - (self.vehicles.clock.local_ms(utc_midnight) - utc_midnight)
        return VehicleDayRecord(
            vehicle_id=vehicle_id, company=v.company, vehicle_class=v.vehicle_class,
            day=day_text(d.day), ts=midnight, positions=d.positions, drift=d.drift, gaps=d.gaps,
            overspeed=d.overspeed, fatigue_s=d.fatigue_ms / 1000, online_s=d.online_ms / 1000,
            drill=drill, complete_m=d.complete_m, incomplete_m=d.incomplete_m)


def _keep(cache: dict[str, tuple[bytes, _S]], key: str, data: bytes | None, st: _S) -> None:
    """Remember the decoded state beside the bytes the table will hold."""
    if data is None:
        return
    if len(cache) >= CACHE_MAX and key not in cache:
        cache.clear()
    cache[key] = (data, st)
