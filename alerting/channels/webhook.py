"""Generic webhook: JSON, signed with HMAC-SHA256 over timestamp and body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import quote

from hazardwatch.alerting.channels.base import Message, post_json
from hazardwatch.alerting.config import Channel


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256 of '<timestamp>.<body>' (what a receiver recomputes)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


SAFE = ":|@.-_~!$&'()*+,;=/"  # left as they are in X-HW-Delivery (ASCII ids unchanged)


def send_webhook(ch: Channel, m: Message) -> None:
    """POST the alerts as JSON with X-HW-Signature, X-HW-Timestamp and X-HW-Delivery."""
    body = json.dumps({"delivery_id": m.delivery_id, "title": m.title, "text": m.text,
                       **m.data}, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    # HTTP headers are Latin-1: a 督办's delivery id (`W…:督办1|…`) is sent percent-encoded
    headers = {"X-HW-Timestamp": ts, "X-HW-Delivery": quote(m.delivery_id, safe=SAFE)}
    if ch.secret:
        headers["X-HW-Signature"] = "sha256=" + signature(ch.secret, ts, body)
    post_json(str(ch.url), body, headers)
