"""Daily figures of one vehicle (联网联控 KPIs, standards.md §5.1), on Kafka `hw.vehicle-daily`."""

from __future__ import annotations

import msgspec


class VehicleDayRecord(msgspec.Struct, frozen=True):
    """One vehicle's counters for one local day; company figures are sums over its vehicles."""

    vehicle_id: str
    company: str
    vehicle_class: str
    day: str  # local date, e.g. 2026-11-23
    ts: int  # local midnight that opened the day, as UTC epoch ms
    positions: int
    drift: int
    gaps: int
    overspeed: int
    fatigue_s: float
    online_s: float
    drill: bool = False
    v: int = 1
    complete_m: float = 0.0  # mileage of complete stretches (hazardwatch.kpis.vehicles)
    incomplete_m: float = 0.0


class VehicleHourRecord(msgspec.Struct, frozen=True):
    """One vehicle's counters for one hour (`hour`: its start, UTC ms): the day's counters'
    difference over the hour, so any whole-hour period (a shift) sums to the day's."""

    vehicle_id: str
    company: str
    vehicle_class: str
    hour: int
    positions: int
    drift: int
    gaps: int
    complete_m: float
    incomplete_m: float
    online_s: float
    drill: bool = False


_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(VehicleDayRecord)
_hour_dec = msgspec.json.Decoder(VehicleHourRecord)


def encode_day(rec: VehicleDayRecord) -> bytes:
    """JSON bytes."""
    return _enc.encode(rec)


def decode_day(data: bytes) -> VehicleDayRecord:
    """The inverse of encode_day."""
    rec: VehicleDayRecord = _dec.decode(data)
    return rec


def encode_hour(rec: VehicleHourRecord) -> bytes:
    """JSON bytes."""
    return _enc.encode(rec)


def decode_hour(data: bytes) -> VehicleHourRecord:
    """The inverse of encode_hour."""
    rec: VehicleHourRecord = _hour_dec.decode(data)
    return rec
