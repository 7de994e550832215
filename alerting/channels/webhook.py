"""Generic webhook: JSON, signed with HMAC-SHA256 over timestamp and body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from hazardwatch.alerting.channels.base import Message, post_json
from hazardwatch.alerting.config import Channel


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256 of '<timestamp>.<body>' (what a receiver recomputes)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def send_webhook(ch: Channel, m: Message) -> None:
    """POST the alerts as JSON with X-HW-Signature, X-HW-Timestamp and X-HW-Delivery."""
    body = json.dumps({"delivery_id": m.delivery_id, "title": m.title, "text": m.text,
                       **m.data}, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    headers = {"X-HW-Timestamp": ts, "X-HW-Delivery": m.delivery_id}
    if ch.secret:
        headers["X-HW-Signature"] = "sha256=" + signature(ch.secret, ts, body)
    post_json(str(ch.url), body, headers)
