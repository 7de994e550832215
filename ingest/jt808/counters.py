"""Counters of the JT/T 808 gateway: what it received, refused, produced and acknowledged."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger("hazardwatch.jt808")


@dataclass
class GatewayCounters:
    """Monotonic counts, plus `events` by reason; each reason's first case is logged once."""

    connections: int = 0
    open_connections: int = 0
    frames: int = 0
    positions: int = 0
    video_events: int = 0
    statuses: int = 0
    invalid_fixes: int = 0
    acked: int = 0
    duplicates: int = 0
    events: Counter[str] = field(default_factory=Counter)

    def event(self, reason: str, detail: str = "") -> None:
        """Count one case; log only the first of each reason (the summary has the rest)."""
        self.events[reason] += 1
        if self.events[reason] == 1:
            log.warning("jt808 %s (first case; later ones are counted): %s", reason, detail)

    def summary(self) -> str:
        """One log line."""
        ev = " ".join(f"{k}={v}" for k, v in sorted(self.events.items()))
        return (f"connections={self.connections} open={self.open_connections} "
                f"frames={self.frames} positions={self.positions} "
                f"video_events={self.video_events} statuses={self.statuses} "
                f"invalid_fixes={self.invalid_fixes} acked={self.acked} "
                f"duplicates={self.duplicates} {ev}").strip()

    def prometheus(self) -> str:
        """Prometheus text format."""
        lines = []
        for name in ("connections", "open_connections", "frames", "positions", "video_events",
                     "statuses", "invalid_fixes", "acked", "duplicates"):
            lines.append(f"hw_jt808_{name} {getattr(self, name)}")
        for reason, n in sorted(self.events.items()):
            lines.append(f'hw_jt808_events_total{{reason="{reason}"}} {n}')
        return "\n".join(lines) + "\n"
