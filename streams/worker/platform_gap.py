"""A platform gap is not a device gap: offline timers are held while the pipeline was blind.

When Kafka, the bridge or the worker itself was away, or the worker is catching up, no device
could be seen, whatever the devices did. A live tick tells it: it is read more than `stale_ms`
after it was made (the pipeline is behind), or more than `stale_ms` after the previous one (no
tick could be made or read). Each such tick holds offline warnings until `hold_ms` after it, as
after a worker start: offline timers restart from the moment data flows again, and a device
still silent once the hold has passed is reported then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("hazardwatch.worker.gap")


class PlatformGap:
    """Decides from live ticks until when offline warnings are held."""

    def __init__(self, hold_ms: int, stale_ms: int = 5_000,
                 clock: Callable[[], float] = time.time) -> None:
        self.hold_ms, self.stale_ms, self.clock = hold_ms, stale_ms, clock
        self.held_until = 0

    def tick(self, now: int, previous: int | None) -> int:
        """The time before which no offline warning may be raised, after a tick at `now`."""
        wall = int(self.clock() * 1000)
        late = wall - now
        missing = 0 if previous is None else now - previous
        if late > self.stale_ms or missing > self.stale_ms:
            if self.held_until <= wall:
                log.warning("platform gap: ticks %.1f s late, %.1f s missing; offline warnings "
                            "held until %.0f s after data flows again", late / 1000,
                            missing / 1000, self.hold_ms / 1000)
            self.held_until = wall + self.hold_ms
        return self.held_until
