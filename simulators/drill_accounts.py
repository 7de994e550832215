"""The drill's console accounts, scoped to the scenario's region: a 值班员 sees and acts on the
counties (and companies' regions) where the scenario's incidents happen, a 指挥长 or 管理员 on
their cities; a warning outside is refused them as to any console account (403)."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from hazardwatch.alerting.accounts import Role, Scope
from hazardwatch.alerting.users import UserFile
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.simulators.scenario import Scenario

CITY_ROLES = (Role.COMMANDER, Role.ADMIN)  # the city's duty; the others the county's


def regions(sc: Scenario, catalog: Catalog) -> tuple[str, ...]:
    """The GB/T 2260 codes of the scenario's incidents: their sites', their vehicles'
    companies'."""
    out: list[str] = []
    for i in sc.incidents:
        site = catalog.sites.get(i.site or "")
        v = catalog.vehicles.get(i.vehicle or "")
        c = catalog.companies.get(v.company) if v else None
        out += [site.region] if site else [c.region] if c else []
    return tuple(sorted(set(out)))


def scope_for(role: Role, codes: tuple[str, ...]) -> Scope:
    """A county scope (the codes) for a 值班员 or 只读, a city scope (their 4-digit prefixes)
    for a 指挥长 or 管理员."""
    if role in CITY_ROLES:
        return Scope(regions=tuple(sorted({c[:4] for c in codes})))
    return Scope(regions=codes)


def console_account(folder: Path, sc: Scenario, catalog: Catalog
                    ) -> tuple[Path, str, str, dict[str, str]]:
    """Drill-only console accounts with random passwords, scoped to the scenario's region:
    one 值班员 for a person at the console and one per participant with their role
    (`access`); (accounts file, name, password, participant → password)."""
    codes = regions(sc, catalog)
    if not codes:  # an empty scope means every region: never for a drill account
        raise ValueError(f"演练 {sc.name} 的事件在目录中找不到行政区划,无法限定演练账号的管辖范围")
    password = secrets.token_urlsafe(12)
    path = folder / "console-users.json"
    users, now = UserFile(path), int(time.time() * 1000)
    users.add("演练值班员", Role.DUTY, scope_for(Role.DUTY, codes), password, now)
    theirs = {p.name: secrets.token_urlsafe(12) for p in sc.participants}
    for p in sc.participants:
        users.add(p.name, p.access, scope_for(p.access, codes), theirs[p.name], now)
    return path, "演练值班员", password, theirs
