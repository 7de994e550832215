"""Request limits: bounded bodies and failed-login throttling. Pure apart from the clock."""

from __future__ import annotations

from collections import deque

from starlette.requests import Request

MAX_BODY = 64 * 1024  # every JSON body the API takes is far smaller


class TooLarge(Exception):
    """The body exceeds the limit."""


class BadLength(Exception):
    """Content-Length is not a number."""


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, refused as soon as it is known to be too large (never buffered beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadLength(declared)
        if int(declared) > limit:
            raise TooLarge
    out = bytearray()
    async for chunk in request.stream():
        out += chunk
        if len(out) > limit:
            raise TooLarge
    return bytes(out)


class FailedLogins:
    """At most `max_fails` failed logins per key (address, and name) in `window_s`."""

    def __init__(self, max_fails: int = 5, window_s: float = 300.0, max_keys: int = 100_000):
        self.max_fails, self.window_s, self.max_keys = max_fails, window_s, max_keys
        self.fails: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self.fails.get(key)
        if q is None:
            if len(self.fails) >= self.max_keys:  # bounded memory: forget the oldest key
                self.fails.pop(next(iter(self.fails)))
            q = self.fails[key] = deque()
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def blocked_for(self, keys: list[str], now: float) -> float:
        """Seconds until a login may be tried again with these keys (0: now)."""
        wait = 0.0
        for k in keys:
            q = self._recent(k, now)
            if len(q) >= self.max_fails:
                wait = max(wait, q[0] + self.window_s - now)
        return wait

    def failed(self, keys: list[str], now: float) -> None:
        """Count one failure under each key."""
        for k in keys:
            self._recent(k, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        """A good login clears the name's count."""
        for k in keys:
            self.fails.pop(k, None)
