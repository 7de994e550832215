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

import requests

from bench.fault_stack import Devices, FaultStack, own_or_shared, wait_until


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
        warnings = {(w["warning_id"], w["transition"], w["ts"]) for w in fs.warnings()
                    if w["site_id"] in sites and w["ts"] >= started}
        stored = wait_until(lambda: warnings <= _warning_keys(fs, sites, started), 60)
        in_influx = _warning_keys(fs, sites, started)
        return {
            "fault": f"influxdb stopped {outage_s:.0f} s", "devices": devices,
            "published": len(dev.sent), "acked": len(dev.acked),
            "lost": len(want - set(got)), "duplicated": sum(n - 1 for n in seqs.values() if n > 1),
            "recovered_after_return_s": None if recovered_s is None else round(recovered_s, 1),
            "warnings": len(warnings),
            # each transition read from hw.warnings, found in InfluxDB by id, transition, time;
            # InfluxDB may hold more: transitions raised after the read (e.g. offline)
            "warnings_missing_in_influx": len(warnings - in_influx),
            "warnings_in_influx": len(in_influx),
            "warnings_stored": stored is not None,
            "sink_alive": fs.procs["sink"].poll() is None,
            "sink_paused": _paused(fs) > paused_before,
        }


def _paused(fs: FaultStack) -> int:
    log = fs.root / "sink.log"
    return log.read_text(errors="replace").count("consumption paused") if log.exists() else 0


def _warning_keys(fs: FaultStack, sites: set[str], since_ms: int) -> set[tuple[str, str, int]]:
    """(warning id, transition, time in ms) of every warning point of `sites` in InfluxDB."""
    where = " OR ".join(f"site = '{s}'" for s in sites)
    resp = requests.post(f"{fs.settings.influx_url}/query", timeout=30, params={
        "db": fs.db, "epoch": "ms",
        "q": f'SELECT warning_id, "transition" FROM "events_1096d"."warning" WHERE ({where}) '
             f"AND time >= {since_ms}ms"})
    resp.raise_for_status()
    return {(wid, transition, int(t))
            for series in resp.json()["results"][0].get("series", [])
            for t, wid, transition in series["values"]}
