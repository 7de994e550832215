"""Reason codes for rejected input (dead-letter topic `hw.rejected`)."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a message was rejected; the value is the stable code written to `hw.rejected`."""

    PAYLOAD_TOO_LARGE = "payload_too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    BAD_TOPIC = "bad_topic"
    UNSUPPORTED_VERSION = "unsupported_version"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    NON_FINITE = "non_finite"
    BAD_ENUM = "bad_enum"
    BAD_TIMESTAMP = "bad_timestamp"
    TS_IN_FUTURE = "ts_in_future"
    TS_TOO_OLD = "ts_too_old"
    TS_UNIT = "ts_unit"  # a time that looks like epoch seconds or microseconds, not ms
    MISSING_VALUE = "missing_value"  # a point's value is null without q "bad"
    EMPTY_POINTS = "empty_points"
    TOO_MANY_POINTS = "too_many_points"
    DUPLICATE_POINT = "duplicate_point"
    UNKNOWN_SITE = "unknown_site"
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_SENSOR = "unknown_sensor"
    UNKNOWN_VEHICLE = "unknown_vehicle"
    SENSOR_NOT_ON_DEVICE = "sensor_not_on_device"
    FAMILY_MISMATCH = "family_mismatch"
    NOT_A_CAMERA = "not_a_camera"
    BAD_MEDIA = "bad_media"


class RejectedInput(ValueError):
    """Raised by decoders: a reason code and a precise detail (field path and what is wrong)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
