"""Console sessions as signed cookies (any instance sharing the link secret accepts them) and
their CSRF tokens. Pure apart from the clock passed in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SESSION_TTL_S = 12 * 3600  # one shift


def _key(secret: str) -> bytes:
    return hashlib.sha256(f"hw-console-session|{secret}".encode()).digest()


def _mac(secret: str, text: str) -> str:
    d = hmac.new(_key(secret), text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(d[:24]).decode()


def issue(secret: str, name: str, now_ms: int, ttl_s: int = SESSION_TTL_S) -> str:
    """A cookie value naming the user, issued now (ms), valid until now + ttl."""
    who = base64.urlsafe_b64encode(name.encode()).decode()
    text = f"{who}.{now_ms}.{now_ms // 1000 + ttl_s}.{secrets.token_urlsafe(12)}"
    return f"{text}.{_mac(secret, text)}"


def verify(secret: str, cookie: str, now_s: int) -> tuple[str, int] | None:
    """(user name, issued at in ms) when the cookie is genuine and not expired."""
    try:
        who, iat, exp, nonce, mac = cookie.split(".")
        text = f"{who}.{iat}.{exp}.{nonce}"
        if not hmac.compare_digest(mac, _mac(secret, text)) or int(exp) <= now_s:
            return None
        return base64.urlsafe_b64decode(who.encode()).decode(), int(iat)
    except (ValueError, UnicodeDecodeError):
        return None


def csrf(secret: str, cookie: str) -> str:
    """The CSRF token bound to this session (sent back in the X-CSRF-Token header)."""
    return _mac(secret, f"csrf|{cookie}")
