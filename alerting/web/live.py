"""Live updates for the console over server-sent events: one poller per server compares the
alerts every POLL_S and sends what changed to each connected console, filtered by its scope
and drill choice. The alerting loop is not touched (it may run on another thread)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hazardwatch.alerting.accounts import Principal
from hazardwatch.alerting.state import Alert
from hazardwatch.alerting.web.api_routes import row
from hazardwatch.alerting.web.context import ApiError, Web

log = logging.getLogger("hazardwatch.alerting")
POLL_S = 0.2
HEARTBEAT_S = 15.0
MAX_CLIENTS = 500


def signature(a: Alert) -> tuple[Any, ...]:
    """What the console shows of an alert changes exactly when this does."""
    w = a.warning
    return (a.level, w.ts, w.transition, a.acked_at, a.handled_at, a.cleared_at,
            len(a.supervisions), sum(1 for s in a.supervisions if s.pending))


@dataclass(eq=False)
class Client:
    """One connected console."""

    who: Principal
    drill: str
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))


class Hub:
    """The poller and the connected consoles."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.clients: set[Client] = set()
        self.seen: dict[str, tuple[Any, ...]] = {}
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling in the running loop (once)."""
        if self.task is None or self.task.done():
            self.seen = {a.warning.warning_id: signature(a) for a in self.web.alerts()}
            self.task = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while self.clients:
            await asyncio.sleep(POLL_S)
            try:
                self.tick()
            except Exception:  # reported; the next tick compares again, consoles stay live
                log.exception("console: live update failed")
        self.task = None

    def tick(self) -> None:
        """Send every change since the last tick."""
        now: dict[str, tuple[Any, ...]] = {}
        changed: list[Alert] = []
        for a in self.web.alerts():
            wid = a.warning.warning_id
            now[wid] = sig = signature(a)
            if self.seen.get(wid) != sig:
                changed.append(a)
        gone = [wid for wid in self.seen if wid not in now]
        self.seen = now
        if not (changed or gone):
            return
        for c in list(self.clients):
            rows = [row(a, self.web.svc.catalog) for a in changed if self.web.visible(c.who, a)
                    and (c.drill == "include" or a.warning.drill == (c.drill == "only"))]
            if not (rows or gone):
                continue
            data = json.dumps({"changed": rows, "gone": gone}, ensure_ascii=False)
            try:
                c.queue.put_nowait(f"event: change\ndata: {data}\n\n")
            except asyncio.QueueFull:  # a console that does not read: it reloads on reconnect
                self.clients.discard(c)


def routes(web: Web, hub: Hub) -> list[Route]:
    """GET /api/events: the live stream."""

    async def events(request: Request) -> Response:
        """Server-sent events: `change` with the alerts that changed (scoped).
        ---
        responses: {200: {description: text/event-stream}, 503: {description: too many}}
        """
        p = web.require(request)
        drill = request.query_params.get("drill", "exclude")
        if drill not in ("include", "exclude", "only"):
            raise ApiError(400, "drill 只能是 include、exclude 或 only")
        if len(hub.clients) >= MAX_CLIENTS:
            raise ApiError(503, "实时连接过多，请稍后再试")
        client = Client(p, drill)
        hub.clients.add(client)
        hub.start()

        async def stream() -> AsyncIterator[str]:
            try:
                yield "event: hello\ndata: {}\n\n"
                while True:
                    try:
                        yield await asyncio.wait_for(client.queue.get(), HEARTBEAT_S)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                    if client not in hub.clients:
                        return
            finally:
                hub.clients.discard(client)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    return [Route("/api/events", events, methods=["GET"])]
