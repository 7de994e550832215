"""Secrets from the environment or files: `${NAME}` in any string, `<field>_file: path` for any
field; placeholders are refused outside the local stack; redaction for logs and reports."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
PLACEHOLDER_MARKS = ("change-me", "changeme", "local", "example", "placeholder", "test")
MIN_SECRET_LEN = 16
SECRET_KEYS = frozenset({"secret", "link_secret", "smtp_password", "sms_token", "api_tokens",
                         "access_key_secret", "voice_token", "sms_secret", "voice_secret",
                         "voice_callback_token"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def resolve(raw: Any, env: Mapping[str, str], base: Path,
            path: tuple[str | int, ...] = ()) -> tuple[Any, list[tuple[tuple[str | int, ...],
                                                                       str]]]:
    """The document with `${NAME}` and `*_file` resolved, and (path, problem) for each miss."""
    problems: list[tuple[tuple[str | int, ...], str]] = []

    def sub(s: str, at: tuple[str | int, ...]) -> str:
        def one(m: re.Match[str]) -> str:
            if m.group(1) not in env:
                problems.append((at, f"environment variable {m.group(1)} is not set"))
                return ""
            return env[m.group(1)]
        return _ENV.sub(one, s)

    def walk(x: Any, at: tuple[str | int, ...]) -> Any:
        if isinstance(x, str):
            return sub(x, at)
        if isinstance(x, list):
            return [walk(v, (*at, i)) for i, v in enumerate(x)]
        if not isinstance(x, dict):
            return x
        out: dict[Any, Any] = {}
        for k, v in x.items():
            key = sub(k, (*at, k)) if isinstance(k, str) else k
            if isinstance(k, str) and k.endswith("_file") and isinstance(v, str):
                name = k.removesuffix("_file")
                if name in x:
                    problems.append(((*at, k), f"both {name} and {k} are given"))
                file = Path(sub(v, (*at, k)))
                file = file if file.is_absolute() else base / file
                try:
                    out[name] = file.read_text(encoding="utf-8").strip()
                except OSError as exc:
                    problems.append(((*at, k), f"cannot read {file}: {exc.strerror}"))
                continue
            out[key] = walk(v, (*at, k))
        return out

    return walk(raw, path), problems


def is_placeholder(secret: str) -> bool:
    """A value that only a local stack may use: short or marked as an example."""
    low = secret.lower()
    return len(secret) < MIN_SECRET_LEN or any(m in low for m in PLACEHOLDER_MARKS)


def is_loopback_url(url: str) -> bool:
    """Whether the URL points at this machine."""
    return (urllib.parse.urlsplit(url).hostname or "") in LOOPBACK


def redact_url(url: str) -> str:
    """Scheme, host and the first path segment: robot keys (query or path) never reach a log."""
    u = urllib.parse.urlsplit(url)
    first = u.path.strip("/").split("/", 1)[0]
    more = "/…" if u.path.strip("/").count("/") or u.query else ""
    return f"{u.scheme}://{u.netloc}/{first}{more}"


def redact(doc: Any) -> Any:
    """A copy of a config document with every secret and every URL's key replaced."""
    if isinstance(doc, list):
        return [redact(v) for v in doc]
    if not isinstance(doc, dict):
        return doc
    out: dict[Any, Any] = {}
    for k, v in doc.items():
        if k == "api_tokens" and isinstance(v, dict):
            out[k] = {f"<redacted-{i}>": who for i, who in enumerate(v.values())}
        elif k in SECRET_KEYS and v is not None:
            out[k] = "<redacted>"
        elif isinstance(k, str) and k.endswith("url") and isinstance(v, str):
            out[k] = redact_url(v)
        else:
            out[k] = redact(v)
    return out
