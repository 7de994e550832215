"""Event time: integer epoch milliseconds or an RFC 3339 string with an offset."""

from __future__ import annotations

from datetime import datetime

from hazardwatch.contracts.reasons import Reason, RejectedInput

MIN_TS_MS = 946_684_800_000  # 2000-01-01T00:00:00Z: anything earlier is a reset clock
_MAX_TS_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z


def unit_hint(ts: int) -> str | None:
    """What a wrong-unit integer time looks like ('epoch seconds', …), or None if plausible ms."""
    for scale, name in ((1000, "seconds"), (1 / 1000, "microseconds"),
                        (1 / 1_000_000, "nanoseconds")):
        if MIN_TS_MS <= ts * scale <= _MAX_TS_MS:
            return f"epoch {name}"
    return None


def to_epoch_ms(value: int | str, path: str = "$.ts") -> int:
    """Normalise a contract timestamp to epoch ms; raise RejectedInput(BAD_TIMESTAMP)."""
    if isinstance(value, int):
        return value
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise RejectedInput(Reason.BAD_TIMESTAMP,
                            f"{value!r} is not an RFC 3339 time - at `{path}`") from None
    if dt.tzinfo is None:
        raise RejectedInput(Reason.BAD_TIMESTAMP,
                            f"{value!r} has no UTC offset (write Z or +08:00) - at `{path}`")
    return int(dt.timestamp() * 1000)
