"""The handling figures' clock starts at the warning's push (its Kafka append time, kept by the
sink as `pushed_at`): a drill replayed on a past scenario clock gets the times its people
took, as its drill report does; a row written before the sink kept it falls back to the
episode's start (as before)."""

from __future__ import annotations

from typing import Any

from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_NOT_AVAILABLE

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.warnings import WarningRecord, encode_warning
from hazardwatch.kpis.compute import Observed, compute
from hazardwatch.kpis.handling import handling_start
from hazardwatch.kpis.influxread import InfluxReader
from hazardwatch.kpis.periods import Period
from hazardwatch.streams.sinks.influx import InfluxSink, InfluxTarget
from hazardwatch.streams.sinks.line_protocol import warning
from hazardwatch.streams.sinks.runner import SinkRunner, SinkSettings

CAT = load_catalog("deploy/catalog/demo.yaml")
NOW = 1_796_100_000_000  # 2026-12-01 12:40 local
MIN, HOUR = 60_000, 3_600_000
DRILL_DEADLINES = {1: 20, 2: 20, 3: 20, 4: 20}  # deploy/scenarios/workflow/drill.yaml


def _w(wid: str = "W1", started: int = NOW - HOUR) -> WarningRecord:
    return WarningRecord(warning_id=wid, transition="raised", ts=started + 30_000, level=2,
                         colour="orange", rule="tank_farm.gas.threshold", kind="threshold",
                         site_id="tf-hohhot-01", device_id="gds-01", sensor="GT-101",
                         vehicle_id=None, value=30.0, threshold=25.0, unit="%LEL",
                         started_at=started, message="m", drill=True)


class Influx:
    """Answers the reader's two handling queries from rows held here: warnings (id, level,
    started_at, pushed_at or None: a row from before the field) and actions (id, what, at)."""

    def __init__(self, warnings: list[tuple[str, int, int, int | None]],
                 actions: list[tuple[str, str, int]], with_column: bool = True) -> None:
        self.warnings, self.actions, self.with_column = warnings, actions, with_column

    def post(self, url: str, timeout: float, params: dict[str, str]) -> Any:
        q = params["q"]
        if '"warning"' in q:
            assert '"pushed_at"' in q
            cols = ["time", "warning_id", "level_value", "started_at"]
            rows = [[s + 30_000, wid, lvl, s] + ([p] if self.with_column else [])
                    for wid, lvl, s, p in self.warnings]
            series = [{"tags": {"site": "tf-hohhot-01", "vehicle": ""},
                       "columns": cols + (["pushed_at"] if self.with_column else []),
                       "values": rows}]
        else:
            groups: dict[tuple[str, str], list[list[Any]]] = {}
            for wid, what, at in self.actions:
                groups.setdefault((wid, what), []).append([at, True, None, "real"])
            series = [{"tags": {"warning_id": wid, "action": what},
                       "columns": ["time", "drill", "cause", "verdict"], "values": v}
                      for (wid, what), v in groups.items()]
        return Reply({"results": [{"series": series}]})


class Reply:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def raise_for_status(self) -> None:
        pass

    def json(self) -> dict[str, Any]:
        return self.body


def _figures(rows: Influx, p: Period, deadlines: dict[int, int] | None = None
             ) -> dict[str, float]:
    reader = InfluxReader("http://x", "db", CAT, drill=True, session=rows)  # type: ignore[arg-type]
    obs = Observed()
    reader._handling(obs, p, NOW + 2 * HOUR)
    got = compute(CAT, obs, p, False, deadlines) if deadlines else compute(CAT, obs, p, False)
    return {r.figure + (f"{r.level}" if r.level else ""): r.value for r in got
            if r.scope == "all"}


def test_the_line_keeps_the_push_time_only_when_known() -> None:
    assert warning(_w(), None, NOW).endswith(f",pushed_at={NOW}i {NOW - HOUR + 30_000}")
    assert "pushed_at" not in warning(_w()) and "pushed_at" not in warning(_w(), None, 0)


def test_the_sink_writes_the_kafka_timestamp_of_a_warning_as_pushed_at() -> None:
    sink = InfluxSink(InfluxTarget(url="http://x", db="db"), CAT)
    sink.add("drill-x.hw.warnings", encode_warning(_w()), NOW + 123)
    sink.add("hw.warnings", encode_warning(_w("W2")))
    first, second = sink.batches["events_1096d"]
    assert f"pushed_at={NOW + 123}i" in first and "pushed_at" not in second


def test_a_repeated_warning_record_keeps_its_first_push_time() -> None:
    """The worker's output is at least once: a repeat of the same raised record, appended
    later, overwrites the InfluxDB row; it must carry the first push, not its own."""
    sink = InfluxSink(InfluxTarget(url="http://x", db="db"), CAT)
    sink.add("hw.warnings", encode_warning(_w()), NOW + 100)
    sink.add("hw.warnings", encode_warning(_w()), NOW + 9_000)  # the repeat
    sink.add("hw.warnings", encode_warning(_w("W2")), NOW + 9_000)  # another warning
    first, repeat, other = sink.batches["events_1096d"]
    assert f"pushed_at={NOW + 100}i" in first and f"pushed_at={NOW + 100}i" in repeat
    assert f"pushed_at={NOW + 9_000}i" in other


