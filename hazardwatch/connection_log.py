"""One log line per change of a connection's state (lost, retrying every N s, back)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

_DIGITS = re.compile(r"[0-9]+")


class ConnectionLog:
    """Tracks one connection (e.g. "Kafka") and logs only when it goes down or comes back."""

    def __init__(self, name: str, log: logging.Logger, retry_s: float) -> None:
        self.name, self.log, self.retry_s = name, log, retry_s
        self.down_since: float | None = None
        self.failures = 0
        self._lock = threading.Lock()

    def lost(self, reason: object) -> None:
        """A failed attempt: logged if the connection was up, counted otherwise."""
        with self._lock:
            self.failures += 1
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        self.log.warning("%s lost: %s; retrying every ≤%.0f s (one line when back)", self.name,
                         reason, self.retry_s)

    def back(self) -> None:
        """A successful exchange: logged once after a loss."""
        if self.down_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self.down_since is None:
                return
            down, failures = time.monotonic() - self.down_since, self.failures
            self.down_since, self.failures = None, 0
        self.log.info("%s back after %.1f s (%d failed attempts)", self.name, down, failures)


class Throttle(logging.Filter):
    """Lets one record per kind (level, text without numbers) through every `every_s` seconds.

    For client libraries that log every reconnection attempt (aiokafka logs thousands of
    `Unable connect to node` a second while Kafka is away); the next record of a kind that
    passes says how many were held back.
    """

    def __init__(self, names: tuple[str, ...], every_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.names, self.every_s, self.clock = names, every_s, clock
        self.last: dict[tuple[int, str], float] = {}
        self.held: dict[tuple[int, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """True when the record is to be logged."""
        if record.levelno < logging.WARNING or not record.name.startswith(self.names):
            return True
        text = record.getMessage()
        kind = (record.levelno, _DIGITS.sub("", text)[:80])
        now = self.clock()
        if now - self.last.get(kind, -self.every_s) < self.every_s:
            self.held[kind] = self.held.get(kind, 0) + 1
            return False
        self.last[kind] = now
        held = self.held.pop(kind, 0)
        if held:
            record.msg, record.args = f"{text} ({held} like it held back)", None
        return True

    def attach(self) -> None:
        """Filter every handler of the root logger (where the libraries' records end up)."""
        for handler in logging.getLogger().handlers:
            if self not in handler.filters:
                handler.addFilter(self)
