"""Denied publishes per account from Mosquitto's log lines (ingest/denied.py)."""

from __future__ import annotations

from hazardwatch.ingest.denied import DeniedPublishes

T = "2026-12-01T04:42:19: "
GDS = "hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry"
OWN = "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry"
USER = "dev.tf-hohhot-01.dcs-gw-01"
LOG = [
    T + "New connection from 127.0.0.1:60003 on port 12383.",
    T + f"New client connected from 127.0.0.1:60003 as gw-1 (p2, c1, k30, u'{USER}').",
    T + f"Denied PUBLISH from gw-1 (d0, q1, r0, m1, '{GDS}', ... (42 bytes))",
    T + f"Denied PUBLISH from gw-1 (d0, q1, r0, m2, '{GDS}', ... (42 bytes))",
    T + f"Received PUBLISH from gw-1 (d0, q1, r0, m3, '{OWN}', ... (42 bytes))",
    T + "Denied PUBLISH from ghost (d0, q0, r0, m0, 'a \"b\"', ... (1 bytes))",
]


def test_denials_are_counted_per_account_and_topic() -> None:
    c = DeniedPublishes()
    for line in LOG:
        c.feed(line)
    assert dict(c.denied) == {(USER, GDS): 2, ("client:ghost", 'a "b"'): 1}
    assert c.by_account()[USER] == 2
    text = c.prometheus()
    assert f'{{account="{USER}",topic="{GDS}"}} 2' in text
    assert 'topic="a \\"b\\""} 1' in text
