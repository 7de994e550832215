"""InfluxDB stopped (SIGTERM) for 60 s under load, on the session's fault stack (conftest.py).

Moved here from tests/integration/test_sink_outage.py and now counted by seq: 50 devices every
0.5 s, a tenth of them raising and clearing a gas alarm during the outage. Promises: every
acknowledged message is in InfluxDB (by site and time) within 60 s of InfluxDB's return, every
warning on hw.warnings is in InfluxDB too, and the sink paused and stayed alive.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.fault_influx import influx_outage
from bench.fault_stack import FaultStack
from tests.faults.conftest import BLOCK


def test_influxdb_stopped_60_s_loses_no_reading_and_no_warning(tmp_path: Path,
                                                              fault_stack: FaultStack) -> None:
    r = influx_outage(tmp_path / "influx", devices=50, outage_s=60, fs=fault_stack,
                      first_site=BLOCK["influx"])
    print(json.dumps(r))
    assert r["acked"] > 0 and r["lost"] == 0, r
    assert r["recovered_after_return_s"] is not None and r["recovered_after_return_s"] <= 60, r
    assert r["warnings"] >= 2, r  # raised and cleared in the outage
    assert r["warnings_missing_in_influx"] == 0 and r["warnings_stored"], r
    assert r["sink_alive"] and r["sink_paused"], r
