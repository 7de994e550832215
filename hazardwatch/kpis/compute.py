"""All figures of one period from what the stores hold (pure: the adapters read, this counts)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.daily import VehicleDayRecord
from hazardwatch.kpis.figures import nearest_rank
from hazardwatch.kpis.handling import DEFAULT_HANDLE_DEADLINE_S, Handling, handling_figures
from hazardwatch.kpis.online import Seen, offline_of, seen
from hazardwatch.kpis.periods import Period
from hazardwatch.kpis.rows import KpiRow
from hazardwatch.kpis.vehicles import vehicle_figures

Times = npt.NDArray[np.int64]


@dataclass
class Observed:
    """What the stores hold for one period, read by an adapter (times in UTC ms, sorted)."""

    points: dict[tuple[str, str], Seen] = field(default_factory=dict)  # (site, sensor)
    devices: dict[tuple[str, str], Seen] = field(default_factory=dict)  # (site, device)
    rejected: dict[str, int] = field(default_factory=dict)  # site → values refused
    #: (scope, id) pairs the warning counts in (site or company, region), and its handling
    handling: list[tuple[tuple[tuple[str, str], ...], Handling]] = field(default_factory=list)
    vehicle_days: list[VehicleDayRecord] = field(default_factory=list)
    #: vehicle_days are the sums of the period's hourly records (figures for any period), not
    #: the engine's day records (figures for a day only)
    vehicle_hours: bool = False


    @classmethod
    def from_times(cls, catalog: Catalog, values: dict[tuple[str, str], Times]) -> Observed:
        """Points and devices from the value times of each point (site, sensor)."""
        obs = cls()
        for (site, sensor), ts in values.items():
            s = seen(ts)
            if s is not None:
                obs.points[(site, sensor)] = s
        for (site, dev_id), dev in catalog.devices.items():
            parts = [values[(site, x.id)] for x in dev.sensors if (site, x.id) in values]
            s = seen(np.sort(np.concatenate(parts))) if parts else None
            if s is not None:
                obs.devices[(site, dev_id)] = s
        return obs


class _Sum:
    """num and den of one figure per scope id, summed."""

    def __init__(self) -> None:
        self.num: dict[tuple[str, str], float] = defaultdict(float)
        self.den: dict[tuple[str, str], float] = defaultdict(float)

    def add(self, key: tuple[str, str], num: float, den: float) -> None:
        self.num[key] += num
        self.den[key] += den

    def rows(self, figure: str, p: Period) -> list[KpiRow]:
        return [KpiRow(figure, k[0], k[1], p.kind, p.start, self.num[k] / d, self.num[k], d)
                for k, d in self.den.items() if d > 0]


def compute(catalog: Catalog, obs: Observed, p: Period, points: bool = True,
            deadline_s: Mapping[int, int] = DEFAULT_HANDLE_DEADLINE_S) -> list[KpiRow]:
    """Every figure of period p per point/device/site/region (sites) and company/region
    (vehicles); points=False leaves out the per-point rows (their site sums stay)."""
    span = p.end - p.start
    rows: list[KpiRow] = []
    on_point, on_device, access, valid = _Sum(), _Sum(), _Sum(), _Sum()
    for site in catalog.sites.values():
        keys = (("site", site.id), ("region", site.region), ("all", "all"))
        n_valid = 0
        for dev in site.devices:
            if not dev.sensors:
                continue  # cameras: their events are not values (not in these figures)
            timeout = dev.offline_timeout_s * 1000
            for s in dev.sensors:
                got = obs.points.get((site.id, s.id))
                online = span - offline_of(got, p.start, p.end, timeout)
                if points:
                    rows.append(KpiRow("online_rate_point", "point", f"{site.id}/{s.id}",
                                       p.kind, p.start, online / span, online, span))
                for k in keys:
                    on_point.add(k, online, span)
                n_valid += got.count if got else 0
            merged = obs.devices.get((site.id, dev.id))
            online = span - offline_of(merged, p.start, p.end, timeout)
            rows.append(KpiRow("online_rate_device", "device", f"{site.id}/{dev.id}", p.kind,
                               p.start, online / span, online, span))
            for k in keys:
                on_device.add(k, online, span)
                access.add(k, 1 if merged else 0, 1)
        refused = obs.rejected.get(site.id, 0)
        for k in keys:
            valid.add(k, n_valid, n_valid + refused)
    for figure, acc in (("online_rate_point", on_point), ("online_rate_device", on_device),
                        ("access_rate", access), ("data_valid_rate", valid)):
        rows += acc.rows(figure, p)
    rows += _handling_rows(obs, p, deadline_s)
    if p.kind == "day" or obs.vehicle_hours:  # the engine's day records, or its hours summed
        rows += _vehicle_rows(catalog, obs, p)
    return rows


def _handling_rows(obs: Observed, p: Period, deadline_s: Mapping[int, int]) -> list[KpiRow]:
    groups: dict[tuple[str, str], list[Handling]] = defaultdict(list)
    for scopes, h in obs.handling:
        groups[("all", "all")].append(h)
        for key in scopes:
            groups[key].append(h)
    rows: list[KpiRow] = []
    for (scope, ident), items in groups.items():
        f = handling_figures(items, deadline_s)
        for name, value, num, den in (
                ("handled_rate", f.handled_rate, f.handled, f.raised),
                ("handled_in_time_rate", f.handled_in_time_rate, f.handled_in_time, f.raised),
                ("false_alarm_share", f.false_alarm_share, f.false_or_fault, f.handled)):
            if value is not None:
                rows.append(KpiRow(name, scope, ident, p.kind, p.start, value, num, den))
        for which, times in (("ack", f.ack_s), ("handle", f.handle_s)):
            for level in sorted(times):
                for pct in (50, 90):
                    v = nearest_rank(times[level], pct)
                    if v is not None:
                        rows.append(KpiRow(f"{which}_p{pct}_s", scope, ident, p.kind, p.start,
                                           v, level=level))
    return rows


def _vehicle_rows(catalog: Catalog, obs: Observed, p: Period) -> list[KpiRow]:
    by_scope: dict[tuple[str, str], list[VehicleDayRecord]] = defaultdict(list)
    fleet: dict[tuple[str, str], int] = defaultdict(int)
    for v in catalog.vehicles.values():
        company = catalog.companies.get(v.company)
        for key in (("company", v.company), ("region", company.region if company else ""),
                    ("all", "all")):
            if key[1]:
                fleet[key] += 1
    for d in obs.vehicle_days:
        company = catalog.companies.get(d.company)
        by_scope[("company", d.company)].append(d)
        by_scope[("all", "all")].append(d)
        if company:
            by_scope[("region", company.region)].append(d)
    rows: list[KpiRow] = []
    for key, n in fleet.items():
        f = vehicle_figures(by_scope.get(key, []), n)
        for name, value, num, den in (
                ("vehicle_online_rate", f.online_rate, f.online, f.vehicles),
                ("track_complete_rate", f.track_complete_rate, f.complete_m,
                 f.complete_m + f.incomplete_m),
                ("drift_rate", f.drift_rate, f.drift, f.positions)):
            if value is not None:
                rows.append(KpiRow(name, key[0], key[1], p.kind, p.start, value, num, den))
    return rows
