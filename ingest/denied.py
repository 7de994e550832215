"""Publishes the broker refused, counted per device from Mosquitto's log (pure).

With MQTT 3.1.1 a publish that the ACL denies still gets its PUBACK and never reaches the
bridge, so a device configured with a wrong topic is invisible to the pipeline. Mosquitto logs
each refusal (`Denied PUBLISH from <client id> (…, '<topic>', … (N bytes))`, log type debug)
and each connection with its account (`New client connected from … as <client id> (…,
u'<username>')`, log type notice). This counter joins the two: refusals per account (a
device's account is `dev.<site>.<device>` or `veh.<vehicle>`) and topic.
"""

from __future__ import annotations

import re
from collections import Counter

_CONNECTED = re.compile(r"New client connected from \S+ as (?P<client>\S+) \(.*?u'(?P<user>[^']*)'")
_DENIED = re.compile(r"Denied PUBLISH from (?P<client>\S+) \(d\d, q\d, r\d, m\d+, '(?P<topic>.*)',"
                     r" \.\.\. \(\d+ bytes\)\)")


class DeniedPublishes:
    """Counts denied publishes per account and topic from Mosquitto log lines."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}  # client id → username (the latest connection)
        self.denied: Counter[tuple[str, str]] = Counter()  # (account, topic) → refusals

    def feed(self, line: str) -> None:
        """Take one log line (any line; unrelated ones are ignored)."""
        if "Denied PUBLISH" in line:
            m = _DENIED.search(line)
            if m is not None:
                client = m["client"]
                self.denied[(self.users.get(client, f"client:{client}"), m["topic"])] += 1
        elif "New client connected" in line:
            m = _CONNECTED.search(line)
            if m is not None:
                if len(self.users) >= 100_000:
                    self.users.clear()
                self.users[m["client"]] = m["user"]

    def by_account(self) -> Counter[str]:
        """Refusals per account."""
        out: Counter[str] = Counter()
        for (user, _topic), n in self.denied.items():
            out[user] += n
        return out

    def prometheus(self) -> str:
        """Prometheus text: refusals per account and topic."""
        lines = ["# HELP hw_mqtt_denied_publish_total publishes the broker's ACL refused, by "
                 "account and topic (a device knocking on the wrong topic)",
                 "# TYPE hw_mqtt_denied_publish_total counter"]
        lines += [f'hw_mqtt_denied_publish_total{{account="{_esc(u)}",topic="{_esc(t)}"}} {n}'
                  for (u, t), n in sorted(self.denied.items())]
        return "\n".join(lines) + "\n"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
