"""Event time: integer epoch milliseconds or an RFC 3339 string with an offset."""

from __future__ import annotations

from datetime import datetime

from hazardwatch.contracts.reasons import Reason, RejectedInput

MIN_TS_MS = 946_684_800_000  # 2000-01-01T00:00:00Z: anything earlier is a reset clock


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
