"""The routing tree: the deepest matching route wins; unset settings come from its parents."""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.alerting.config import Match, Route, Step
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.warnings import WarningRecord


@dataclass(frozen=True, slots=True)
class Facts:
    """What routes match on, looked up once per warning from the catalog."""

    level: int
    region: str
    site_kind: str | None
    site: str | None
    company: str | None
    vehicle: bool
    drill: bool
    admin: str | None = None  # a 督办 notice to this administrative level's duty (else None)


@dataclass(frozen=True, slots=True)
class RouteSettings:
    """A route with every inherited setting resolved."""

    name: str
    escalation: tuple[Step, ...]
    repeat_s: float
    reminder_s: float
    group_wait_s: float
    rate_per_min: int
    fallback_after_s: float = 600.0


def facts(w: WarningRecord, catalog: Catalog) -> Facts:
    """The routing facts of a warning."""
    if w.vehicle_id:
        v = catalog.vehicles.get(w.vehicle_id)
        company = catalog.companies.get(v.company) if v else None
        return Facts(w.level, company.region if company else "", None, None,
                     v.company if v else None, True, w.drill)
    site = catalog.sites.get(w.site_id or "")
    return Facts(w.level, site.region if site else "", site.kind if site else None, w.site_id,
                 None, False, w.drill)


def matches(m: Match, f: Facts) -> bool:
    """Whether all the match's conditions hold."""
    return ((m.level_max is None or f.level <= m.level_max)
            and (m.region_prefix is None or f.region.startswith(m.region_prefix))
            and (m.site_kind is None or f.site_kind in m.site_kind)
            and (m.site is None or f.site in m.site)
            and (m.company is None or f.company in m.company)
            and (m.vehicle is None or f.vehicle == m.vehicle)
            and (m.drill is None or f.drill == m.drill)
            and (m.admin is None if f.admin is None else (m.admin is not None
                                                          and f.admin in m.admin)))


def route_for(root: Route, f: Facts) -> RouteSettings:
    """Walk down the tree taking the first matching child at each level."""
    node, chain = root, [root]
    while True:
        child = next((c for c in node.routes if matches(c.match, f)), None)
        if child is None:
            break
        node = child
        chain.append(child)

    def pick(attr: str, default: float) -> float:
        for r in reversed(chain):
            v = getattr(r, attr)
            if v is not None:
                return float(v)
        return default

    escalation = next(r.escalation for r in reversed(chain) if r.escalation is not None)
    return RouteSettings(" / ".join(r.name for r in chain), tuple(escalation),
                         pick("repeat_s", 300), pick("reminder_s", 1800),
                         pick("group_wait_s", 0), int(pick("rate_per_min", 30)),
                         pick("fallback_after_s", 600))
