"""Points and devices of a period from the worker's hourly tallies (`seen_hourly`).

A day of a site is 24 rows (one text field each) instead of every value; the entries of each
point and device are summed here. Exact for periods of whole hours (a record holds the
values of one hour, but for late values): the silence that ends at a point's first value in
the period is clipped to the period, the silence after its last value runs to the period's
end (`offline_of`), the others are inside the period (`off_ms`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.seen import parse
from hazardwatch.kpis.online import Seen
from hazardwatch.kpis.periods import Period
from hazardwatch.streams.seen import HOUR_MS
from hazardwatch.streams.sinks.line_protocol import RP_EVENTS

Query = Callable[[str], Iterator[tuple[dict[str, str], list[str], list[list[Any]]]]]


def whole_hours(p: Period) -> bool:
    """Whether the tallies give the period exactly."""
    return p.start % HOUR_MS == 0 and p.end % HOUR_MS == 0


def any_tallies(query: Query, when: str) -> bool:
    """Whether the store holds tallies in the period (a worker that writes them ran)."""
    return any(rows for _, _, rows in query(
        f'SELECT "entries" FROM "{RP_EVENTS}"."seen_hourly" WHERE {when} LIMIT 1'))


def read_seen(query: Query, catalog: Catalog, when: str
              ) -> tuple[dict[tuple[str, str], Seen], dict[tuple[str, str], Seen]]:
    """(points by (site, sensor), devices by (site, device)) seen in the period."""
    acc: dict[tuple[str, str], list[int]] = {}  # (site, key) → [first, last, n, prev, off]
    for tags, _, rows in query(f'SELECT "entries" FROM "{RP_EVENTS}"."seen_hourly" WHERE '
                               f'{when} GROUP BY "site"'):
        site = tags.get("site", "")
        for hour, field in rows:  # in time order
            for e in parse(int(hour), field or ""):
                a = acc.get((site, e.key))
                if a is None:
                    acc[(site, e.key)] = [e.first, e.last, e.n, e.prev, e.off_ms]
                else:
                    a[1], a[2], a[4] = max(a[1], e.last), a[2] + e.n, a[4] + e.off_ms
    points: dict[tuple[str, str], Seen] = {}
    devices: dict[tuple[str, str], Seen] = {}
    for (site, key), (first, last, n, prev, off) in acc.items():
        dev_id, _, sensor = key.partition("/")
        dev = catalog.devices.get((site, dev_id))
        if dev is None:
            continue
        seen = _seen(first, last, n, prev, off, dev.offline_timeout_s * 1000)
        if sensor:
            points[(site, sensor)] = seen
        else:
            devices[(site, dev_id)] = seen
    return points, devices


def _seen(first: int, last: int, n: int, prev: int, off: int, timeout_ms: int) -> Seen:
    """Seen whose one gap stands for the offline time inside the period after its first value
    (off of its entries less the silence that ends at the first value, which offline_of
    clips to the period from `before`)."""
    entry = max(0, first - prev - timeout_ms) if prev else 0
    return Seen(first, last, n, np.array([off - entry + timeout_ms], dtype=np.int64),
                before=prev or None)
