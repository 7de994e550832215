"""Warning records (DESIGN.md §4, version 1): one record per transition of an episode."""

from __future__ import annotations

import hashlib
from typing import Literal

import msgspec

Transition = Literal["raised", "upgraded", "downgraded", "cleared"]

#: 四级预警: 1 红 is the highest.
COLOURS: dict[int, str] = {1: "red", 2: "orange", 3: "yellow", 4: "blue"}
LEVEL_NAMES_ZH: dict[int, str] = {
    1: "一级(红色)", 2: "二级(橙色)", 3: "三级(黄色)", 4: "四级(蓝色)",
}


class EvidenceRecord(msgspec.Struct, frozen=True):
    """A media link from a video event."""

    kind: str
    uri: str


class WarningRecord(msgspec.Struct, frozen=True):
    """One transition of a warning episode, on Kafka `hw.warnings` (key: the subject)."""

    warning_id: str
    transition: Transition
    ts: int
    level: int
    colour: str
    rule: str
    kind: str
    site_id: str | None
    device_id: str | None
    sensor: str | None
    vehicle_id: str | None
    value: float | None
    threshold: float | None
    unit: str | None
    started_at: int
    message: str
    evidence: list[EvidenceRecord] = msgspec.field(default_factory=list)
    drill: bool = False
    plant_unit: str | None = None
    v: int = 1

    @property
    def subject(self) -> str:
        """The Kafka key: what the episode is about."""
        return subject_key(self.site_id, self.device_id, self.sensor, self.vehicle_id,
                           self.plant_unit)


def subject_key(site_id: str | None, device_id: str | None, sensor: str | None,
                vehicle_id: str | None, plant_unit: str | None = None) -> str:
    """A stable text key for a subject: vehicle, sensor, unit of plant, device or site."""
    if vehicle_id:
        return f"vehicle:{vehicle_id}"
    if sensor:
        return f"sensor:{site_id}/{sensor}"
    if plant_unit:
        return f"unit:{site_id}/{plant_unit}"
    if device_id:
        return f"device:{site_id}/{device_id}"
    return f"site:{site_id}"


def warning_id(rule: str, subject: str, started_at: int) -> str:
    """Deterministic episode id: the same input always gives the same id."""
    digest = hashlib.sha1(f"{rule}|{subject}|{started_at}".encode()).hexdigest()
    return f"W{started_at}-{digest[:12]}"


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(WarningRecord)


def encode_warning(w: WarningRecord) -> bytes:
    """JSON bytes of a warning record."""
    return _encoder.encode(w)


def decode_warning(data: bytes) -> WarningRecord:
    """Decode a warning record from `hw.warnings`."""
    record: WarningRecord = _decoder.decode(data)
    return record
