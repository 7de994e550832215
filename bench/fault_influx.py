"""InfluxDB stopped under load, counting every reading by its device's `seq`.

Devices publish every 0.5 s (a tenth of them over the gas alarm point for the first 20 s, so
warnings are raised and cleared while InfluxDB is away); InfluxDB is stopped (SIGTERM) for
`outage_s`, then started again. Figures: messages acknowledged by the broker, readings lost in
InfluxDB (by site and time: one per acknowledged message), messages duplicated on hw.telemetry
(InfluxDB keeps one point per site and time: rewrites are invisible there), the time from
InfluxDB's return until every reading is there, warnings on hw.warnings and in InfluxDB, and
whether the sink stayed alive and paused.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

from bench.fault_stack import Devices, FaultStack, own_or_shared, wait_until
from hazardwatch.stack.influx import influxql


def influx_outage(root: Path, *, devices: int = 50, outage_s: float = 60.0,
                  fs: FaultStack | None = None, first_site: int = 0) -> dict[str, Any]:
    """InfluxDB away `outage_s` under load; the figures of the run (see the module text)."""
    with own_or_shared(root, devices, fs) as fs:
        dev = Devices(fs.settings.mqtt_port, "hw-simulator", fs.credentials()["hw-simulator"],
                      devices, first_site=first_site)
        dev.high.update(range(max(1, devices // 10)))
        started = int(time.time() * 1000)
        dev.start()
        threading.Timer(20, dev.high.clear).start()  # low again: cleared 30 s later
        time.sleep(5)
        paused_before = _paused(fs)
        fs.signal_service("influxdb", signal.SIGTERM)
        time.sleep(outage_s)
        fs.up()
        back = time.monotonic()
        time.sleep(5)
        dev.stop()
        sites = dev.sites
        want = {(k[0], t) for k, t in dev.ts.items() if k in dev.acked}
        recovered = wait_until(lambda: fs.influx_readings(sites) >= len(want), 120)
        recovered_s = None if recovered is None else time.monotonic() - back
        got = fs.influx_times(sites)
        seqs, _ = fs.kafka_seqs(sites)
        warnings = [w for w in fs.warnings() if w["site_id"] in sites and w["ts"] >= started]
        stored = wait_until(lambda: _warning_points(fs, sites, started) >= len(warnings), 60)
        return {
            "fault": f"influxdb stopped {outage_s:.0f} s", "devices": devices,
            "published": len(dev.sent), "acked": len(dev.acked),
            "lost": len(want - set(got)), "duplicated": sum(n - 1 for n in seqs.values() if n > 1),
            "recovered_after_return_s": None if recovered_s is None else round(recovered_s, 1),
            "warnings": len(warnings),
            "warnings_in_influx": _warning_points(fs, sites, started),
            "warnings_stored": stored is not None,
            "sink_alive": fs.procs["sink"].poll() is None,
            "sink_paused": _paused(fs) > paused_before,
        }


def _paused(fs: FaultStack) -> int:
    log = fs.root / "sink.log"
    return log.read_text(errors="replace").count("consumption paused") if log.exists() else 0


def _warning_points(fs: FaultStack, sites: set[str], since_ms: int) -> int:
    where = " OR ".join(f"site = '{s}'" for s in sites)
    res = influxql(fs.settings.influx_url,
                   f'SELECT count(level_value) FROM "events_1096d"."warning" WHERE ({where}) '
                   f"AND time >= {since_ms}ms", db=fs.db)
    series = res["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0
