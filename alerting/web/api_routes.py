"""The JSON API: warnings (scoped), their detail, acknowledge, 处置, silences, figures, login.
Every handler answers with JSON; bodies are bounded and validated (apiinput)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hazardwatch.alerting import apiinput
from hazardwatch.alerting.accounts import Perm, Principal
from hazardwatch.alerting.state import Alert, Silence
from hazardwatch.alerting.web import sessions
from hazardwatch.alerting.web.context import COOKIE, ApiError, Web, client
from hazardwatch.alerting.web.history import fetch
from hazardwatch.alerting.web.limits import read_body
from hazardwatch.alerting.workflow.case import WorkflowError
from hazardwatch.alerting.workflow.track import case_of
from hazardwatch.contracts.catalog import Catalog


def _now() -> int:
    return int(time.time() * 1000)


def row(a: Alert, cat: Catalog | None = None) -> dict[str, Any]:
    """An alert as the API shows it; with the catalog, also where it is (for the console)."""
    out = {**msgspec.to_builtins(a), "active": a.active}
    if cat is not None:
        out["where"] = where(a, cat)
    return out


def where(a: Alert, cat: Catalog) -> dict[str, str | None]:
    """Names, kind (tank_farm, coal_mine, tailings_dam, vehicle), region and company."""
    w = a.warning
    v = cat.vehicles.get(w.vehicle_id or "")
    if v is not None:
        c = cat.companies.get(v.company)
        return {"kind": "vehicle", "name": v.plate, "site": None, "company": v.company,
                "company_name": c.name if c else None, "region": c.region if c else None}
    s = cat.sites.get(w.site_id or "")
    return {"kind": s.kind if s else None, "name": s.name if s else w.site_id,
            "site": w.site_id, "company": None, "company_name": None,
            "region": s.region if s else None}


def _drill_ok(a: Alert, drill: str) -> bool:
    return drill == "include" or (a.warning.drill == (drill == "only"))


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/login."""

    name: str
    password: str


def _in_state(a: Alert, state: str) -> bool:
    if state == "closing":
        return not a.active and a.handled_at is not None and a.closed_at is None
    if state == "unhandled":
        return not a.active and a.handled_at is None and a.closed_at is None
    return a.active


