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


_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(VehicleDayRecord)


def encode_day(rec: VehicleDayRecord) -> bytes:
    """JSON bytes."""
    return _enc.encode(rec)


def decode_day(data: bytes) -> VehicleDayRecord:
    """The inverse of encode_day."""
    rec: VehicleDayRecord = _dec.decode(data)
    return rec
