"""Read a running bridge's Prometheus endpoint (for the demo, tests and benchmarks)."""

from __future__ import annotations

import time

import requests


def scrape(port: int) -> dict[str, float]:
    """Every sample of the bridge's /metrics as {name{labels}: value}."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def wait_subscribed(port: int, timeout: float = 30.0) -> None:
    """Block until the bridge reports an active subscription; raise TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if scrape(port).get("hw_bridge_subscribed") == 1:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"bridge on metrics port {port} did not subscribe within {timeout} s")
