"""The worker's hourly tallies (hw.seen-hourly) give the figures the readings give.

The store's side is played here by `Store`: it keeps the last record per series and time, as
InfluxDB does, and sums a period as the reader's query asks (seenread.read_seen).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import pytest

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.records import PointRecord, TelemetryRecord, encode
from hazardwatch.contracts.seen import SeenEntry, SeenRecord, parse
from hazardwatch.contracts.seen import text as seen_text
from hazardwatch.kpis.compute import Observed, compute
from hazardwatch.kpis.periods import Period, parse_time
from hazardwatch.kpis.seenread import read_seen, whole_hours
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.seen import Ledger, due, observe, observe_record
from hazardwatch.streams.sinks.line_protocol import seen as seen_line
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.worker.core import Tick, WorkerCore, encode_tick

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
T0 = parse_time("2026-11-30T00:00:00")  # a Beijing midnight (16:00 UTC: whole hours)


def catalog() -> Catalog:
    cat = Catalog()
    cat.add_site(msgspec.convert({
        "id": "s1", "name": "场所", "kind": "tank_farm", "grade": 2, "region": "150104",
        "location": {"lat": 40.0, "lon": 111.0}, "people": {"principal": {"name": "张伟"}},
        "devices": [{"id": "d1", "offline_timeout_s": 300, "sensors": [
            {"id": "p1", "metric": "temperature", "unit": "°C"},
            {"id": "p2", "metric": "temperature", "unit": "°C"}]}]}, Site))
    return cat


class Store:
    """The records as InfluxDB keeps them (series + time → last write) and the rows the
    reader's query gets back (per site, in time order, the entries as text)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], SeenRecord] = {}
        self.start = self.end = 0

    def write(self, recs: list[SeenRecord]) -> None:
        for r in recs:
            self.rows[(r.site_id, r.hour)] = r

    def query(self, q: str) -> Iterator[tuple[dict[str, str], list[str], list[list[Any]]]]:
        assert '"seen_hourly"' in q and 'GROUP BY "site"' in q
        by_site: dict[str, list[list[Any]]] = defaultdict(list)
        for (site, hour), r in sorted(self.rows.items(), key=lambda kv: kv[0][1]):
            if self.start <= hour < self.end:
                by_site[site].append([hour, seen_text(r)])
        for site, rows in by_site.items():
            yield {"site": site}, ["time", "entries"], rows

    def observed(self, cat: Catalog, p: Period) -> Observed:
        self.start, self.end = p.start, p.end
        obs = Observed()
        obs.points, obs.devices = read_seen(self.query, cat, "")
        return obs

    def entries(self) -> list[tuple[int, SeenEntry]]:
        return [(h, e) for (_, h), r in sorted(self.rows.items()) for e in r.entries]


def feed(cat: Catalog, ts_p1: np.ndarray, ts_p2: np.ndarray, store: Store) -> None:
    """One message per value (p1 and p2 in separate messages, in time order), then a tick
    long after."""
    ledger = Ledger()
    for t, sensor in sorted([(t, "p1") for t in ts_p1.tolist()]
                            + [(t, "p2") for t in ts_p2.tolist()]):
        store.write(observe_record(ledger, cat, TelemetryRecord(
            site_id="s1", device_id="d1", ts=t, points=[PointRecord(sensor, 1.0, t)],
            received_at=t)))
    store.write(due(ledger, "s1", T0 + 3 * DAY))


def minutes(a: int, b: int, *silences: tuple[int, int]) -> np.ndarray:
    """A value each minute from minute a to b (after T0) except in the silences."""
    return np.array([T0 + m * MIN for m in range(a, b)
                     if not any(x <= m < y for x, y in silences)], dtype=np.int64)


def rows_by_key(rows: list[Any]) -> dict[tuple[str, str, str], float]:
    return {(r.figure, r.scope, r.id): r.value for r in rows}


def test_a_day_from_tallies_equals_the_day_from_every_value() -> None:
    """p1 silent 41 min (values at 10:00 and 10:41): 36 min offline → 97.5 %, as in docs."""
    cat, store = catalog(), Store()
    p1, p2 = minutes(0, 1440, (601, 641)), minutes(0, 1380)  # p2 stops at 23:00
    feed(cat, p1, p2, store)
    day = Period("day", T0, T0 + DAY)
    from_tallies = rows_by_key(compute(cat, store.observed(cat, day), day))
    from_values = rows_by_key(compute(cat, Observed.from_times(
        cat, {("s1", "p1"): p1, ("s1", "p2"): p2}), day))
    assert from_tallies == from_values
    assert from_tallies[("online_rate_point", "point", "s1/p1")] == pytest.approx(0.975)
    # p2's last value 22:59: offline 23:04 → 24:00 = 56 min
    assert from_tallies[("online_rate_point", "point", "s1/p2")] == pytest.approx(1 - 56 / 1440)
    assert from_tallies[("online_rate_device", "device", "s1/d1")] == 1.0  # p1 covers p2


