"""One log line per change of a connection's state (lost, retrying every N s, back)."""

from __future__ import annotations

import logging
import threading
import time


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