def routes(web: Web) -> list[Route]:
    """The API's routes bound to `web`."""
    svc = web.svc

    async def warnings(request: Request) -> Response:
        """Active warnings inside the caller's scope, most severe first (state=closing: the
        handled and cleared ones that wait for their 销号; state=unhandled: the cleared ones
        nobody handled yet, which keep their deadlines).
        ---
        parameters:
          - {name: drill, in: query, schema: {enum: [include, exclude, only]},
             description: "drill warnings: include (default), exclude or only"}
          - {name: state, in: query, schema: {enum: [active, closing, unhandled]},
             description: "active (default), closing (处置, cleared, no 销号), unhandled"}
        responses: {200: {description: list of alerts}, 401: {description: not logged in}}
        """
        p = web.require(request)
        drill = request.query_params.get("drill", "include")
        if drill not in ("include", "exclude", "only"):
            raise ApiError(400, "drill 只能是 include、exclude 或 only")
        state = request.query_params.get("state", "active")
        if state not in ("active", "closing", "unhandled"):
            raise ApiError(400, "state 只能是 active、closing 或 unhandled")
        rows = [row(a, svc.catalog) for a in web.alerts()
                if _in_state(a, state) and web.visible(p, a) and _drill_ok(a, drill)]
        rows.sort(key=lambda r: (r["level"], -r["opened_at"]))
        return Response(msgspec.json.encode(rows), media_type="application/json")

    def _scoped(p: Principal, wid: str) -> Alert:
        a = svc.find(wid)
        if a is None:
            raise ApiError(404, f"no active warning {wid}")
        if not web.visible(p, a):
            raise ApiError(403, "该预警不在您的管辖范围内")
        return a

    async def detail(request: Request) -> Response:
        """One warning with its actions and notifications (inside the caller's scope).
        ---
        responses: {200: {description: the alert}, 403: {description: outside the scope},
                    404: {description: unknown}}
        """
        p = web.require(request)
        a = _scoped(p, request.path_params["wid"])
        return JSONResponse({**row(a, svc.catalog),
                             "notified": [msgspec.to_builtins(t) for t in a.told]})

    async def history(request: Request) -> Response:
        """Transitions and the readings (or track) around a warning, from InfluxDB.
        ---
        responses: {200: {description: series}, 403: {description: outside the scope}}
        """
        p = web.require(request)
        a = _scoped(p, request.path_params["wid"])
        return JSONResponse(await run_in_threadpool(
            fetch, web.opts.influx_url, web.opts.influx_db, a, _now(), svc.catalog))

    async def act(request: Request) -> Response:
        """POST /api/warnings/{wid}/ack (body {} or {"note"}), /verify (核查反馈: verdict real,
        false_alarm or sensor_fault, optional note; once, before the 处置), /resolve (处置:
        cause and action, both required; verdict optional, else the 核查's) and /close
        (销号: by 指挥长 or 管理员, after the 处置 and once the warning cleared; else 409 with the
        reason) and /supervise (督办 by hand: {"admin": county|city|province, "deadline_s"}).
        ---
        responses: {200: {description: the alert after the action}, 400: {description: bad body},
                    403: {description: role, scope or CSRF}, 404: {description: unknown},
                    413: {description: body too large}}
        """
        what = request.path_params["what"]
        if what not in ("ack", "verify", "resolve", "close", "supervise"):
            raise ApiError(404, "not found")
        p = web.require(request, {"ack": Perm.ACK, "supervise": Perm.SUPERVISE,
                                  "close": Perm.CLOSE}.get(what, Perm.RESOLVE))
        raw = await read_body(request)
        wid = request.path_params["wid"]
        cause = taken = verdict = note = ""
        if what == "verify":
            vb = apiinput.decode(raw, apiinput.VerifyBody)
            verdict, note = vb.verdict, vb.note.strip()
        elif what == "resolve":
            r = apiinput.decode(raw, apiinput.ResolveBody)
            if not (r.cause.strip() and r.action.strip()):
                raise apiinput.BadRequest("处置反馈需要 cause（原因）和 action（采取的措施）")
            cause, taken, verdict = r.cause.strip(), r.action.strip(), r.verdict or ""
        elif what == "supervise":
            sb = apiinput.decode(raw, apiinput.SuperviseBody)
        else:
            apiinput.decode(raw, apiinput.AckBody)
        found = _scoped(p, wid)
        sup = None
        if what == "supervise":  # 督办 by hand: built by the workflow, shared like an action
            if found.handled_at is not None:
                raise ApiError(409, "该预警已处置,无需督办")
            c = case_of(found, svc.catalog)
            try:
                c.supervise_by_hand(sb.admin, p.name, _now(), svc.workflow, sb.deadline_s)
            except WorkflowError as exc:
                raise ApiError(409, str(exc)) from None
            sup = c.supervisions[-1]
        if what == "verify":
            if found.handled_at is not None or found.closed_at is not None:
                raise ApiError(409, "该预警已处置,核查反馈随处置给出")
            if found.verified_at is not None:
                raise ApiError(409, f"该预警已核查反馈({found.verified_by})")
        if what == "close":  # 销号: the workflow's rules, with the reason when refused
            try:
                case_of(found, svc.catalog).close(p.name, p.role, _now(), svc.workflow)
            except WorkflowError as exc:
                raise ApiError(409, str(exc)) from None
        a = await run_in_threadpool(svc.act, what, wid, p.name, _now(), cause, taken, verdict,
                                    sup, note)
        if a is None:
            raise ApiError(404, f"no active warning {wid}")
        web.audit(request, p, what, warning_id=wid)
        return JSONResponse(msgspec.to_builtins(a))

    def _silence_visible(p: Principal, s: Silence) -> bool:
        if p.scope.everything:
            return True
        if s.site is not None:
            return p.scope.site(s.site, svc.catalog)
        if s.vehicle is not None:
            return p.scope.vehicle(s.vehicle, svc.catalog)
        return False  # a rule-wide silence concerns everybody's warnings

    async def silences(request: Request) -> Response:
        """Active silences inside the caller's scope.
        ---
        responses: {200: {description: list of silences}}
        """
        p = web.require(request)
        now = _now()
        return JSONResponse([msgspec.to_builtins(x) for x in svc.silences
                             if x.ends > now and _silence_visible(p, x)])

    async def add_silence(request: Request) -> Response:
        """A silence (指挥长 and above): site, vehicle or rule_prefix; minutes or ends; reason.
        ---
        responses: {201: {description: the silence}, 400: {description: bad body}}
        """
        p = web.require(request, Perm.SILENCE)
        raw = await read_body(request)
        s = apiinput.silence(raw, svc.catalog, p.name, _now(), str(uuid.uuid4()))
        if not _silence_visible(p, s):
            raise ApiError(403, "静默范围超出您的管辖范围")
        await run_in_threadpool(svc.silence, s)
        web.audit(request, p, "silence", silence_id=s.id)
        return JSONResponse(msgspec.to_builtins(s), status_code=201)

    async def end_silence(request: Request) -> Response:
        """End a silence now (DELETE, or POST …/end).
        ---
        responses: {200: {description: the ended silence}, 404: {description: none active}}
        """
        p = web.require(request, Perm.SILENCE)
        await read_body(request)
        sid = request.path_params["sid"]
        now = _now()
        old = next((x for x in svc.silences if x.id == sid and x.ends > now), None)
        if old is None:
            raise ApiError(404, f"no active silence {sid}")
        if not _silence_visible(p, old):
            raise ApiError(403, "静默范围超出您的管辖范围")
        ended = await run_in_threadpool(svc.end_silence, sid, p.name, now)
        if ended is None:
            raise ApiError(404, f"no active silence {sid}")
        web.audit(request, p, "silence_end", silence_id=sid)
        return JSONResponse(msgspec.to_builtins(ended))

    async def stats(request: Request) -> Response:
        """Time to acknowledge and to handle per level.
        ---
        responses: {200: {description: figures}}
        """
        web.require(request)
        return JSONResponse(svc.stats())

    async def login(request: Request) -> Response:
        """Log in to the console: sets the session cookie, returns the CSRF token.
        ---
        responses: {200: {description: logged in}, 401: {description: wrong name or password},
                    429: {description: too many failed logins}}
        """
        if web.users is None:
            raise ApiError(404, "本实例未启用控制台账户")
        b = apiinput.decode(await read_body(request, 4096), LoginBody)
        keys = [f"ip:{client(request)}", f"user:{b.name}"]
        now = time.monotonic()
        wait = web.logins.blocked_for(keys, now)
        if wait > 0:
            raise ApiError(429, f"登录失败次数过多，请 {int(wait) + 1} 秒后再试",
                           {"Retry-After": str(int(wait) + 1)})
        acc = await run_in_threadpool(web.users.check, b.name, b.password)
        if acc is None:
            web.logins.failed(keys, now)
            web.audit(request, None, "login_failed", name=b.name[:64])
            raise ApiError(401, "用户名或密码错误")
        web.logins.succeeded(keys[1:])
        cookie = sessions.issue(web.secret, acc.name, _now(), web.opts.session_ttl_s)
        resp = JSONResponse({"name": acc.name, "role": acc.role,
                             "csrf": sessions.csrf(web.secret, cookie)})
        resp.set_cookie(COOKIE, cookie, max_age=web.opts.session_ttl_s, httponly=True,
                        samesite="strict", secure=web.opts.secure_cookie, path="/")
        web.audit(request, Principal(acc.name, acc.role, acc.scope, "session"), "login")
        return resp

    async def logout(request: Request) -> Response:
        """Log out: the cookie is dropped and every session of the account issued so far is
        void on every instance.
        ---
        responses: {200: {description: logged out}}
        """
        p = web.require(request)
        if p.via == "session" and web.users is not None:
            await run_in_threadpool(web.users.end_sessions, p.name, _now())
        resp = JSONResponse({"ok": True})
        resp.delete_cookie(COOKIE, path="/")
        web.audit(request, p, "logout")
        return resp

    async def me(request: Request) -> Response:
        """Who is logged in: name, role, scope, CSRF token and the console's map settings.
        ---
        responses: {200: {description: the user}, 401: {description: not logged in}}
        """
        p = web.require(request)
        cookie = request.cookies.get(COOKIE, "")
        return JSONResponse({"name": p.name, "role": p.role, "scope": p.scope.describe(),
                             "perms": sorted(x for x in Perm if p.may(x)),
                             "csrf": sessions.csrf(web.secret, cookie) if cookie else None,
                             "tile_url": web.opts.tile_url})

    return [
        Route("/api/login", login, methods=["POST"]),
        Route("/api/logout", logout, methods=["POST"]),
        Route("/api/me", me, methods=["GET"]),
        Route("/api/warnings", warnings, methods=["GET"]),
        Route("/api/warnings/{wid}", detail, methods=["GET"]),
        Route("/api/warnings/{wid}/history", history, methods=["GET"]),
        Route("/api/warnings/{wid}/{what:str}", act, methods=["POST"]),
        Route("/api/stats", stats, methods=["GET"]),
        Route("/api/silences", silences, methods=["GET"]),
        Route("/api/silences", add_silence, methods=["POST"]),
        Route("/api/silences/{sid}", end_silence, methods=["DELETE"]),
        Route("/api/silences/{sid}/end", end_silence, methods=["POST"]),
    ]
