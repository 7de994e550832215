"""The ASGI application: API, acknowledgement links, the console page, /health and the
OpenAPI document; JSON errors everywhere, an access log, bounded bodies."""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hazardwatch.alerting.apiinput import BadRequest
from hazardwatch.alerting.service import AlertingService
from hazardwatch.alerting.users import UserFile
from hazardwatch.alerting.web import acklink, api_routes, callbacks, console, live, reports
from hazardwatch.alerting.web.context import ApiError, ConsoleOptions, Web
from hazardwatch.alerting.web.limits import MAX_BODY, BadLength, TooLarge

log = logging.getLogger("hazardwatch.alerting")
access = logging.getLogger("hazardwatch.alerting.access")
_schemas = SchemaGenerator({"openapi": "3.0.0",
                            "info": {"title": "HazardWatch alerting API", "version": "1"}})


def _json(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _api_error(_r: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _json(exc.status, exc.message, exc.headers)


async def _bad_request(_r: Request, exc: Exception) -> Response:
    return _json(400, str(exc))


async def _too_large(_r: Request, _e: Exception) -> Response:
    return _json(413, f"请求体过大（上限 {MAX_BODY // 1024} KiB）", {"Connection": "close"})


async def _bad_length(_r: Request, _e: Exception) -> Response:
    return _json(400, "Content-Length 无效", {"Connection": "close"})


async def _http(_r: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    text = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
    return _json(exc.status_code, text)


async def _crash(request: Request, exc: Exception) -> Response:
    log.error("API %s %s: %r", request.method, _redact(request.url.path), exc)
    return _json(500, f"内部错误: {exc.__class__.__name__}")


def _redact(path: str) -> str:
    return "/ack/…" if path.startswith("/ack/") else path[:200]


class AccessLog:
    """One line per request: peer, method, path (ack tokens redacted), status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Log after the response has started (streams: when they start)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0, status = time.perf_counter(), [0]

        async def wrapped(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            peer = scope.get("client") or ("?", 0)
            access.info("%s %s %s %d %.1fms", peer[0], scope["method"], _redact(scope["path"]),
                        status[0], (time.perf_counter() - t0) * 1000)


def build(svc: AlertingService, opts: ConsoleOptions | None = None) -> Starlette:
    """The application for one alerting service."""
    opts = opts or ConsoleOptions()
    web = Web(svc, opts, opts.accounts or (UserFile(opts.users) if opts.users else None))
    hub = live.Hub(web)

    async def health(_r: Request) -> Response:
        """Liveness: the process answers and how many alerts it holds.
        ---
        responses: {200: {description: ok}}
        """
        return JSONResponse({"status": "ok", "alerts": len(svc.alerts),
                             "seen": len(svc.others)})

    routes: list[BaseRoute] = [Route("/health", health, methods=["GET"]),
                               *api_routes.routes(web), *acklink.routes(web),
                               *callbacks.routes(web), *live.routes(web, hub),
                               *console.routes(web), *reports.routes(web)]

    async def openapi(request: Request) -> Response:
        """The OpenAPI document of this API."""
        return JSONResponse(_schemas.get_schema(routes))

    routes.append(Route("/api/openapi.json", openapi, methods=["GET"], include_in_schema=False))
    handlers: dict[Any, Any] = {ApiError: _api_error, BadRequest: _bad_request,
                                TooLarge: _too_large, BadLength: _bad_length,
                                HTTPException: _http, Exception: _crash}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.add_middleware(AccessLog)
    app.state.web = web
    app.state.hub = hub
    return app


def encode(x: Any) -> bytes:
    """JSON bytes of any msgspec-able value."""
    return msgspec.json.encode(x)
