"""Rate-limit stage: a token bucket per person-channel (pure: bucket in, bucket out)."""

from __future__ import annotations

Bucket = tuple[float, int]  # (tokens, at ms)


def take(bucket: Bucket | None, per_min: float, now: int) -> tuple[bool, Bucket]:
    """Whether a token is available at `now`, and the bucket after taking it (or not)."""
    tokens, at = bucket if bucket is not None else (float(per_min), now)
    tokens = min(float(per_min), tokens + max(0, now - at) * per_min / 60_000)
    if tokens < 1:
        return False, (tokens, now)
    return True, (tokens - 1, now)
