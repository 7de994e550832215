"""Group robots: DingTalk (signed), WeCom, Feishu (signed), in their own request formats."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from hazardwatch.alerting.channels.base import (
    Message,
    Permanent,
    Retryable,
    Throttled,
    post_json,
)
from hazardwatch.alerting.config import Channel

# error codes inside an HTTP 200 answer: throttled (retry later, elsewhere), retryable, or
# (any other non-zero code) permanent: a bad token, signature, keyword or IP, a stopped robot
DINGTALK_RATE_LIMITED = {130101}  # send too fast: throttled for 10 min
DINGTALK_RETRYABLE = {-1}  # 系统繁忙
WECOM_RATE_LIMITED = {45009}  # api freq out of limit
WECOM_RETRYABLE = {-1}
FEISHU_RATE_LIMITED = {9499, 11232}  # too many request (in a 200!), frequency limited
FEISHU_RETRYABLE: set[int] = set()


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk: urlencode(base64(HMAC-SHA256(key=secret, msg='<ts>\\n<secret>')))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu: base64(HMAC-SHA256(key='<ts>\\n<secret>', msg=''))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def classify(resp: object, code_field: str, throttled: set[int], retryable: set[int]) -> None:
    """Raise for an error code in a robot's (HTTP 200) answer; return when it accepted."""
    code = resp.get(code_field, 0) if isinstance(resp, dict) else 0
    if not isinstance(code, int):
        raise Permanent(f"robot answered an unknown {code_field}: {code!r}")
    if code in throttled:
        raise Throttled(f"robot rate limited ({code})")
    if code in retryable:
        raise Retryable(f"robot busy ({code})")
    if code:
        msg = resp.get("errmsg") or resp.get("msg") if isinstance(resp, dict) else ""
        raise Permanent(f"robot refused ({code}: {str(msg)[:120]})")


def send_dingtalk(ch: Channel, m: Message) -> None:
    """Markdown message; with a secret the URL carries timestamp and sign."""
    url = str(ch.url)
    if ch.secret:
        ts = str(int(time.time() * 1000))
        url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={dingtalk_sign(ch.secret, ts)}"
    body = {"msgtype": "markdown", "markdown": {"title": m.title, "text": m.markdown}}
    classify(post_json(url, json.dumps(body, ensure_ascii=False).encode(), {}), "errcode",
             DINGTALK_RATE_LIMITED, DINGTALK_RETRYABLE)


def send_wecom(ch: Channel, m: Message) -> None:
    """WeCom (企业微信) group robot: markdown, the key is in the URL."""
    body = {"msgtype": "markdown", "markdown": {"content": m.markdown}}
    classify(post_json(str(ch.url), json.dumps(body, ensure_ascii=False).encode(), {}),
             "errcode", WECOM_RATE_LIMITED, WECOM_RETRYABLE)


def send_feishu(ch: Channel, m: Message) -> None:
    """Feishu (飞书) custom robot: text; with a secret the body carries timestamp and sign."""
    body: dict[str, object] = {"msg_type": "text", "content": {"text": m.text}}
    if ch.secret:
        ts = str(int(time.time()))
        body.update(timestamp=ts, sign=feishu_sign(ch.secret, ts))
    classify(post_json(str(ch.url), json.dumps(body, ensure_ascii=False).encode(), {}), "code",
             FEISHU_RATE_LIMITED, FEISHU_RETRYABLE)
