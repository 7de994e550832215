"""Bridge counters, rendered as Prometheus text and as a log line.

Fields marked "MQTT thread" have that single writer; delivery-side fields are updated under the
bridge's delivery lock. Readers may see a snapshot a few increments old.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

_SCALARS = (
    ("received", "counter", "MQTT messages received"),
    ("forwarded", "counter", "valid records confirmed by Kafka"),
    ("acked", "counter", "MQTT QoS 1 messages acknowledged after Kafka confirmed"),
    ("kafka_errors", "counter", "Kafka delivery or client errors"),
    ("mqtt_connects", "counter", "MQTT (re)connections"),
    ("mqtt_disconnects", "counter", "MQTT disconnections"),
    ("in_flight", "gauge", "records sent to Kafka and not yet confirmed"),
    ("subscribed", "gauge", "1 while the shared subscription is active"),
)


@dataclass
class BridgeCounters:
    """Counters of one bridge process."""

    received: int = 0  # MQTT thread
    produced: int = 0  # MQTT thread
    mqtt_connects: int = 0  # MQTT thread
    mqtt_disconnects: int = 0  # MQTT thread
    subscribed: int = 0  # MQTT thread
    rejected: Counter[str] = field(default_factory=Counter)  # MQTT thread
    points_refused: Counter[str] = field(default_factory=Counter)  # MQTT thread
    delivered: int = 0  # delivery callbacks, under the bridge's lock
    forwarded: int = 0  # delivery callbacks
    acked: int = 0  # delivery callbacks
    kafka_errors: int = 0  # delivery callbacks

    @property
    def in_flight(self) -> int:
        """Records handed to the producer and not yet confirmed."""
        return self.produced - self.delivered

    def prometheus(self) -> str:
        """Prometheus text exposition format."""
        lines = []
        for name, kind, help_ in _SCALARS:
            metric = f"hw_bridge_{name}" + ("_total" if kind == "counter" else "")
            lines += [f"# HELP {metric} {help_}", f"# TYPE {metric} {kind}",
                      f"{metric} {getattr(self, name)}"]
        lines += ["# HELP hw_bridge_rejected_total messages sent to hw.rejected, by reason",
                  "# TYPE hw_bridge_rejected_total counter"]
        lines += [f'hw_bridge_rejected_total{{reason="{r}"}} {n}'
                  for r, n in sorted(dict(self.rejected).items())]
        lines += ["# HELP hw_bridge_points_refused_total points refused on their own while the "
                  "rest of their message went on, by reason",
                  "# TYPE hw_bridge_points_refused_total counter"]
        lines += [f'hw_bridge_points_refused_total{{reason="{r}"}} {n}'
                  for r, n in sorted(dict(self.points_refused).items())]
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        """One log line."""
        return (f"received={self.received} forwarded={self.forwarded} "
                f"rejected={sum(dict(self.rejected).values())} "
                f"points_refused={sum(dict(self.points_refused).values())} "
                f"in_flight={self.in_flight} "
                f"kafka_errors={self.kafka_errors} mqtt_connects={self.mqtt_connects}")