def test_a_silence_across_the_period_start_counts_from_the_last_value_before_it() -> None:
    """Shift 12:00–24:00; p1 last heard 11:50, next at 12:30: offline 12:00 → 12:30 (the
    store knows 11:50, so the first 5 minutes of the shift are not a grace)."""
    cat, store = catalog(), Store()
    feed(cat, minutes(0, 1440, (711, 750)), minutes(0, 1440), store)
    shift = Period("shift", T0 + 12 * HOUR, T0 + DAY)
    assert whole_hours(shift)
    got = rows_by_key(compute(cat, store.observed(cat, shift), shift))
    assert got[("online_rate_point", "point", "s1/p1")] == pytest.approx(1 - 30 / 720)
    assert got[("online_rate_point", "point", "s1/p2")] == 1.0
    # the shift's values: p1 690 (720 less the 30 minutes 12:00–12:29), p2 720
    assert store.observed(cat, shift).points[("s1", "p1")].count == 690


def test_open_hours_are_rewritten_and_late_or_repeated_values_are_not_counted() -> None:
    ledger, store = Ledger(), Store()
    for m in (0, 1, 2):
        assert observe(ledger, "s1", "d1/p1", T0 + m * MIN, 300_000, False) is None
    assert observe(ledger, "s1", "d1/p1", T0 + 2 * MIN, 300_000, False) is None  # repeated
    assert observe(ledger, "s1", "d1/p1", T0 + MIN, 300_000, False) is None  # late
    sent = due(ledger, "s1", T0 + 12 * MIN)  # 10 min after the first value: the open hour
    assert [(r.hour, [e.n for e in r.entries]) for r in sent] == [(T0, [3])]
    assert due(ledger, "s1", T0 + 30 * MIN) == []  # nothing new: not sent again
    store.write(sent)
    observe(ledger, "s1", "d1/p1", T0 + 20 * MIN, 300_000, False)  # 18 min silent: 13 off
    store.write(due(ledger, "s1", T0 + HOUR))
    assert [(h, e.first, e.last, e.n, e.off_ms) for h, e in store.entries()] == [
        (T0, T0, T0 + 20 * MIN, 4, 13 * MIN)]  # the rewrite replaced the open record
    observe(ledger, "s1", "d1/p1", T0 + 59 * MIN + 30_000, 300_000, True)  # late: next hour
    nxt = observe(ledger, "s1", "d1/p1", T0 + 70 * MIN, 300_000, True)
    assert nxt is None and ledger.hour == T0 + HOUR
    # 00:20 → 00:59:30 less 5 min, then 00:59:30 → 01:10 less 5 min: 34.5 + 5.5 min
    assert ledger.tallies["d1/p1"].off == 40 * MIN
    rec = observe(ledger, "s1", "d1/p1", T0 + 2 * HOUR, 300_000, True)  # closes 01:00–02:00
    assert rec is not None and rec.drill and rec.hour == T0 + HOUR
    assert rec.entries == [SeenEntry("d1/p1", T0 + 59 * MIN + 30_000, T0 + 70 * MIN, 2,
                                     T0 + 20 * MIN, 40 * MIN)]
    assert parse(rec.hour, seen_text(rec)) == rec.entries
    assert seen_line(rec) == (f'seen_hourly,site=s1 entries="d1/p1,-30000,{10 * MIN},2,'
                              f'{40 * MIN},{40 * MIN}",drill=true {T0 + HOUR}')


def test_the_worker_sends_the_tallies_of_an_hour_at_the_tick_after_it() -> None:
    from hazardwatch.contracts.catalog import load_catalog
    cat = load_catalog("deploy/catalog/demo.yaml")
    core = WorkerCore(Engine(cat, load_rules()), VehicleEngine(cat, load_vehicle_rules()),
                      started_at=0, grace_ms=0)
    rec = TelemetryRecord(site_id="tf-hohhot-01", device_id="gds-01", ts=T0 + MIN,
                          points=[PointRecord("T101-GAS1", 3.0, T0 + MIN),
                                  PointRecord("T101-TT", None, T0 + MIN, "bad")],
                          received_at=T0 + MIN)
    r = core.handle(None, "hw.telemetry", encode(rec))
    assert r.seen == []
    r = core.handle(r.state, "hw.ticks", encode_tick(Tick("tf-hohhot-01", T0 + HOUR)))
    assert [(s.site_id, s.hour, sorted((e.key, e.n) for e in s.entries)) for s in r.seen] == [
        ("tf-hohhot-01", T0, [("gds-01", 1), ("gds-01/T101-GAS1", 1)])]
