"""One-time signed acknowledgement links: no login needed, valid 24 h, usable once."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hazardwatch.alerting.config import AlertingConfig

VALID_MS = 86_400_000


def _sig(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def make_token(secret: str, warning_id: str, person: str, now: int) -> str:
    """'<base64url(warning|person|expiry)>.<hmac>'."""
    payload = f"{warning_id}|{person}|{now + VALID_MS}"
    b64 = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{b64}.{_sig(secret, payload)}"


def ack_link(cfg: AlertingConfig, warning_id: str, person: str, now: int) -> str:
    """The link printed in a notification."""
    return f"{cfg.public_url}/ack/{make_token(cfg.link_secret, warning_id, person, now)}"


def verify(secret: str, token: str, now: int) -> tuple[str, str] | None:
    """(warning id, person) of a valid, unexpired token; None otherwise."""
    try:
        b64, sig = token.split(".", 1)
        payload = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).decode()
        warning_id, person, expiry = payload.rsplit("|", 2)
    except ValueError:
        return None
    if not hmac.compare_digest(sig, _sig(secret, payload)) or now > int(expiry):
        return None
    return warning_id, person


LIST = "list"  # the "warning id" of a full-list link


def list_link(cfg: AlertingConfig, person: str, now: int) -> str:
    """A signed link to the page of every active warning (the end of a digest)."""
    return f"{cfg.public_url}/list/{make_token(cfg.link_secret, LIST, person, now)}"
