"""The web framework measured: the same two endpoints on Starlette under uvicorn (h11, as the
alerting API runs) and on aiohttp, one after the other in one run, each in its own process:
GET the alert list (2,000 alerts, rows built and JSON-encoded per request exactly as
`/api/warnings` does) with 8 concurrent clients, requests/s and p99 (also the same bytes
kept, `cached_list_*`: what the framework alone costs for 1.8 MB); and an SSE fan-out, one
event (a row, ~1 KB) published to 50 connected streams every few ms, deliveries/s and the p99
from publish to arrival. Client and servers share the machine (noisy, 2 cores).
The last line printed is JSON. Usage: python bench/web_framework.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgspec

from bench.common import machine
from hazardwatch.stack.process import free_port

N_ALERTS, CLIENTS, STREAMS = 2000, 8, 50


class Data:
    """2,000 alerts over the demo catalog, and the subscribers' queues."""

    def __init__(self) -> None:
        from bench.console import SITES, _warning
        from hazardwatch.alerting.state import Alert
        from hazardwatch.contracts.catalog import load_catalog
        from hazardwatch.stack.settings import default_catalog

        self.catalog = load_catalog(default_catalog())
        now = int(time.time() * 1000)
        self.alerts = [Alert(_warning(i, now, 1 + i % 4), "root", now, 1 + i % 4, now)
                       for i in range(N_ALERTS)]
        assert {a.warning.site_id for a in self.alerts} == set(SITES)
        self.subs: set[asyncio.Queue[bytes]] = set()
        self.cached = self.listing()

    def answer(self, cached: bool) -> bytes:
        """The list, built per request (as the API does) or the same bytes kept (framework
        cost only)."""
        return self.cached if cached else self.listing()

    def listing(self) -> bytes:
        """What GET /api/warnings does for a full-scope user."""
        from hazardwatch.alerting.web.api_routes import row

        rows = [row(a, self.catalog) for a in self.alerts if a.active]
        rows.sort(key=lambda r: (r["level"], -r["opened_at"]))
        return msgspec.json.encode(rows)

    async def publish(self, n: int, gap_ms: float) -> None:
        """n events to every subscriber, one every gap_ms."""
        from hazardwatch.alerting.web.api_routes import row

        body = row(self.alerts[0], self.catalog)
        for i in range(n):
            data = msgspec.json.encode({"i": i, "t": time.time(), "changed": [body]})
            for q in list(self.subs):
                q.put_nowait(b"event: change\ndata: " + data + b"\n\n")
            await asyncio.sleep(gap_ms / 1000)

    async def stream(self) -> AsyncIterator[bytes]:
        """One subscriber's events."""
        q: asyncio.Queue[bytes] = asyncio.Queue()
        self.subs.add(q)
        try:
            yield b"event: hello\ndata: {}\n\n"
            while True:
                yield await q.get()
        finally:
            self.subs.discard(q)


def serve_starlette(port: int) -> None:
    """Starlette on uvicorn (h11, asyncio loop), as the alerting API."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    d = Data()

    async def listing(_r: Request) -> Response:
        return Response(d.answer("cached" in _r.query_params), media_type="application/json")

    async def events(_r: Request) -> Response:
        return StreamingResponse(d.stream(), media_type="text/event-stream")

    async def publish(r: Request) -> Response:
        asyncio.get_running_loop().create_task(
            d.publish(int(r.query_params["n"]), float(r.query_params["gap_ms"])))
        return JSONResponse({"ok": True})

    async def subs(_r: Request) -> Response:
        return JSONResponse({"subs": len(d.subs)})

    app = Starlette(routes=[Route("/api/warnings", listing), Route("/api/events", events),
                            Route("/publish", publish, methods=["POST"]), Route("/subs", subs)])
    uvicorn.run(app, host="127.0.0.1", port=port, http="h11", loop="asyncio",
                log_level="warning", access_log=False)


def serve_aiohttp(port: int) -> None:
    """The same endpoints on aiohttp's own server."""
    from aiohttp import web

    d = Data()

    async def listing(_r: web.Request) -> web.Response:
        return web.Response(body=d.answer("cached" in _r.query), content_type="application/json")

    async def events(r: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(r)
        async for chunk in d.stream():
            await resp.write(chunk)
        return resp

    async def publish(r: web.Request) -> web.Response:
        asyncio.get_running_loop().create_task(
            d.publish(int(r.query["n"]), float(r.query["gap_ms"])))
        return web.json_response({"ok": True})

    async def subs(_r: web.Request) -> web.Response:
        return web.json_response({"subs": len(d.subs)})

    app = web.Application()
    app.add_routes([web.get("/api/warnings", listing), web.get("/api/events", events),
                    web.post("/publish", publish), web.get("/subs", subs)])
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None,
                shutdown_timeout=1)


