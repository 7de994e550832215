"""Throttle: one log line per kind of connection error a minute."""

from __future__ import annotations

import logging

from hazardwatch.connection_log import Throttle


def test_throttle_lets_one_line_of_a_kind_through_a_minute_and_counts_the_rest() -> None:
    now = [0.0]
    t = Throttle(("aiokafka",), every_s=60, clock=lambda: now[0])

    def rec(name: str, port: int, level: int = logging.ERROR) -> logging.LogRecord:
        return logging.LogRecord(name, level, "f", 1, "Unable connect to node %d: %s", (1, port),
                                 None)

    assert t.filter(rec("aiokafka.conn", 1))
    assert not any(t.filter(rec("aiokafka.conn", p)) for p in range(2, 1000))
    assert t.filter(rec("faust.worker", 5))  # other loggers pass
    assert t.filter(rec("aiokafka.conn", 5, logging.INFO))  # below WARNING passes
    now[0] = 61
    r = rec("aiokafka.conn", 7)
    assert t.filter(r) and r.getMessage().endswith("(998 like it held back)")
