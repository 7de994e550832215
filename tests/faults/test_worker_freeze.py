"""A worker frozen (SIGSTOP) 60 s while a second runs, gas alarms on every partition.

Promises asserted: no raise is repeated, and after SIGCONT the frozen worker rejoins (it
restarts itself in place when it was fenced) so both workers are alive 30 s later. The longest
delay of a gas alarm during the freeze is printed with the survivor's timeline; the issue's
target (< 15 s) is NOT met by default yet (17.6 s measured with a 6 s session timeout, 11 s of
it Faust's changelog restore), so it is not asserted: see docs/notes/issue-22.md, "Fail-over".
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.worker_failover import worker_freeze


def test_worker_frozen_60_s_both_rejoin_and_nothing_repeats(tmp_path: Path) -> None:
    r = worker_freeze(tmp_path / "worker", devices=60, freeze_s=60)
    print(json.dumps(r))
    assert r["gas_alarms_in_window"] > 20, r
    assert r["worker_failover_max_delay_s"] is not None, r
    assert r["repeated_raises"] == 0, r
    assert r["both_workers_alive_after_sigcont"], r