class _Event(msgspec.Struct):
    i: int
    t: float


_event = msgspec.json.Decoder(_Event)


def _pct(v: list[float], q: float) -> float:
    v = sorted(v)
    return round(v[min(len(v) - 1, int(q * len(v)))], 1) if v else float("nan")


async def _listing(base: str, seconds: float, key: str = "list",
                   query: str = "") -> dict[str, float]:
    import aiohttp

    lat: list[float] = []
    size = [0]
    async with aiohttp.ClientSession() as s:
        async def one() -> None:
            t0 = time.perf_counter()
            async with s.get(base + "/api/warnings" + query) as r:
                body = await r.read()
                assert r.status == 200
            size[0] = len(body)
            lat.append((time.perf_counter() - t0) * 1000)

        await one()  # warm
        lat.clear()
        stop = time.monotonic() + seconds

        async def client() -> None:
            while time.monotonic() < stop:
                await one()

        t0 = time.monotonic()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        wall = time.monotonic() - t0
    return {f"{key}_requests_per_s": round(len(lat) / wall, 1),
            f"{key}_ms_p50": _pct(lat, 0.5), f"{key}_ms_p99": _pct(lat, 0.99),
            f"{key}_bytes": size[0]}


async def _fanout(base: str, events: int, gap_ms: float) -> dict[str, float]:
    import aiohttp

    lat: list[float] = []
    got = [0]
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        async def reader() -> None:
            async with s.get(base + "/api/events") as r:
                async for line in r.content:
                    if line.startswith(b"data: {\"i\""):
                        ev = _event.decode(line[6:])
                        lat.append((time.time() - ev.t) * 1000)
                        got[0] += 1
                        if ev.i == events - 1:
                            return

        tasks = [asyncio.create_task(reader()) for _ in range(STREAMS)]
        deadline = time.monotonic() + 30
        while True:
            async with s.get(base + "/subs") as r:
                if (await r.json())["subs"] >= STREAMS:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("streams did not connect")
            await asyncio.sleep(0.05)
        t0 = time.monotonic()
        async with s.post(base + f"/publish?n={events}&gap_ms={gap_ms}") as r:
            assert r.status == 200
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
        wall = time.monotonic() - t0
    return {"sse_deliveries_per_s": round(got[0] / wall, 1), "sse_ms_p50": _pct(lat, 0.5),
            "sse_ms_p99": _pct(lat, 0.99), "sse_delivered": got[0],
            "sse_expected": events * STREAMS}


def measure(kind: str, seconds: float, events: int, gap_ms: float) -> dict[str, float]:
    """Start one server, measure both endpoints, stop it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)],
                            env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    try:
        import requests

        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/subs", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"{kind} did not start") from None
                time.sleep(0.1)
        out = asyncio.run(_listing(base, seconds))
        out.update(asyncio.run(_listing(base, seconds / 2, "cached_list", "?cached=1")))
        out.update(asyncio.run(_fanout(base, events, gap_ms)))
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def main() -> None:
    """Both frameworks, one after the other; the last line is JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--serve", choices=["starlette", "aiohttp"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        {"starlette": serve_starlette, "aiohttp": serve_aiohttp}[args.serve](args.port)
        return
    t0 = time.monotonic()
    seconds, events, gap_ms = (6.0, 200, 10.0) if args.quick else (20.0, 1000, 5.0)
    res: dict[str, Any] = {}
    for kind in ("starlette", "aiohttp"):
        res[kind] = measure(kind, seconds, events, gap_ms)
        print(kind, res[kind], flush=True)
    res.update({"alerts": N_ALERTS, "list_clients": CLIENTS, "sse_streams": STREAMS,
                "sse_events": events, "sse_gap_ms": gap_ms, "quick": args.quick,
                "wall_s": round(time.monotonic() - t0, 1), "machine": machine()})
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
