"""The voice and SMS gateways' callbacks: a key press (1) on a fallback call or an SMS reply
(1 / 确认 / 收到) acknowledges the warning, in the person's name."""

from __future__ import annotations

import hmac
import json
import time
from collections import ChainMap

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hazardwatch.alerting.web.context import Web
from hazardwatch.alerting.web.limits import read_body

YES = {"1", "确认", "收到", "确认收到"}


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())[-11:]


def routes(web: Web) -> list[Route]:
    """POST /voice/callback and /sms/reply (Bearer voice_callback_token)."""
    svc = web.svc

    def allowed(request: Request) -> bool:
        want = svc.cfg.gateways.voice_callback_token
        got = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return bool(want) and hmac.compare_digest(got.encode(), str(want).encode())

    async def voice(request: Request) -> Response:
        """A call's outcome; Dtmf 1 acknowledges the warning of the call (OutId)."""
        body = await read_body(request, 4096)
        if not allowed(request):
            return JSONResponse({"Code": "Forbidden"}, status_code=403)
        data = json.loads(body or b"{}")
        out_id, keys = str(data.get("OutId", "")), str(data.get("Dtmf", ""))
        if ":fallback@" not in out_id or keys.strip() not in YES:
            return JSONResponse({"Code": "OK", "acknowledged": False})
        wid = out_id.split(":", 1)[0]
        person = out_id.split(":fallback@", 1)[1].split("|", 1)[0].split(":", 1)[1]
        a = await run_in_threadpool(svc.act, "ack", wid, f"{person}（语音按键）",
                                    int(time.time() * 1000))
        web.audit(request, None, "voice_ack", warning_id=wid, person=person)
        return JSONResponse({"Code": "OK", "acknowledged": a is not None})

    async def sms(request: Request) -> Response:
        """An SMS reply; 1 / 确认 / 收到 acknowledges every open fallback to that phone."""
        body = await read_body(request, 4096)
        if not allowed(request):
            return JSONResponse({"Code": "Forbidden"}, status_code=403)
        data = json.loads(body or b"{}")
        phone, text = _digits(str(data.get("PhoneNumber", ""))), str(data.get("Content", ""))
        if text.strip() not in YES or not phone:
            return JSONResponse({"Code": "OK", "acknowledged": 0})
        now, done = int(time.time() * 1000), 0
        for wid, a in list(ChainMap(svc.alerts, svc.others).items()):
            hit = next((f for f in a.fallback.values() if _digits(f.phone) == phone), None)
            if hit is not None and a.active and a.acked_at is None:
                await run_in_threadpool(svc.act, "ack", wid, f"{hit.person}（短信回复）", now)
                web.audit(request, None, "sms_ack", warning_id=wid, person=hit.person)
                done += 1
        return JSONResponse({"Code": "OK", "acknowledged": done})

    return [Route("/voice/callback", voice, methods=["POST"]),
            Route("/sms/reply", sms, methods=["POST"])]
