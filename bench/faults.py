"""Fault injection on a stack of its own, counting every message by its per-device `seq`.

Scenario `kafka_outage`: devices publish every 0.5 s through the real bridge, worker and sink;
Kafka is killed (-9) or stopped for a while, then started again. Figures: messages published
and acknowledged by the broker, lost and duplicated on hw.telemetry (by seq), the longest
device → Kafka delay, readings in InfluxDB and the time until all are there after Kafka's
return, whether the sink survived, device.offline warnings raised (the platform's own gap must
raise none) and the worker's log lines per second during the outage.
Usage: python bench/faults.py [--quick]. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine
from bench.fault_stack import Devices, FaultStack, wait_until


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def kafka_outage(root: Path, *, devices: int = 50, outage_s: float = 70.0, warm_s: float = 20.0,
                 after_s: float = 30.0, kill: bool = True) -> dict[str, Any]:
    """Kafka away `outage_s` under load; the figures of the run (see the module text)."""
    fs = FaultStack(root, devices)
    try:
        fs.up()
        fs.pipeline()
        creds = fs.credentials()
        dev = Devices(fs.settings.mqtt_port, "hw-simulator", creds["hw-simulator"], devices)
        dev.start()
        time.sleep(warm_s)
        worker_log = fs.root / "worker-1.log"
        lines0, t_down = _lines(worker_log), time.monotonic()
        fs.signal_service("kafka", signal.SIGKILL if kill else signal.SIGTERM)
        time.sleep(outage_s)
        outage_lines = _lines(worker_log) - lines0
        outage = time.monotonic() - t_down
        fs.up()
        back = time.monotonic()
        time.sleep(after_s)
        dev.stop()
        acked = len(dev.acked)
        recovered = wait_until(lambda: fs.influx_readings() >= acked, 120)
        seqs, longest = fs.kafka_seqs()
        published = set(dev.acked)
        lost = len(published - set(seqs))
        dups = sum(n - 1 for n in seqs.values() if n > 1)
        offline = [w for w in fs.warnings()
                   if w["kind"] == "offline" and w["transition"] == "raised"]
        return {
            "fault": f"kafka {'kill -9' if kill else 'stop'} {outage:.0f} s",
            "devices": devices, "published": len(dev.sent), "acked": acked,
            "lost": lost, "duplicated": dups, "longest_delay_s": round(longest, 1),
            "influx_readings": fs.influx_readings(),
            "recovered_after_return_s": (None if recovered is None
                                         else round(after_s + recovered, 1)),
            "sink_alive": fs.procs["sink"].poll() is None,
            "worker_alive": fs.procs["worker-1"].poll() is None,
            "bridge_alive": fs.procs["bridge"].poll() is None,
            "false_offline": len(offline),
            "worker_log_lines_per_s": round(outage_lines / outage, 1),
            "kafka_back_s": round(back - t_down, 1),
        }
    finally:
        fs.down()


def main() -> None:
    """Run the scenarios and print their figures; the last line is JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="one Kafka outage of 70 s (≈ 4 min)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hw-faults-") as tmp:
        k = kafka_outage(Path(tmp) / "kafka", kill=True)
        print(json.dumps(k))
        runs = [k]
        if not args.quick:
            s = kafka_outage(Path(tmp) / "kafka-stop", kill=False, outage_s=60)
            print(json.dumps(s))
            runs.append(s)
    print(json.dumps({
        "bench": "faults", **machine(),
        "sink_survives_kafka_outage": all(r["sink_alive"] for r in runs),
        "false_offline_after_outage": sum(r["false_offline"] for r in runs),
        "kafka_outage_lost": sum(r["lost"] for r in runs),
        "kafka_outage_recovered_s": max((r["recovered_after_return_s"] or -1) for r in runs),
        "worker_log_lines_per_s_in_outage": max(r["worker_log_lines_per_s"] for r in runs),
        "broker_kill_lost_ms": None, "worker_failover_max_delay_s": None,
        "runs": runs}))


if __name__ == "__main__":
    main()
