"""Judges a drill: every expected warning detected in time at the right level, and what else came.

Pure: the scenario, its start time and the warning records in, a verdict out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.simulators.scenario import Scenario, subject_of


@dataclass(frozen=True)
class Outcome:
    """One expectation of one incident and what the pipeline did about it."""

    incident: str
    title: str
    rule: str
    subject: str
    expected_level: int
    within_s: float
    detected: bool
    level: int | None
    latency_s: float | None  # event time of the first raise − the incident's start
    warning_id: str | None
    message: str | None

    @property
    def ok(self) -> bool:
        """Detected in time at the expected level."""
        return self.detected and self.level == self.expected_level


@dataclass
class Evaluation:
    """The verdict of a drill."""

    outcomes: list[Outcome]
    unexpected: list[WarningRecord] = field(default_factory=list)  # first record of each

    @property
    def ok(self) -> bool:
        """Every expectation met and nothing unexpected raised."""
        return all(o.ok for o in self.outcomes) and not self.unexpected


def evaluate(sc: Scenario, start: int, warnings: list[WarningRecord]) -> Evaluation:
    """Match warning transitions to the scenario's expectations."""
    rising = [w for w in warnings if w.transition in ("raised", "upgraded")]
    outcomes, matched = [], set()
    for inc in sc.incidents:
        t0 = start + int(inc.at_min * 60_000)
        for e in inc.expect:
            subject = subject_of(inc, e)
            deadline = t0 + int(e.within_s * 1000)
            hits = [w for w in rising if w.rule == e.rule and w.subject == subject
                    and w.started_at >= t0 - 60_000 and w.ts <= deadline]
            first = min(hits, key=lambda w: w.ts) if hits else None
            matched |= {w.warning_id for w in hits}
            outcomes.append(Outcome(
                inc.id, inc.title, e.rule, subject, e.level, e.within_s, bool(hits),
                min(w.level for w in hits) if hits else None,
                (first.ts - t0) / 1000 if first else None,
                first.warning_id if first else None, first.message if first else None))
    # an episode that an expectation matched later (after its window) is not unexpected
    expected_keys = {(e.rule, subject_of(i, e)) for i in sc.incidents for e in i.expect}
    seen, unexpected = set(), []
    for w in sorted(rising, key=lambda w: w.ts):
        if w.warning_id in matched or w.warning_id in seen:
            continue
        seen.add(w.warning_id)
        if w.rule.endswith(".never_connected") and not _in_fleet(sc, w.site_id, w.vehicle_id):
            continue  # a site or vehicle the drill does not play: silent by design
        if (w.rule, w.subject) not in expected_keys:
            unexpected.append(w)
    return Evaluation(outcomes, unexpected)


def _in_fleet(sc: Scenario, site_id: str | None, vehicle_id: str | None) -> bool:
    if vehicle_id is not None:
        return sc.fleet.vehicles is None or vehicle_id in sc.fleet.vehicles
    return sc.fleet.sites is None or site_id in sc.fleet.sites
