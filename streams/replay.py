"""Deterministic offline replay: MQTT messages in, warning records out, timers by event time."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import msgspec

from hazardwatch.contracts.payloads import PositionPayload
from hazardwatch.contracts.reasons import Reason
from hazardwatch.contracts.records import InputRecord, PositionRecord, TelemetryRecord
from hazardwatch.contracts.timestamps import to_epoch_ms, unit_hint
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.ingest.decode import Accepted, MessageDecoder, Rejected
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.rules.state import SiteState
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.vehicles.state import VehicleState

TICK_MS = 1000


@dataclass
class ReplaySummary:
    """Counts of one replay."""

    lines: int = 0
    accepted: int = 0
    readings: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    points_refused: Counter[str] = field(default_factory=Counter)  # partial acceptance
    transitions: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # "line N: reason: detail"
    devices: int = 0  # catalogued site devices and vehicles (接入率: connected / devices)
    connected: int = 0  # … that sent anything
    never_connected: list[str] = field(default_factory=list)  # site/device, vehicle/id: 未接入

    @property
    def rejected_share(self) -> float:
        """Rejected lines / lines (0 when there were none)."""
        return sum(self.rejected.values()) / self.lines if self.lines else 0.0


class _Line(msgspec.Struct, gc=False):
    topic: str
    payload: msgspec.Raw
    received_at: int | None = None


class _PositionLine(msgspec.Struct, gc=False):
    """A line read in one pass, its payload validated as a position (most replayed lines)."""

    topic: str
    payload: PositionPayload
    received_at: int | None = None


_line_decoder = msgspec.json.Decoder(_Line)
_position_line_decoder = msgspec.json.Decoder(_PositionLine)
_str_decoder = msgspec.json.Decoder(str)


def parse_line(line: str) -> tuple[str, bytes, int | None]:
    """(topic, payload bytes, received_at or None) of one input line; ValueError when bad.

    The payload's bytes are taken as they stand in the line (an object), or the string's text.
    """
    try:
        obj = _line_decoder.decode(line)
    except msgspec.DecodeError as exc:
        raise ValueError(f'a line must be {{"topic": "...", "payload": {{...}} or "..."}}: {exc}'
                         ) from None
    raw = bytes(obj.payload)
    if raw[:1] == b'"':
        raw = _str_decoder.decode(raw).encode()
    return obj.topic, raw, obj.received_at


def _peek_ts(raw: bytes) -> int | None:
    """The payload's event time, when it is a plausible one (not seconds, µs, …)."""
    try:
        ts = json.loads(raw).get("ts")
        if isinstance(ts, bool) or not isinstance(ts, int | str):
            return None
        ms = to_epoch_ms(ts)
    except (ValueError, AttributeError):
        return None
    return ms if isinstance(ts, str) or unit_hint(ms) is None else None


