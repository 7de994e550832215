"""The HTTP API: active warnings, acknowledge, resolve with 处置 feedback, silences, figures,
and one-time acknowledgement links. Token authentication; every action is recorded."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec

from hazardwatch.alerting.links import verify
from hazardwatch.alerting.service import AlertingService
from hazardwatch.alerting.state import Silence


def _now() -> int:
    return int(time.time() * 1000)


def serve(service: AlertingService, host: str, port: int) -> ThreadingHTTPServer:
    """Start the API in a thread; returns the server (call shutdown() to stop)."""
    handler = type("Handler", (_Handler,), {"service": service})
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Handler(BaseHTTPRequestHandler):
    service: AlertingService

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, code: int, data: Any, content_type: str = "application/json") -> None:
        raw = (data if isinstance(data, bytes)
               else json.dumps(data, ensure_ascii=False).encode())
        self.send_response(code)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _who(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return self.service.cfg.api_tokens.get(auth.removeprefix("Bearer ").strip())

    def _body(self) -> dict[str, Any]:
        n = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(n) or b"{}") if n else {}
        return data if isinstance(data, dict) else {}

    def do_GET(self) -> None:
        """GET /ack/<token>, /api/warnings, /api/stats."""
        svc = self.service
        if self.path.startswith("/ack/"):
            self._link(self.path.removeprefix("/ack/"))
            return
        if self._who() is None:
            self._reply(401, {"error": "missing or unknown API token"})
            return
        if self.path == "/api/warnings":
            with svc.store.lock:
                rows = [{**msgspec.to_builtins(a), "active": a.active}
                        for a in svc.alerts.values() if a.active]
            self._reply(200, sorted(rows, key=lambda r: (r["level"], -r["opened_at"])))
        elif self.path == "/api/stats":
            self._reply(200, svc.stats())
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        """POST /api/warnings/<id>/ack|resolve, /api/silences."""
        who = self._who()
        if who is None:
            self._reply(401, {"error": "missing or unknown API token"})
            return
        try:
            body = self._body()
        except ValueError:
            self._reply(400, {"error": "body must be JSON"})
            return
        parts = self.path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["api", "warnings"] and parts[3] in ("ack",
                                                                                 "resolve"):
            if parts[3] == "resolve" and not (body.get("cause") and body.get("action")):
                self._reply(400, {"error": "处置反馈需要 cause（原因）和 action（采取的措施）"})
                return
            a = self.service.act(parts[3], parts[2], who, _now(), str(body.get("cause", "")),
                                 str(body.get("action", "")))
            if a is None:
                self._reply(404, {"error": f"no active warning {parts[2]}"})
            else:
                self._reply(200, msgspec.to_builtins(a))
        elif parts == ["api", "silences"]:
            now = _now()
            minutes = float(body.get("minutes", 60))
            s = Silence(id=str(uuid.uuid4()), starts=int(body.get("starts", now)),
                        ends=int(body.get("ends", now + minutes * 60_000)), by=who,
                        reason=str(body.get("reason", "")), site=body.get("site"),
                        vehicle=body.get("vehicle"), rule_prefix=body.get("rule_prefix"))
            if not (s.site or s.vehicle or s.rule_prefix) or s.ends <= s.starts:
                self._reply(400, {"error": "a silence needs site, vehicle or rule_prefix and "
                                           "an end after its start"})
                return
            self.service.silence(s)
            self._reply(201, msgspec.to_builtins(s))
        else:
            self._reply(404, {"error": "not found"})

    def _link(self, token: str) -> None:
        svc, now = self.service, _now()
        found = verify(svc.cfg.link_secret, token, now)
        if found is None:
            self._reply(403, "<h1>链接无效或已过期</h1>".encode(), "text/html")
            return
        with svc.store.tx():
            fresh = svc.store.use_link(token, now)
        if not fresh:
            self._reply(409, "<h1>该确认链接已使用过</h1>".encode(), "text/html")
            return
        a = svc.act("ack", found[0], found[1], now)
        text = "已确认，升级通知已停止" if a else "该预警已解除或不存在"
        self._reply(200, f"<h1>{text}</h1>".encode(), "text/html")
