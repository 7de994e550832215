"""GET /api/kpis (the assessment figures written by `hazardwatch kpis`) and
GET /api/reports/shift (the 交接班报告 as HTML or PDF), both limited to the caller's scope."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from hazardwatch.alerting.accounts import Principal
from hazardwatch.alerting.web.context import ApiError, Web
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.kpis.influxread import InfluxReader
from hazardwatch.kpis.periods import parse_time
from hazardwatch.stack.settings import StackSettings
from hazardwatch.streams.sinks.line_protocol import RP_EVENTS


def _range(request: Request) -> tuple[int, int]:
    q = request.query_params
    try:
        start, end = parse_time(q["from"]), parse_time(q["to"])
    except (KeyError, ValueError):
        raise ApiError(400, "from and to: ISO times (Beijing time without a zone)") from None
    if not start < end <= start + 366 * 86_400_000:
        raise ApiError(400, "to must be after from, within a year")
    return start, end


def row_visible(p: Principal, scope: str, ident: str, cat: Catalog) -> bool:
    """Whether a figure row is inside the principal's scope."""
    s = p.scope
    if s.everything:
        return True
    if scope in ("point", "device", "site"):
        return s.site(ident.split("/", 1)[0], cat)
    if scope == "region":
        return any(ident.startswith(r) for r in s.regions)
    if scope == "company":
        return ident in s.companies
    return False  # "all" is everyone's: only for an unrestricted account


def report_scope_allowed(p: Principal, scope: str, cat: Catalog) -> bool:
    """Whether a report scope (all, site:, company:, region:) lies inside the principal's."""
    kind, _, ident = scope.partition(":")
    if kind == "all":
        return p.scope.everything
    if kind == "site":
        return p.scope.everything or p.scope.site(ident, cat)
    return row_visible(p, kind, ident, cat)


def routes(web: Web) -> list[Route]:
    """The two read-only routes."""
    svc = web.svc

    def reader(drill: bool) -> InfluxReader:
        s = StackSettings.from_env()
        return InfluxReader(s.influx_url, s.influx_db, svc.catalog, drill=drill)

    async def kpis(request: Request) -> Response:
        """Assessment figures between from and to (period day or shift), in the caller's scope.
        ---
        responses: {200: {description: rows}, 400: {description: bad range}}
        """
        p = web.require(request)
        start, end = _range(request)
        period = request.query_params.get("period", "day")
        if period not in ("day", "shift"):
            raise ApiError(400, "period: day or shift")
        drill = request.query_params.get("drill") == "true"
        q = (f'SELECT "value", "num", "den" FROM "{RP_EVENTS}"."kpi" WHERE time >= {start}ms '
             f"AND time < {end}ms AND period = '{period}' AND drill = "
             f"'{'true' if drill else 'false'}' GROUP BY figure, scope, id, level")

        def read() -> list[dict[str, Any]]:
            out = []
            for tags, _, rows in reader(drill).query(q):
                if not row_visible(p, tags["scope"], tags["id"], svc.catalog):
                    continue
                out += [{"figure": tags["figure"], "scope": tags["scope"], "id": tags["id"],
                         "level": int(tags["level"]) if tags.get("level") else None,
                         "period": period, "start": r[0], "value": r[1], "num": r[2],
                         "den": r[3]} for r in rows]
            return out

        return JSONResponse({"rows": await run_in_threadpool(read)})

    async def shift(request: Request) -> Response:
        """The shift hand-over report of [from, to) for a scope, as HTML (default) or PDF.
        ---
        responses: {200: {description: the report}, 403: {description: scope not yours}}
        """
        from hazardwatch.reports.read import shift_report
        from hazardwatch.reports.render import to_html, to_pdf

        p = web.require(request)
        start, end = _range(request)
        scope = request.query_params.get("scope", "all")
        if scope.partition(":")[0] not in ("all", "site", "company", "region"):
            raise ApiError(400, "scope: all, site:ID, company:ID or region:CODE")
        if not report_scope_allowed(p, scope, svc.catalog):
            raise ApiError(403, "报告范围超出本账号的管辖范围")
        drill = request.query_params.get("drill") == "true"
        fmt = request.query_params.get("format", "html")
        report = await run_in_threadpool(shift_report, reader(drill), start, end, scope)
        web.audit(request, p, "shift_report", scope=scope, start=start, end=end)
        if fmt == "pdf":
            def pdf() -> bytes:
                with tempfile.TemporaryDirectory() as d:
                    path = Path(d) / "shift.pdf"
                    to_pdf(report, path)
                    return path.read_bytes()
            return Response(await run_in_threadpool(pdf), media_type="application/pdf")
        return HTMLResponse(to_html(report))

    return [Route("/api/kpis", kpis, methods=["GET"]),
            Route("/api/reports/shift", shift, methods=["GET"])]
