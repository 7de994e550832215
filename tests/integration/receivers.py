"""Local stand-ins for the notification endpoints that check each one's real request format
and signature: a webhook, DingTalk, WeCom and Feishu robots, an SMS gateway, an SMTP server.
The robots enforce the real services' limits: DingTalk 20 a minute per robot then 130101 for
10 minutes and 460101 above 20,000 bytes; WeCom 20 a minute (45009); Feishu 100 a minute
answered with "9499 too many request" inside an HTTP 200."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from hazardwatch.stack.process import free_port

SECRET = "test-secret"


@dataclass
class Received:
    """One accepted request: channel, delivery id, kind, the decoded body."""

    channel: str
    delivery: str
    kind: str
    text: str
    body: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0


class Receivers:
    """An HTTP server for all robot/webhook/SMS paths and an SMTP server; signatures checked."""

    def __init__(self) -> None:
        self.got: list[Received] = []
        self.errors: list[str] = []
        self.robot_sends: dict[str, list[float]] = {}  # robot → accepted send times
        self.robot_throttled: dict[str, float] = {}  # robot → refused until
        self.refused: list[tuple[str, int]] = []  # (robot, code) of limit refusals
        self.lock = threading.Lock()
        self.port, self.smtp_port = free_port(), free_port()
        handler = type("H", (_Handler,), {"owner": self})
        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.smtp = Controller(_Smtp(self), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()

    @property
    def url(self) -> str:
        """Base URL of the HTTP endpoints."""
        return f"http://127.0.0.1:{self.port}"

    def add(self, r: Received) -> None:
        """Record a request."""
        with self.lock:
            self.got.append(r)

    def channels(self, kind: str) -> set[str]:
        """Channels that received a message of this kind."""
        with self.lock:
            return {r.channel for r in self.got if r.kind == kind}

    def close(self) -> None:
        """Stop both servers."""
        self.http.shutdown()
        self.smtp.stop()


class _Smtp:
    def __init__(self, owner: Receivers) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(msg["Subject"])))
        text = msg.get_payload(decode=True).decode()
        kind = "resolved" if "预警解除" in subject else "repeat" if "再次" in subject else "alert"
        self.owner.add(Received("email", str(msg["X-HW-Delivery"]), kind, subject + text,
                                {"to": envelope.rcpt_tos}, time.time()))
        return "250 OK"


def _kind(text: str) -> str:
    for mark, kind in (("预警解除", "resolved"), ("再次通知", "repeat"), ("提醒", "reminder"),
                       ("预警升级", "upgrade")):
        if mark in text:
            return kind
    return "alert"


class _Handler(BaseHTTPRequestHandler):
    owner: Receivers

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        body = json.loads(raw)
        problem, reply = self._check(url.path, q, raw, body)
        if problem:
            self.owner.errors.append(f"{url.path}: {problem}")
        self.send_response(400 if problem else 200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(reply).encode())

    def _limit(self, robot: str, per_min: int, throttle_s: float, now: float) -> bool:
        """Whether this robot is over its limit now (and starts its throttle if just so)."""
        o = self.owner
        with o.lock:
            if now < o.robot_throttled.get(robot, 0):
                return True
            recent = [t for t in o.robot_sends.get(robot, []) if t > now - 60]
            if len(recent) >= per_min:
                o.robot_throttled[robot] = now + throttle_s
                return True
            o.robot_sends[robot] = [*recent, now]
            return False

    def _check(self, path: str, q: dict[str, str], raw: bytes,
               body: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        now = time.time()
        limits = {"/dingtalk": (20, 600, "errcode", 130101, "send too fast"),
                  "/wecom": (20, 0, "errcode", 45009, "api freq out of limit"),
                  "/feishu": (100, 0, "code", 9499, "too many request")}
        if path == "/dingtalk" and len(raw) > 20_000:
            self.owner.refused.append((path, 460101))
            return None, {"errcode": 460101, "errmsg": "message too long"}
        if path in limits:
            per_min, throttle_s, field, code, msg = limits[path]
            if self._limit(path + q.get("access_token", q.get("key", "")), per_min, throttle_s,
                           now):
                self.owner.refused.append((path, code))
                return None, {field: code, "errmsg" if field == "errcode" else "msg": msg}
        if path.startswith("/webhook"):
            ts = self.headers["X-HW-Timestamp"]
            want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + raw,
                                        hashlib.sha256).hexdigest()
            if self.headers.get("X-HW-Signature") != want:
                return "bad signature", {}
            self.owner.add(Received(path.strip("/"), self.headers["X-HW-Delivery"],
                                    body["kind"], body["text"], body, now))
            return None, {}
        if path == "/dingtalk":
            ts = q.get("timestamp", "")
            digest = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(),
                              hashlib.sha256).digest()
            if q.get("sign") != base64.b64encode(digest).decode() or body.get(
                    "msgtype") != "markdown" or abs(now * 1000 - int(ts)) > 3_600_000:
                return "bad sign or format", {"errcode": 310000, "errmsg": "sign not match"}
            text = body["markdown"]["text"]
            self.owner.add(Received("dingtalk", "", _kind(text), text, body, now))
            return None, {"errcode": 0, "errmsg": "ok"}
        if path == "/wecom":
            if q.get("key") != "k" or body.get("msgtype") != "markdown":
                return "bad key or format", {"errcode": 93000}
            text = body["markdown"]["content"]
            self.owner.add(Received("wecom", "", _kind(text), text, body, now))
            return None, {"errcode": 0}
        if path == "/feishu":
            ts = body.get("timestamp", "0")
            want = base64.b64encode(hmac.new(f"{ts}\n{SECRET}".encode(), b"",
                                             hashlib.sha256).digest()).decode()
            if body.get("sign") != want or body.get("msg_type") != "text":
                return "bad sign or format", {"code": 19021, "msg": "sign match fail"}
            text = body["content"]["text"]
            self.owner.add(Received("feishu", "", _kind(text), text, body, now))
            return None, {"code": 0}
        if path == "/voice":  # a voice-notification gateway (text-to-speech call)
            if self.headers.get("Authorization") != "Bearer voice-token" or not body.get(
                    "CalledNumber") or not body.get("TtsCode") or not body.get("OutId"):
                return "bad auth or body", {"Code": "InvalidParameter"}
            self.owner.add(Received("voice", body["OutId"], "alert",
                                    str(body.get("TtsParam", "")), body, now))
            return None, {"Code": "OK", "CallId": f"call-{len(self.owner.got)}"}
        if path == "/sms":
            if self.headers.get("Authorization") != "Bearer sms-token" or not body.get("to"):
                return "bad auth or body", {}
            self.owner.add(Received("sms", body["id"], _kind(body["text"]), body["text"],
                                    body, now))
            return None, {"ok": True}
        return "unknown path", {}
