"""A worker frozen (SIGSTOP) 60 s while a second runs, gas alarms on every partition.

Promises: the surviving worker raises the frozen worker's gas alarms within 15 s of their due
time (standby replicas, 10 s session timeout); no raise is repeated; after SIGCONT the frozen
worker rejoins (it restarts itself in place if it was fenced) and both are alive 30 s later.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.faults import worker_freeze


def test_worker_frozen_60_s_while_a_second_runs(tmp_path: Path) -> None:
    r = worker_freeze(tmp_path / "worker", devices=60, freeze_s=60)
    print(json.dumps(r))
    assert r["gas_alarms_in_window"] > 20, r
    assert r["worker_failover_max_delay_s"] is not None
    assert r["worker_failover_max_delay_s"] < 15, r
    assert r["repeated_raises"] == 0, r
    assert r["both_workers_alive_30s_after_sigcont"], r
