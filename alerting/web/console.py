"""The duty console page (static files in ./static, no build step at run time) and the map's
data: every site and vehicle in scope with its worst active level."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hazardwatch.alerting.web.context import Web
from hazardwatch.alerting.web.history import last_positions

STATIC = Path(__file__).parent / "static"


def routes(web: Web) -> list[BaseRoute]:
    """/, /static/… and /api/map."""
    cat = web.svc.catalog

    async def index(_r: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def map_points(request: Request) -> Response:
        """Sites and vehicles (last position from InfluxDB) in scope with their worst active
        level (drill: include/exclude/only).
        ---
        responses: {200: {description: points}}
        """
        p = web.require(request)
        drill = request.query_params.get("drill", "exclude")
        worst: dict[str, int] = {}
        for a in web.alerts():
            w = a.warning
            if not a.active or not web.visible(p, a):
                continue
            if drill != "include" and w.drill != (drill == "only"):
                continue
            key = f"v:{w.vehicle_id}" if w.vehicle_id else f"s:{w.site_id}"
            worst[key] = min(worst.get(key, 9), a.level)
        sites = [{"id": s.id, "name": s.name, "kind": s.kind, "region": s.region,
                  "lat": s.location.lat, "lon": s.location.lon,
                  "level": worst.get(f"s:{s.id}")}
                 for s in cat.sites.values() if p.scope.site(s.id, cat)]
        mine = [v for v in cat.vehicles.values() if p.scope.vehicle(v.id, cat)]
        where = await run_in_threadpool(last_positions, web.opts.influx_url, web.opts.influx_db,
                                        [v.id for v in mine])
        vehicles = [{"id": v.id, "plate": v.plate, "company": v.company,
                     "level": worst.get(f"v:{v.id}"),
                     "lat": where[v.id][0] if v.id in where else None,
                     "lon": where[v.id][1] if v.id in where else None} for v in mine]
        return JSONResponse({"sites": sites, "vehicles": vehicles})

    return [Route("/", index, methods=["GET"]),
            Route("/api/map", map_points, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static")]
