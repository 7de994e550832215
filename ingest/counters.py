"""Bridge counters, rendered as Prometheus text and as a log line."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class BridgeCounters:
    """Thread-safe counters of one bridge process."""

    received: int = 0
    forwarded: int = 0
    acked: int = 0
    in_flight: int = 0
    kafka_errors: int = 0
    mqtt_connects: int = 0
    mqtt_disconnects: int = 0
    subscribed: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        """Increase a scalar counter."""
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def reject(self, reason: str) -> None:
        """Count one rejected message by reason code."""
        with self.lock:
            self.rejected[reason] += 1

    def prometheus(self) -> str:
        """Prometheus text exposition format."""
        with self.lock:
            lines = []
            for name, kind, help_ in (
                ("received", "counter", "MQTT messages received"),
                ("forwarded", "counter", "valid records confirmed by Kafka"),
                ("acked", "counter", "MQTT QoS 1 messages acknowledged after Kafka confirmed"),
                ("kafka_errors", "counter", "Kafka delivery or client errors"),
                ("mqtt_connects", "counter", "MQTT (re)connections"),
                ("mqtt_disconnects", "counter", "MQTT disconnections"),
                ("in_flight", "gauge", "records sent to Kafka and not yet confirmed"),
                ("subscribed", "gauge", "1 while the shared subscription is active"),
            ):
                suffix = "_total" if kind == "counter" else ""
                metric = f"hw_bridge_{name}{suffix}"
                lines += [f"# HELP {metric} {help_}", f"# TYPE {metric} {kind}",
                          f"{metric} {getattr(self, name)}"]
            lines += ["# HELP hw_bridge_rejected_total messages sent to hw.rejected, by reason",
                      "# TYPE hw_bridge_rejected_total counter"]
            lines += [f'hw_bridge_rejected_total{{reason="{r}"}} {n}'
                      for r, n in sorted(self.rejected.items())]
            return "\n".join(lines) + "\n"

    def summary(self) -> str:
        """One log line."""
        with self.lock:
            rej = sum(self.rejected.values())
            return (f"received={self.received} forwarded={self.forwarded} rejected={rej} "
                    f"in_flight={self.in_flight} kafka_errors={self.kafka_errors} "
                    f"mqtt_connects={self.mqtt_connects}")
