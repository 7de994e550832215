"""MQTT topics of contract version 1 and the Kafka topics of the pipeline."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import StrEnum

from hazardwatch.contracts.reasons import Reason, RejectedInput

MQTT_ROOT = "hw/v1"
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_ID = re.compile(ID_PATTERN)


class Kind(StrEnum):
    """What an MQTT message carries."""

    TELEMETRY = "telemetry"
    STATUS = "status"
    VIDEO_EVENT = "video-event"
    POSITION = "position"


class KafkaTopic(StrEnum):
    """Kafka topics written by the bridge and the pipeline."""

    TELEMETRY = "hw.telemetry"
    POSITIONS = "hw.vehicle.positions"
    VIDEO_EVENTS = "hw.video-events"
    DEVICE_STATUS = "hw.device-status"
    REJECTED = "hw.rejected"
    WARNINGS = "hw.warnings"
    ALERT_ACTIONS = "hw.alert-actions"
    VEHICLE_DAILY = "hw.vehicle-daily"
    SEEN_HOURLY = "hw.seen-hourly"
    VEHICLE_HOURLY = "hw.vehicle-hourly"


KAFKA_TOPIC_BY_KIND = {
    Kind.TELEMETRY: KafkaTopic.TELEMETRY,
    Kind.POSITION: KafkaTopic.POSITIONS,
    Kind.VIDEO_EVENT: KafkaTopic.VIDEO_EVENTS,
    Kind.STATUS: KafkaTopic.DEVICE_STATUS,
}

_SITE_KINDS = {"telemetry": Kind.TELEMETRY, "status": Kind.STATUS, "video-event": Kind.VIDEO_EVENT}
_VEHICLE_KINDS = {"position": Kind.POSITION, "status": Kind.STATUS,
                  "video-event": Kind.VIDEO_EVENT}


@dataclass(frozen=True, slots=True)
class Subject:
    """Who published: a fixed device at a site, or a vehicle."""

    kind: Kind
    site_id: str | None = None
    device_id: str | None = None
    vehicle_id: str | None = None

    @property
    def key(self) -> str:
        """Kafka key: the site for fixed devices, the vehicle for vehicles."""
        return self.site_id if self.site_id is not None else str(self.vehicle_id)

    @property
    def reply_topic(self) -> str:
        """Where the bridge tells the publisher that its message was rejected."""
        if self.vehicle_id is not None:
            return f"{MQTT_ROOT}/vehicles/{self.vehicle_id}/rejected"
        return f"{MQTT_ROOT}/sites/{self.site_id}/devices/{self.device_id}/rejected"


def _check_id(what: str, value: str) -> str:
    if not _ID.fullmatch(value):
        raise RejectedInput(Reason.BAD_TOPIC, f"{what} {value!r} does not match {ID_PATTERN}")
    return sys.intern(value)  # one object per id: lookups by it compare identity


def parse_topic(topic: str) -> Subject:
    """Parse a v1 MQTT topic; raise RejectedInput(BAD_TOPIC | UNSUPPORTED_VERSION)."""
    parts = topic.split("/")
    if len(parts) < 2 or parts[0] != "hw":
        raise RejectedInput(Reason.BAD_TOPIC, f"topic {topic!r} is not under hw/v1/")
    if parts[1] != "v1":
        raise RejectedInput(Reason.UNSUPPORTED_VERSION,
                            f"topic version {parts[1]!r} is not supported (only v1)")
    rest = parts[2:]
    if len(rest) == 5 and rest[0] == "sites" and rest[2] == "devices" and rest[4] in _SITE_KINDS:
        return Subject(_SITE_KINDS[rest[4]], site_id=_check_id("site id", rest[1]),
                       device_id=_check_id("device id", rest[3]))
    if len(rest) == 3 and rest[0] == "vehicles" and rest[2] in _VEHICLE_KINDS:
        return Subject(_VEHICLE_KINDS[rest[2]], vehicle_id=_check_id("vehicle id", rest[1]))
    raise RejectedInput(
        Reason.BAD_TOPIC,
        f"topic {topic!r} is none of hw/v1/sites/{{site}}/devices/{{device}}/"
        "telemetry|status|video-event or hw/v1/vehicles/{vehicle}/position|status|video-event",
    )
