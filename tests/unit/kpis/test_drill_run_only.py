"""A drill run's figures are its own: the run's scenario start differs from an earlier run's
of the same day (so its warning ids do too), and the reader counts only the run's warnings
and people's actions from its wall start (an earlier run and another drill of the same
period, whose rows InfluxDB still holds, do not mix in)."""

from __future__ import annotations

from typing import Any

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.kpis.compute import Observed
from hazardwatch.kpis.influxread import InfluxReader
from hazardwatch.kpis.periods import Period
from hazardwatch.simulators.player import run_start, start_ms
from hazardwatch.simulators.scenario import load_scenario
from tests.unit.kpis.test_handling_from_push import Reply

CAT = load_catalog("deploy/catalog/demo.yaml")
NOW = 1_796_100_000_000  # 2026-12-01 12:40 local
MIN = 60_000


class Influx:
    """Answers the reader's two handling queries from rows held here (like InfluxDB would:
    the actions query's time bounds applied)."""

    def __init__(self, warnings: list[tuple[str, int]], actions: list[tuple[str, str, int]]
                 ) -> None:
        self.warnings, self.actions, self.queries = warnings, actions, list[str]()

    def post(self, url: str, timeout: float, params: dict[str, str]) -> Any:
        q = params["q"]
        self.queries.append(q)
        if '"warning"' in q:
            series = [{"tags": {"site": "tf-hohhot-01", "vehicle": ""},
                       "columns": ["time", "warning_id", "level_value", "started_at"],
                       "values": [[at, wid, 2, at] for wid, at in self.warnings]}]
        else:
            lo = int(q.split("time >= ")[1].split("ms")[0])
            hi = int(q.split("time < ")[1].split("ms")[0])
            groups: dict[tuple[str, str], list[list[Any]]] = {}
            for wid, what, at in self.actions:
                if lo <= at < hi:
                    groups.setdefault((wid, what), []).append(
                        [at, True, "c" if what == "resolve" else None, None])
            series = [{"tags": {"warning_id": wid, "action": what},
                       "columns": ["time", "drill", "cause", "verdict"], "values": v}
                      for (wid, what), v in groups.items()]
        return Reply({"results": [{"series": series}]})


def test_two_runs_of_a_scenario_on_the_same_day_start_apart_and_before_now() -> None:
    sc = load_scenario("combined", CAT)
    first, second = run_start(sc, NOW), run_start(sc, NOW + 141_000)  # a run later
    assert first != second and abs(first - second) < MIN  # 20:00:ss of the same evening
    assert start_ms(sc, NOW) - MIN < first < start_ms(sc, NOW) + MIN
    for now in (NOW, NOW + 141_000):
        assert run_start(sc, now) + sc.duration_min * MIN <= now
    end = start_ms(sc, NOW) + int(sc.duration_min * MIN)  # just after the drill's end: the
    assert run_start(sc, end + 5_000) + sc.duration_min * MIN <= end + 5_000  # day before


def test_the_reader_counts_only_the_runs_warnings_and_actions_since_its_start() -> None:
    period = Period("shift", NOW - 12 * 60 * MIN, NOW)
    began = NOW + 10 * MIN  # the wall start of this run (the scenario clock is in the past)
    rows = Influx(
        warnings=[("W-run-1", NOW - 60 * MIN), ("W-run-2", NOW - 50 * MIN),
                  ("W-earlier-run", NOW - 60 * MIN + 7_000), ("W-other-drill", NOW - 9 * MIN)],
        actions=[("W-run-1", "ack", NOW + 2 * MIN),  # an earlier run's action on a shared id
                 ("W-run-1", "ack", began + 5_000), ("W-run-1", "resolve", began + 9_000),
                 ("W-earlier-run", "resolve", NOW + 3 * MIN),
                 ("W-other-drill", "resolve", NOW + 4 * MIN)])
    reader = InfluxReader("http://x", "db", CAT, drill=True, session=rows,  # type: ignore[arg-type]
                          only=frozenset({"W-run-1", "W-run-2"}), acted_from=began)
    obs = Observed()
    reader._handling(obs, period, began + 60 * MIN)
    got = {h.warning_id: (h.acked_at, h.handled_at) for _, h in obs.handling}
    assert got == {"W-run-1": (began + 5_000, began + 9_000), "W-run-2": (None, None)}
    everyone = InfluxReader("http://x", "db", CAT, drill=True, session=rows)  # type: ignore[arg-type]
    obs = Observed()
    everyone._handling(obs, period, began + 60 * MIN)
    assert len(obs.handling) == 4  # what the drill's figures counted before
    assert {h.warning_id: h.acked_at for _, h in obs.handling}["W-run-1"] == NOW + 2 * MIN
