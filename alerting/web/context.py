"""What every request handler needs: the service, the accounts, the limits, the options, and
who is asking (bearer token for machines, signed session cookie for people)."""

from __future__ import annotations

import time
from collections import ChainMap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request

from hazardwatch.alerting.accounts import Perm, Principal, Role, Scope
from hazardwatch.alerting.service import AlertingService
from hazardwatch.alerting.state import Alert
from hazardwatch.alerting.users import AccountStore
from hazardwatch.alerting.web import sessions
from hazardwatch.alerting.web.limits import FailedLogins

COOKIE = "hw_session"


class ApiError(Exception):
    """An answer other than 2xx with a precise (Chinese) reason."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass(frozen=True, kw_only=True)
class ConsoleOptions:
    """The console's settings: accounts, session length, map tiles, InfluxDB."""

    users: Path | None = None  # an accounts file (embedding, tests) when `accounts` is None
    accounts: AccountStore | None = None  # the service's: the alerting store's account topic
    session_ttl_s: int = sessions.SESSION_TTL_S
    tile_url: str = ""  # e.g. an OSM-compatible or 天地图 URL template with its key; "" = none
    influx_url: str = ""
    influx_db: str = "hazardwatch"
    secure_cookie: bool = False  # set behind TLS


@dataclass
class Web:
    """Shared by the handlers of one server."""

    svc: AlertingService
    opts: ConsoleOptions
    users: AccountStore | None
    logins: FailedLogins = field(default_factory=FailedLogins)

    @property
    def secret(self) -> str:
        """The secret signing sessions (shared by the instances, like the ack links')."""
        return self.svc.cfg.link_secret

    def alerts(self) -> list[Alert]:
        """Every alert known to this instance (owned or seen). The dicts are copied first (one
        C-level step each) because the alerting loop changes them from its own thread."""
        return list(ChainMap(dict(self.svc.alerts), dict(self.svc.others)).values())

    def principal(self, request: Request) -> Principal | None:
        """Who is asking, or None."""
        auth = request.headers.get("authorization", "")
        if auth:
            name = self.svc.cfg.api_tokens.get(auth.removeprefix("Bearer ").strip())
            return None if name is None else Principal(name, Role.ADMIN, Scope(), "token")
        cookie = request.cookies.get(COOKIE)
        if not cookie or self.users is None:
            return None
        got = sessions.verify(self.secret, cookie, int(time.time()))
        acc = self.users.accounts().get(got[0]) if got else None
        if acc is None or got is None or acc.disabled or got[1] < acc.sessions_after:
            return None  # unknown, disabled, or logged out since (the same store on every instance)
        return Principal(acc.name, acc.role, acc.scope, "session")

    def require(self, request: Request, perm: Perm = Perm.VIEW) -> Principal:
        """The principal allowed to do `perm`; a session also needs its CSRF token to change
        anything."""
        p = self.principal(request)
        if p is None:
            if request.cookies.get(COOKIE):
                raise ApiError(401, "会话无效或已过期，请重新登录")
            raise ApiError(401, "missing or unknown API token")
        if p.via == "session" and request.method not in ("GET", "HEAD"):
            want = sessions.csrf(self.secret, request.cookies.get(COOKIE, ""))
            if request.headers.get("x-csrf-token") != want:
                raise ApiError(403, "缺少或无效的 CSRF 令牌")
        if not p.may(perm):
            raise ApiError(403, f"角色 {p.role} 无权执行此操作")
        return p

    def visible(self, p: Principal, a: Alert) -> bool:
        """Whether the alert is inside the principal's scope."""
        return p.scope.warning(a.warning, self.svc.catalog)

    def audit(self, request: Request, p: Principal | None, what: str, **extra: Any) -> None:
        """Who did what, when and from where, on hw.alert-actions."""
        self.svc.emit({"action": "audit", "what": what, "who": p.name if p else None,
                       "via": p.via if p else None, "from": client(request),
                       "at": int(time.time() * 1000), **extra})


def client(request: Request) -> str:
    """The peer address."""
    return request.client.host if request.client else "?"
