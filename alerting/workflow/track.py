"""The service's alerts through the workflow's deadlines: 督办 opened and pushed up the chain
for alerts not handled in time (the adapter between `state.Alert` and `case.Case`)."""

from __future__ import annotations

from typing import Any

from hazardwatch.alerting.state import Alert
from hazardwatch.alerting.workflow.case import Case, Notice, Verdict
from hazardwatch.alerting.workflow.config import WorkflowConfig
from hazardwatch.contracts.catalog import Catalog


def region_of(a: Alert, catalog: Catalog) -> str:
    """The GB/T 2260 code the chain starts from: the site's, or the vehicle's company's."""
    w = a.warning
    site = catalog.sites.get(w.site_id or "")
    if site is not None:
        return site.region
    v = catalog.vehicles.get(w.vehicle_id or "")
    c = catalog.companies.get(v.company) if v else None
    return c.region if c else ""


def case_of(a: Alert, catalog: Catalog) -> Case:
    """The alert as a workflow case: the 核查 step when it was taken, else a 处置 (with its
    verdict) is the 核查 and the 处置."""
    c = Case(a.warning.warning_id, a.level, region_of(a, catalog), a.opened_at,
             site_id=a.warning.site_id or a.warning.vehicle_id or "", cleared_at=a.cleared_at)
    if a.acked_at is not None:
        c.acked = (a.acked_by or "", a.acked_at)
    if a.verified_at is not None:
        c.verified = (a.verified_by or "", a.verified_at, _verdict(a.verdict),
                      a.verify_note or "")
    elif a.handled_at is not None:
        c.verified = (a.handled_by or "", a.handled_at, _verdict(a.verdict), "")
    if a.handled_at is not None:
        c.handled = (a.handled_by or "", a.handled_at, a.cause or "", a.action or "")
    if a.closed_at is not None:
        c.closed = (a.closed_by or "", a.closed_at)
    c.supervisions = list(a.supervisions)
    c.missed = set(a.missed)  # type: ignore[arg-type]
    return c


def _verdict(v: str | None) -> Verdict:
    return "false_alarm" if v == "false_alarm" else "sensor_fault" if v == "sensor_fault" \
        else "real"


def track(a: Alert, catalog: Catalog, cfg: WorkflowConfig, now: int) -> list[Notice]:
    """Run the deadlines of one alert at `now`, raised or cleared, until its 销号; the 督办
    opened are kept on the alert."""
    return track_due(a, catalog, cfg, now)[0]


NEVER = 2**62


def track_due(a: Alert, catalog: Catalog, cfg: WorkflowConfig, now: int
              ) -> tuple[list[Notice], int]:
    """`track`, and when the alert's next deadline falls (NEVER: none unless it changes): the
    service looks at the alert again only then, so thousands of kept alerts cost a dict
    look-up each per step instead of a `Case` each."""
    if a.closed_at is not None or not region_of(a, catalog):
        return [], NEVER
    c = case_of(a, catalog)
    notices = c.tick(now, cfg)
    if notices:  # a step missed without a notice (a 督办 already open) is found again
        a.supervisions, a.missed = c.supervisions, sorted(c.missed)
    due = c.next_deadline(cfg)
    return notices, NEVER if due is None else due


def event(a: Alert, n: Notice, now: int) -> dict[str, Any]:
    """The 督办 as an event on hw.alert-actions (the sink writes it; the shift report reads it)."""
    s = a.supervisions[-1]
    return {"action": "supervise", "warning_id": a.warning.warning_id, "level": a.level,
            "at": now, "who": s.from_region, "receiver": s.to_region, "reason": n.text,
            "delivery_id": s.id, "kind": s.admin, "deadline": s.deadline,
            "drill": a.warning.drill}
