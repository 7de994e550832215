"""Accounts: roles (值班员, 指挥长, 只读, 管理员), what each may do, and the scope a user sees.

Pure: a scope is region code prefixes, companies and sites; a warning is inside when its site
(or its vehicle's company) matches any of them. An empty scope means everything and is only
given on purpose (`--all`, or a machine's bearer token from the configuration).
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.warnings import WarningRecord


class Role(StrEnum):
    """What a person on duty is."""

    DUTY = "值班员"
    COMMANDER = "指挥长"
    READONLY = "只读"
    ADMIN = "管理员"


class Perm(StrEnum):
    """One thing a role may do."""

    VIEW = "view"
    ACK = "ack"
    RESOLVE = "resolve"
    SILENCE = "silence"
    SUPERVISE = "supervise"  # 督办 by hand
    CLOSE = "close"  # 销号 (the workflow's close_roles may narrow it further)
    USERS = "users"


PERMS: dict[Role, frozenset[Perm]] = {
    Role.READONLY: frozenset({Perm.VIEW}),
    Role.DUTY: frozenset({Perm.VIEW, Perm.ACK, Perm.RESOLVE}),
    Role.COMMANDER: frozenset({Perm.VIEW, Perm.ACK, Perm.RESOLVE, Perm.SILENCE,
                               Perm.SUPERVISE, Perm.CLOSE}),
    Role.ADMIN: frozenset(Perm),
}


class Scope(msgspec.Struct, frozen=True):
    """Region code prefixes, company ids and site ids; all empty: everything."""

    regions: tuple[str, ...] = ()
    companies: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        """No restriction at all."""
        return not (self.regions or self.companies or self.sites)

    def site(self, site_id: str | None, catalog: Catalog) -> bool:
        """Whether a site is inside."""
        if self.everything:
            return True
        s = catalog.sites.get(site_id or "")
        return s is not None and (s.id in self.sites
                                  or any(s.region.startswith(p) for p in self.regions))

    def vehicle(self, vehicle_id: str | None, catalog: Catalog) -> bool:
        """Whether a vehicle (through its company) is inside."""
        if self.everything:
            return True
        v = catalog.vehicles.get(vehicle_id or "")
        c = catalog.companies.get(v.company) if v is not None else None
        return c is not None and (c.id in self.companies
                                  or any(c.region.startswith(p) for p in self.regions))

    def warning(self, w: WarningRecord, catalog: Catalog) -> bool:
        """Whether a warning is inside (by its vehicle, else its site)."""
        if w.vehicle_id:
            return self.vehicle(w.vehicle_id, catalog)
        return self.site(w.site_id, catalog)

    def describe(self) -> str:
        """Chinese one-liner for the page."""
        if self.everything:
            return "全部"
        parts = [f"地区 {','.join(self.regions)}" if self.regions else "",
                 f"企业 {','.join(self.companies)}" if self.companies else "",
                 f"场所 {','.join(self.sites)}" if self.sites else ""]
        return "；".join(p for p in parts if p)


class Principal(msgspec.Struct, frozen=True):
    """Who is asking: a person with a session or a machine with a bearer token."""

    name: str
    role: Role
    scope: Scope
    via: str  # "session" or "token"

    def may(self, perm: Perm) -> bool:
        """Whether the role allows this."""
        return perm in PERMS[self.role]
