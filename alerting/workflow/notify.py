"""Who is told of a 督办: the supervising and the supervised duty, each routed through the
alerting config's routes that match on `admin` (the administrative level) and the region code
(pure: the service sends what this returns)."""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.alerting.config import Route
from hazardwatch.alerting.routing import Facts, matches
from hazardwatch.alerting.workflow.case import Supervision
from hazardwatch.contracts.catalog import Catalog

BELOW = {"county": "enterprise", "city": "county", "province": "city"}


@dataclass(frozen=True, slots=True)
class Target:
    """One duty to tell of a 督办: its routing facts, the route taken and its receivers."""

    facts: Facts
    route: str  # the route's path ("" when no 督办 route matched)
    receivers: tuple[str, ...]


def duty_facts(s: Supervision, level: int, site_id: str, drill: bool, catalog: Catalog
               ) -> list[Facts]:
    """The supervising duty (level `s.admin`) and the supervised one (the level below; the
    enterprise is the site itself) as routing facts."""
    out = [Facts(level, s.from_region.removeprefix("region:"), None, None, None, False, drill,
                 s.admin)]
    if s.to_region.startswith("site:"):
        site = catalog.sites.get(s.to_region.removeprefix("site:"))
        out.append(Facts(level, site.region if site else "", site.kind if site else None,
                         site.id if site else site_id, None, False, drill, "enterprise"))
    else:
        out.append(Facts(level, s.to_region.removeprefix("region:"), None, None, None, False,
                         drill, BELOW[s.admin]))
    return out


def target(root: Route, f: Facts) -> Target:
    """The deepest route whose `admin` match takes these facts, and its first receivers (a
    督办 is one message per duty, not an escalation series)."""
    node, names, esc = root, [root.name], None
    while True:
        child = next((c for c in node.routes if matches(c.match, f)), None)
        if child is None:
            break
        node = child
        names.append(child.name)
        if child.escalation:
            esc = child.escalation
    if len(names) == 1 or esc is None:
        return Target(f, "", ())
    first = tuple(dict.fromkeys(x for st in esc if st.after_s == 0 for x in st.receivers))
    return Target(f, " / ".join(names), first)
