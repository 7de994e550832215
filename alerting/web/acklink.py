"""The one-time acknowledgement link from a notification: GET shows one button, only its POST
acknowledges (link previews and mail scanners open GETs)."""

from __future__ import annotations

import html
import time
from collections import ChainMap
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hazardwatch.alerting.links import LIST, verify
from hazardwatch.alerting.web.context import Web
from hazardwatch.alerting.web.limits import read_body
from hazardwatch.contracts.warnings import LEVEL_NAMES_ZH


def _page(code: int, text: str, form: str = "") -> Response:
    page = (f"<!doctype html><html lang=zh><meta charset=utf-8><title>预警确认</title>"
            f"<body><h1>{html.escape(text)}</h1>{form}</body></html>")
    return HTMLResponse(page, status_code=code)


def routes(web: Web) -> list[Route]:
    """GET and POST /ack/<token>; GET /list/<token> (the full list behind a digest)."""
    svc = web.svc

    async def link(request: Request) -> Response:
        post = request.method == "POST"
        if post:
            await read_body(request, 4096)
        token = request.path_params["token"]
        now = int(time.time() * 1000)
        found = verify(svc.cfg.link_secret, token, now)
        if found is None or found[0] == LIST:
            return _page(403, "链接无效或已过期")
        wid, person = found
        if not svc.directory.known(person):
            return _page(403, "链接中的人员不在通知名单中")
        a = svc.find(wid)
        if a is not None and a.acked_at is not None:
            at = datetime.fromtimestamp(a.acked_at / 1000, ZoneInfo(svc.cfg.timezone))
            return _page(200, f"该预警已由{a.acked_by}于{at:%m-%d %H:%M:%S}确认")
        if not post:
            what = a.warning.message if a is not None else wid
            form = (f"<p>{html.escape(person)}：{html.escape(what)}</p>"
                    f'<form method="post"><button type="submit">确认收到</button></form>')
            return _page(200, "确认该预警？", form)

        def use() -> bool:
            with svc.store.tx():
                return svc.store.use_link(token, now)

        if not await run_in_threadpool(use):
            return _page(409, "该确认链接已使用过")
        a = await run_in_threadpool(svc.act, "ack", wid, person, now)
        web.audit(request, None, "ack_link", warning_id=wid, person=person)
        if a is None:
            return _page(200, "该预警已解除或不存在")
        if a.acked_by == person:
            return _page(200, "已确认，升级通知已停止")
        return _page(200, f"该预警已由{a.acked_by}先行确认")

    async def full_list(request: Request) -> Response:
        """The full list behind a digest: every active warning, most urgent first."""
        now = int(time.time() * 1000)
        found = verify(svc.cfg.link_secret, request.path_params["token"], now)
        if found is None or found[0] != LIST or not svc.directory.known(found[1]):
            return _page(403, "链接无效或已过期")
        tz = ZoneInfo(svc.cfg.timezone)
        rows = sorted((a for a in ChainMap(svc.alerts, svc.others).values() if a.active),
                      key=lambda a: (a.level, -a.warning.ts))
        items = "".join(
            f"<li>{LEVEL_NAMES_ZH[a.level]} "
            f"{datetime.fromtimestamp(a.warning.ts / 1000, tz):%m-%d %H:%M:%S} "
            f"{html.escape(a.warning.message)}"
            f"{'（已由' + html.escape(a.acked_by) + '确认）' if a.acked_by else ''}</li>"
            for a in rows)
        return _page(200, f"当前预警 {len(rows)} 条", f"<ol>{items}</ol>")

    return [Route("/ack/{token}", link, methods=["GET", "POST"]),
            Route("/list/{token}", full_list, methods=["GET"])]