class Msg:
    def __init__(self, kind: int, at: int) -> None:
        self.kind, self.at = kind, at

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return "hw.warnings"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return 4

    def value(self) -> bytes:
        return b"{}"

    def timestamp(self) -> tuple[int, int]:
        return self.kind, self.at


class Sink:
    def __init__(self) -> None:
        self.got: list[int | None] = []

    def add(self, topic: str, value: bytes, appended_at: int | None = None) -> None:
        self.got.append(appended_at)


def test_the_runner_hands_the_record_timestamp_to_the_sink() -> None:
    sink = Sink()
    r = SinkRunner(SinkSettings(kafka_bootstrap="127.0.0.1:1", topics=("hw.warnings",)),
                   sink)  # type: ignore[arg-type]
    try:
        r._take(Msg(TIMESTAMP_CREATE_TIME, NOW))  # type: ignore[arg-type]
        r._take(Msg(TIMESTAMP_NOT_AVAILABLE, -1))  # type: ignore[arg-type]
    finally:
        r.consumer.close()
    assert sink.got == [NOW, None] and r.read == {("hw.warnings", 0): 5}


def test_handling_start_is_the_push_else_the_episode_start() -> None:
    assert handling_start(NOW - HOUR, NOW) == NOW
    assert handling_start(NOW - HOUR, None) == NOW - HOUR == handling_start(NOW - HOUR, 0)


def test_a_drill_on_a_past_scenario_clock_is_timed_from_each_push() -> None:
    """Scenario clock 14 h before the wall clock (a drill's 20:00 replayed the next
    morning): 签收 3–5 s and 处置 9–25 s after each push, as the stand-ins took them; one
    warning nobody took. Before: 签收 ≈ 14 h, and none 及时 by the drill's 20 s deadline."""
    scenario, wall = NOW - 14 * HOUR, NOW
    rows = Influx(
        warnings=[("W1", 2, scenario, wall), ("W2", 2, scenario + 5 * MIN, wall + 3_000),
                  ("W3", 2, scenario + 9 * MIN, wall + 5_500),
                  ("W4", 2, scenario + 12 * MIN, wall + 7_000)],
        actions=[("W1", "ack", wall + 3_000), ("W1", "resolve", wall + 9_000),
                 ("W2", "ack", wall + 7_000), ("W2", "verify", wall + 8_000),
                 ("W2", "resolve", wall + 15_000), ("W3", "ack", wall + 10_500),
                 ("W3", "resolve", wall + 30_500)])
    shift = Period("shift", scenario - HOUR, scenario + 11 * HOUR)
    f = _figures(rows, shift, DRILL_DEADLINES)
    assert f["ack_p50_s2"] == 4.0 and f["ack_p90_s2"] == 5.0  # 3, 4, 5 s
    assert f["handle_p50_s2"] == 12.0 and f["handle_p90_s2"] == 25.0  # 9, 12, 25 s
    assert f["handled_rate"] == 3 / 4 and f["handled_in_time_rate"] == 2 / 4  # 25 s > 20 s
    rows.warnings = [(w, lvl, s, None) for w, lvl, s, _ in rows.warnings]  # as before
    before = _figures(rows, shift, DRILL_DEADLINES)
    assert before["ack_p50_s2"] > 13 * 3600 and before["handled_in_time_rate"] == 0


def test_a_live_warning_from_before_the_field_is_timed_as_before() -> None:
    """No pushed_at column at all (every row of the period older than the field): the
    episode's start, as the figures were computed before; a live row with it: the push,
    which for live data lies shortly after the episode start (the rule's hold, latency)."""
    old = Influx(warnings=[("W1", 1, NOW - HOUR, None)],
                 actions=[("W1", "ack", NOW - HOUR + 60_000),
                          ("W1", "resolve", NOW - HOUR + 40 * MIN)], with_column=False)
    p = Period("day", NOW - 12 * HOUR, NOW + 12 * HOUR)
    f = _figures(old, p)
    assert f["ack_p50_s1"] == 60.0 and f["handle_p50_s1"] == 2400.0
    assert f["handled_in_time_rate"] == 0.0  # 40 min > 一级 30 min
    new = Influx(warnings=[("W1", 1, NOW - HOUR, NOW - HOUR + 12 * MIN)],
                 actions=[("W1", "ack", NOW - HOUR + 13 * MIN),
                          ("W1", "resolve", NOW - HOUR + 40 * MIN)])
    g = _figures(new, p)
    assert g["ack_p50_s1"] == 60.0 and g["handle_p50_s1"] == 1680.0  # 28 min
    assert g["handled_in_time_rate"] == 1.0