class Replayer:
    """Runs lines through the same validation and engine as the live pipeline."""

    def __init__(self, decoder: MessageDecoder, engine: Engine,
                 vehicles: VehicleEngine | None = None) -> None:
        self.decoder = decoder
        self.engine, self.vehicle_engine = engine, vehicles
        self.sites: dict[str, SiteState] = {}
        self.vehicles: dict[str, VehicleState] = {}
        self._vehicle_order: list[tuple[str, VehicleState]] | None = None  # sorted, for ticks
        self._site_order: list[tuple[str, SiteState]] | None = None
        self.clock: int | None = None  # replay time: the latest event time seen
        self.last_tick: int | None = None
        self.started: int | None = None  # the first event time: 未接入 counts from it
        self.drill = True  # every accepted record so far is drill traffic
        self._vehicles_accounted = False
        self.summary = ReplaySummary()
        # a line this long may hold a payload over the size limit (UTF-8: ≤ 4 bytes a char)
        self._one_pass_max = decoder.limits.max_payload_bytes // 4

    def run(self, lines: Iterable[str], until: int | None = None) -> Iterator[WarningRecord]:
        """Yield warning records in order; flush timers up to `until` (default: last time)."""
        summary = self.summary
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            summary.lines += 1
            rec: InputRecord | None = self._position(line) or self._general(n, line)
            if rec is None:
                continue  # rejected, with its reason
            summary.accepted += 1
            if self.drill and not rec.drill:
                self.drill = False
            if self.clock is None or rec.ts > self.clock:
                self.clock = rec.ts
            if self.last_tick is None or self.clock - self.last_tick >= TICK_MS:
                yield from self._ticks(self.clock)
            out = self._record(rec)
            if out:
                yield from out
        end = until if until is not None else self.clock
        if end is not None:
            yield from self._ticks(end)
        self._account()

    def _account(self) -> None:
        """接入率: which catalogued site devices sent anything."""
        s = self.summary
        s.devices, s.connected, s.never_connected = 0, 0, []
        for site_id, site in sorted(self.engine.catalog.sites.items()):
            st = self.sites.get(site_id)
            for device in site.devices:
                dev = st.devices.get(device.id) if st is not None else None
                s.devices += 1
                if dev is not None and dev.spoke:
                    s.connected += 1
                else:
                    s.never_connected.append(f"{site_id}/{device.id}")
        if self.vehicle_engine is not None:
            for vid in sorted(self.vehicle_engine.catalog.vehicles):
                vst = self.vehicles.get(vid)
                s.devices += 1
                if vst is not None and (vst.last_ts or vst.status_offline_at is not None
                                        or vst.video):
                    s.connected += 1
                else:
                    s.never_connected.append(f"vehicle/{vid}")

    def _by_input(self, topic: str, raw: bytes) -> Accepted | Rejected:
        """Decode a line without `received_at`: the input's own time is the clock. The latest
        event time stands for the receive time; a line beyond it (after a gap in the input)
        moves the clock forward instead of being taken for a fast device clock."""
        decode, clock = self.decoder.decode, self.clock
        if clock is None:  # the first line: its own time
            return decode(topic, raw, _peek_ts(raw) or 0)
        result = decode(topic, raw, clock)
        if isinstance(result, Accepted):
            fast = result.record.clock_fast_ms
            return result if fast is None else decode(topic, raw, clock + fast)
        if result.reason is Reason.TS_IN_FUTURE:  # a gap longer than a fast clock can be
            ts = _peek_ts(raw)
            if ts is not None and ts > clock:
                return decode(topic, raw, ts)
        return result

    def _general(self, n: int, line: str) -> InputRecord | None:
        """Line n's record as the bridge makes it; None: rejected (counted, with its reason)."""
        try:
            topic, raw, received = parse_line(line)
        except ValueError as exc:
            self._reject(n, "bad_line", str(exc))
            return None
        result = (self._by_input(topic, raw) if received is None
                  else self.decoder.decode(topic, raw, received))
        if isinstance(result, Rejected):
            self._reject(n, result.reason.value, result.detail)
            return None
        summary = self.summary
        for pr in result.refused:
            summary.points_refused[pr.reason.value] += 1
            summary.errors.append(f"line {n}: point {pr.index}: {pr.reason.value}: "
                                  f"{pr.detail}")
        return result.record

    def _position(self, line: str) -> PositionRecord | None:
        """A valid position line's record in one pass (no payload copy, one decode), exactly
        as the general path would make it; None: the general path decides, with its reason."""
        if len(line) > self._one_pass_max or '/position"' not in line:
            return None  # (too long: the general path checks the payload's size; or no position)
        try:
            obj = _position_line_decoder.decode(line)
        except msgspec.DecodeError:
            return None
        received = obj.received_at if obj.received_at is not None else self.clock
        if received is None:  # (the first line: the general path peeks at its time)
            return None
        return self.decoder.position(obj.topic, obj.payload, received)

    def _reject(self, n: int, reason: str, detail: str) -> None:
        self.summary.rejected[reason] += 1
        self.summary.errors.append(f"line {n}: {reason}: {detail}")

    def _record(self, rec: InputRecord) -> list[WarningRecord]:
        """The warnings of one record (its timers are due first: see run)."""
        vehicle_id = getattr(rec, "vehicle_id", None)
        if vehicle_id is not None and self.vehicle_engine is not None:
            vst = self.vehicles.get(vehicle_id)
            if vst is None:
                vst = self.vehicles[vehicle_id] = VehicleState()
                self._vehicle_order = None
            self.summary.readings += 1
            out = self.vehicle_engine.on_record(vst, rec, self.last_tick)
        elif (site_id := getattr(rec, "site_id", None)) is not None:
            st = self.sites.get(site_id)
            if st is None:
                st = self.sites[site_id] = SiteState()
                self._site_order = None
            if isinstance(rec, TelemetryRecord):
                self.summary.readings += len(rec.points)
            out = self.engine.on_record(st, rec, self.last_tick)
        else:
            return []
        if out:
            self._count(out)
        return out

    def _ticks(self, now: int) -> list[WarningRecord]:
        if self.started is None:  # every catalogued site is accounted for from the start
            self.started = now
            for site_id in self.engine.catalog.sites:
                self.sites.setdefault(site_id, SiteState())
            self._site_order = None
        self.last_tick = now
        started = self.started
        if self._site_order is None:
            self._site_order = sorted(self.sites.items())
        on_site_tick = self.engine.on_tick
        out = [w for site_id, st in self._site_order if st.wake_at <= now  # (due only)
               for w in on_site_tick(st, site_id, now, 0, started, self.drill)]
        if self.vehicle_engine is not None:
            if not self._vehicles_accounted:
                out += self._silent_vehicles(started, now)
            if self._vehicle_order is None:
                self._vehicle_order = sorted(self.vehicles.items())
            on_tick = self.vehicle_engine.on_tick
            out += [w for vid, vst in self._vehicle_order if vst.wake_at <= now  # (due only)
                    for w in on_tick(vst, vid, now)]
        self._count(out)
        return out

    def _silent_vehicles(self, started: int, now: int) -> list[WarningRecord]:
        """未接入 of the catalogued vehicles that have sent nothing (once, when due)."""
        ve = self.vehicle_engine
        assert ve is not None
        if now < started + int(ve.rules.offline.never_connected_s * 1000):
            return []
        self._vehicles_accounted = True
        out = []
        for vid in sorted(ve.catalog.vehicles):
            if vid not in self.vehicles:
                vst = self.vehicles[vid] = VehicleState()
                self._vehicle_order = None
                out += ve.never_connected(vst, vid, started, now, self.drill)
        return out

    def _count(self, out: list[WarningRecord]) -> None:
        for w in out:
            self.summary.transitions[w.transition] += 1


def summary_lines(s: ReplaySummary) -> list[str]:
    """Human summary for stderr."""
    rej = ", ".join(f"{k} {v}" for k, v in sorted(s.rejected.items())) or "none"
    tr = ", ".join(f"{k} {v}" for k, v in sorted(s.transitions.items())) or "none"
    out = [f"replay: {s.lines} lines, {s.accepted} accepted ({s.readings} readings/positions), "
           f"{sum(s.rejected.values())} rejected ({rej}); warnings: {tr}"]
    if s.devices:
        out.append(f"replay: 接入率 {s.connected}/{s.devices} devices sent data; 未接入: "
                   f"{', '.join(s.never_connected) or 'none'}")
    if s.points_refused:
        pts = ", ".join(f"{k} {v}" for k, v in sorted(s.points_refused.items()))
        out.append(f"replay: {sum(s.points_refused.values())} points refused in accepted "
                   f"messages ({pts})")
    return out


def encode_jsonl(w: WarningRecord) -> str:
    """One JSON line, keys in schema order, Chinese kept readable."""
    return msgspec.json.encode(w).decode()
