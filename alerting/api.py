"""The HTTP API: active warnings, acknowledge, resolve with 处置 feedback, silences, figures,
and one-time acknowledgement links. Token authentication; every action is recorded."""

from __future__ import annotations

import html
import json
import logging
import threading
import time
import uuid
from collections import ChainMap
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from hazardwatch.alerting import apiinput
from hazardwatch.alerting.apiinput import BadRequest
from hazardwatch.alerting.links import verify
from hazardwatch.alerting.service import AlertingService

log = logging.getLogger("hazardwatch.alerting")


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

    def _raw(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _route(self, method: str) -> None:
        try:
            self._dispatch(method)
        except BadRequest as exc:
            self._reply(400, {"error": str(exc)})
        except Exception as exc:  # the API answers; the service keeps paging
            log.exception("API %s %s", method, self.path.split("?")[0].split("/ack/")[0])
            self._reply(500, {"error": f"内部错误: {exc.__class__.__name__}"})

    def do_GET(self) -> None:
        """GET /ack/<token> (a page, acknowledges nothing), /api/warnings, /api/silences,
        /api/stats."""
        self._route("GET")

    def do_POST(self) -> None:
        """POST /ack/<token>, /api/warnings/<id>/ack|resolve, /api/silences,
        /api/silences/<id>/end."""
        self._route("POST")

    def do_DELETE(self) -> None:
        """DELETE /api/silences/<id>: end a silence now."""
        self._route("DELETE")

    def _dispatch(self, method: str) -> None:
        svc, now = self.service, _now()
        path = self.path.split("?", 1)[0]
        if path.startswith("/ack/"):
            self._link(path.removeprefix("/ack/"), method == "POST")
            return
        who = self._who()
        if who is None:
            self._reply(401, {"error": "missing or unknown API token"})
            return
        parts = path.strip("/").split("/")
        if method == "GET" and parts == ["api", "warnings"]:
            with svc.store.lock:
                rows = [{**msgspec.to_builtins(a), "active": a.active}
                        for a in ChainMap(svc.alerts, svc.others).values() if a.active]
            self._reply(200, sorted(rows, key=lambda r: (r["level"], -r["opened_at"])))
        elif method == "GET" and parts == ["api", "stats"]:
            self._reply(200, svc.stats())
        elif method == "GET" and parts == ["api", "silences"]:
            self._reply(200, [msgspec.to_builtins(x) for x in svc.silences if x.ends > now])
        elif method == "POST" and parts == ["api", "silences"]:
            s = apiinput.silence(self._raw(), svc.catalog, who, now, str(uuid.uuid4()))
            svc.silence(s)
            self._reply(201, msgspec.to_builtins(s))
        elif (method == "DELETE" and len(parts) == 3 and parts[:2] == ["api", "silences"]) or (
                method == "POST" and len(parts) == 4 and parts[:2] == ["api", "silences"]
                and parts[3] == "end"):
            ended = svc.end_silence(parts[2], who, now)
            if ended is None:
                self._reply(404, {"error": f"no active silence {parts[2]}"})
            else:
                self._reply(200, msgspec.to_builtins(ended))
        elif (method == "POST" and len(parts) == 4 and parts[:2] == ["api", "warnings"]
              and parts[3] in ("ack", "resolve")):
            if parts[3] == "resolve":
                r = apiinput.decode(self._raw(), apiinput.ResolveBody)
                if not (r.cause.strip() and r.action.strip()):
                    raise BadRequest("处置反馈需要 cause（原因）和 action（采取的措施）")
                a = svc.act("resolve", parts[2], who, now, r.cause, r.action)
            else:
                apiinput.decode(self._raw(), apiinput.AckBody)
                a = svc.act("ack", parts[2], who, now)
            if a is None:
                self._reply(404, {"error": f"no active warning {parts[2]}"})
            else:
                self._reply(200, msgspec.to_builtins(a))
        else:
            self._reply(404, {"error": "not found"})

    def _page(self, code: int, text: str, form: str = "") -> None:
        page = (f"<!doctype html><html lang=zh><meta charset=utf-8><title>预警确认</title>"
                f"<body><h1>{html.escape(text)}</h1>{form}</body></html>")
        self._reply(code, page.encode(), "text/html")

    def _link(self, token: str, post: bool) -> None:
        """GET shows one button; only its POST acknowledges (link previews and mail scanners
        open GETs)."""
        svc, now = self.service, _now()
        found = verify(svc.cfg.link_secret, token, now)
        if found is None:
            self._page(403, "链接无效或已过期")
            return
        wid, person = found
        if not svc.directory.known(person):
            self._page(403, "链接中的人员不在通知名单中")
            return
        a = svc.find(wid)
        if a is not None and a.acked_at is not None:
            at = datetime.fromtimestamp(a.acked_at / 1000, ZoneInfo(svc.cfg.timezone))
            self._page(200, f"该预警已由{a.acked_by}于{at:%m-%d %H:%M:%S}确认")
            return
        if not post:
            what = a.warning.message if a is not None else wid
            form = (f"<p>{html.escape(person)}：{html.escape(what)}</p>"
                    f'<form method="post"><button type="submit">确认收到</button></form>')
            self._page(200, "确认该预警？", form)
            return
        with svc.store.tx():
            fresh = svc.store.use_link(token, now)
        if not fresh:
            self._page(409, "该确认链接已使用过")
            return
        a = svc.act("ack", wid, person, now)
        if a is None:
            self._page(200, "该预警已解除或不存在")
        elif a.acked_by == person:
            self._page(200, "已确认，升级通知已停止")
        else:
            self._page(200, f"该预警已由{a.acked_by}先行确认")
