"""The channel contract: send one message; raise Retryable or Permanent on failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from hazardwatch.alerting.secrets import redact_url


class Retryable(Exception):
    """Worth trying again later (network, timeout, 5xx, rate limited)."""


class Throttled(Retryable):
    """The robot refuses because it was sent too much: hold it for its throttle time."""


class Permanent(Exception):
    """Trying again will not help (bad address, rejected signature, 4xx)."""


@dataclass(frozen=True, slots=True)
class Message:
    """What to send: title, plain text, Markdown, the structured alerts, the delivery id."""

    delivery_id: str
    title: str
    text: str
    markdown: str
    data: dict[str, Any]


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float = 5.0) -> Any:
    """POST JSON bytes; classify failures (naming the URL without its key); return the decoded
    response (or None)."""
    shown = redact_url(url)
    try:
        r = requests.post(url, data=body, headers={"Content-Type": "application/json",
                                                    **headers}, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise Retryable(f"{shown}: {exc.__class__.__name__}") from None
    if r.status_code == 429 or r.status_code >= 500:
        raise Retryable(f"{shown}: HTTP {r.status_code}")
    if r.status_code >= 400:
        raise Permanent(f"{shown}: HTTP {r.status_code} {r.text[:200]}")
    try:
        return r.json()
    except ValueError:
        return None
