"""Fault injection on stacks of their own, counting every message by its per-device `seq`.

Scenario `kafka_outage`: devices publish every 0.5 s through the real bridge, worker and sink;
Kafka is killed (-9) or stopped for a while, then started again. Figures: messages published
and acknowledged by the broker, lost and duplicated on hw.telemetry (by seq), the longest
device → Kafka delay, readings in InfluxDB and the time until all are there after Kafka's
return, whether the sink survived, device.offline warnings raised (the platform's own gap must
raise none) and the worker's log lines per second during the outage. Scenario `broker_faults`:
Mosquitto restarted cleanly (the bridge reconnecting after the devices), killed -9 with Kafka
up, then killed -9 during a Kafka outage. The worker freeze is `bench/worker_failover.py`'s.
With `--quick`, the Kafka and broker scenarios share one stack (their devices on sites of their
own) while the worker freeze runs beside them on its own.
Usage: python bench/faults.py [--quick]. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine
from bench.fault_stack import Devices, FaultStack, own_or_shared, wait_until
from bench.worker_failover import worker_freeze
from hazardwatch.stack.process import spawn_command


def _start_devices(fs: FaultStack, n: int, first_site: int = 0) -> Devices:
    """`n` devices publishing through the stack's broker as the simulator account."""
    dev = Devices(fs.settings.mqtt_port, "hw-simulator", fs.credentials()["hw-simulator"], n,
                  first_site=first_site)
    dev.start()
    return dev


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def kafka_outage(root: Path, *, devices: int = 50, outage_s: float = 70.0, warm_s: float = 12.0,
                 after_s: float = 10.0, kill: bool = True, fs: FaultStack | None = None,
                 first_site: int = 0) -> dict[str, Any]:
    """Kafka away `outage_s` under load; the figures of the run (see the module text). On `fs`
    (shared, its pipeline running) if given, with the devices of sites `first_site`…"""
    with own_or_shared(root, devices, fs) as fs:
        dev = _start_devices(fs, devices, first_site)
        started = time.time() * 1000
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
        sites = dev.sites
        recovered = wait_until(lambda: fs.influx_readings(sites) >= acked, 120)
        seqs, longest = fs.kafka_seqs(sites)
        published = set(dev.acked)
        lost = len(published - set(seqs))
        dups = sum(n - 1 for n in seqs.values() if n > 1)
        offline = [w for w in fs.warnings() if w["kind"] == "offline"
                   and w["transition"] == "raised" and w["site_id"] in sites
                   and w["ts"] >= started]
        return {
            "fault": f"kafka {'kill -9' if kill else 'stop'} {outage:.0f} s",
            "devices": devices, "published": len(dev.sent), "acked": acked,
            "lost": lost, "duplicated": dups, "longest_delay_s": round(longest, 1),
            "influx_readings": fs.influx_readings(sites),
            "recovered_after_return_s": (None if recovered is None
                                         else round(after_s + recovered, 1)),
            "sink_alive": fs.procs["sink"].poll() is None,
            "worker_alive": fs.procs["worker-1"].poll() is None,
            "bridge_alive": fs.procs["bridge"].poll() is None,
            "false_offline": len(offline),
            "worker_log_lines_per_s": round(outage_lines / outage, 1),
            "kafka_back_s": round(back - t_down, 1),
        }


_KILL_WINDOW_S = 6.0  # around the kill of the broker alone: a loss sent earlier is not its


def broker_faults(root: Path, *, devices: int = 50, autosave_s: int = 1,
                  fs: FaultStack | None = None, first_site: int = 0) -> dict[str, Any]:
    """Mosquitto restarted cleanly under load (with `hazardwatch simulate` running and the
    bridge reconnecting 3 s after the devices), then killed -9 with Kafka up, then, with Kafka
    stopped, killed -9 20 s into the outage; started again after each."""
    os.environ["HW_MQTT_AUTOSAVE_S"] = str(autosave_s)
    try:
        with own_or_shared(root, devices, fs) as fs:
            return _broker_faults(fs, devices, autosave_s, first_site)
    finally:
        os.environ.pop("HW_MQTT_AUTOSAVE_S", None)


def _broker_faults(fs: FaultStack, devices: int, autosave_s: int,
                   first_site: int) -> dict[str, Any]:
    dev = _start_devices(fs, devices, first_site)
    sim_log = fs.root / "simulate.log"
    sim = spawn_command(["simulate", "--devices", "20", "--rate", "40", "--duration", "25"],
                        sim_log, fs.env)
    time.sleep(8)
    # 1. a clean restart of the broker: nothing may be lost, even when the devices are back
    # before the bridge (frozen across the restart and 3 s after it, as on a loaded host)
    restart_at = time.time()
    fs.procs["bridge"].send_signal(signal.SIGSTOP)
    fs.signal_service("mosquitto", signal.SIGTERM)
    fs.up()
    restarted_at = time.time()
    time.sleep(3)
    fs.procs["bridge"].send_signal(signal.SIGCONT)
    time.sleep(7)
    sim_rc = sim.wait(180)
    sim_json = sim_log.read_text().strip().splitlines()[-1] if sim_log.exists() else ""
    # 2. kill -9 of the broker alone (Kafka up): only what it held for the bridge is at risk
    time.sleep(_KILL_WINDOW_S)
    alone_at = time.time()
    fs.signal_service("mosquitto", signal.SIGKILL)
    fs.up()
    time.sleep(_KILL_WINDOW_S)
    # 3. Kafka away; the broker holds what the bridge cannot forward; kill -9 the broker
    outage_at = time.time()
    fs.signal_service("kafka", signal.SIGTERM)
    cpu0 = _cpu_s(fs)
    time.sleep(20)
    cpu1 = _cpu_s(fs)
    kill_at = time.time()
    fs.signal_service("mosquitto", signal.SIGKILL)
    fs.up()  # Mosquitto and Kafka again
    time.sleep(8)
    dev.stop()
    acked = set(dev.acked)
    _settle(fs, dev.sites, len(acked), 90)  # some were lost: until the count stops moving
    seqs, longest = fs.kafka_seqs(dev.sites)
    lost = sorted(acked - set(seqs), key=lambda k: dev.sent[k])
    # sent before the Kafka outage: the bridge forwarded it at once, so only the clean
    # restart could lose it; sent during the outage: the broker held it until the kill
    # the kill alone can lose only what was sent in the seconds before it (a snapshot a
    # second); before that window only the clean restart could
    alone_from = alone_at - _KILL_WINDOW_S
    lost_clean = [k for k in lost if dev.sent[k] < alone_from]
    lost_alone = [k for k in lost if alone_from <= dev.sent[k] < outage_at]
    lost_kill = [k for k in lost if dev.sent[k] >= outage_at]
    rate = devices / dev.period_s
    clean_at = [round(dev.sent[k] - restarted_at, 2) for k in lost_clean]
    return {
        "fault": f"mosquitto restart, kill -9, then kill -9 during a Kafka outage (autosave "
                 f"{autosave_s} s)",
        "devices": devices, "published": len(dev.sent), "acked": len(acked),
        "lost_clean_restart": len(lost_clean), "lost_kill": len(lost_kill),
        # acknowledged by the broker with "no matching subscribers": dropped by it
        "unrouted": len(dev.unrouted), "lost_unrouted": len(dev.unrouted & set(lost)),
        "restart_s": round(restarted_at - restart_at, 1),
        "lost_clean_sent_s_after_restart": ([min(clean_at), max(clean_at)] if clean_at
                                            else []),
        "broker_kill_lost_ms": round(len(lost_kill) / rate * 1000),
        "broker_kill_alone_lost_ms": round(len(lost_alone) / rate * 1000),
        "lost_kill_span_s": (round(dev.sent[lost_kill[-1]] - dev.sent[lost_kill[0]], 1)
                             if lost_kill else 0.0),
        "lost_kill_oldest_s_before_kill": (round(kill_at - dev.sent[lost_kill[0]], 1)
                                           if lost_kill else 0.0),
        "duplicated": sum(n - 1 for n in seqs.values() if n > 1),
        "longest_delay_s": round(longest, 1),
        "simulate_exit": sim_rc, "simulate_json": sim_json.startswith("{"),
        "mosquitto_cpu_s_while_holding_20s": (None if cpu0 is None or cpu1 is None
                                               else round(cpu1 - cpu0, 2)),
        "sink_alive": fs.procs["sink"].poll() is None,
        "bridge_alive": fs.procs["bridge"].poll() is None,
    }


def _settle(fs: FaultStack, sites: set[str], target: int, timeout: float) -> None:
    """Until InfluxDB holds `target` readings of `sites` or its count has not moved for 8 s
    (the sink writes what it reads within a second or two)."""
    last, since, t0 = -1, time.monotonic(), time.monotonic()
    while time.monotonic() - t0 < timeout:
        n = fs.influx_readings(sites)
        if n >= target:
            return
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > 8:
            return
        time.sleep(1)


def _cpu_s(fs: FaultStack) -> float | None:
    pid = fs.stack.pid(fs.stack.service("mosquitto"))
    if pid is None:
        return None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def main() -> None:
    """Run the scenarios and print their figures; the last line is JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="Kafka killed 70 s, the broker faults, a worker frozen 60 s (≈ 6 min)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hw-faults-") as tmp:
        # the worker freeze on a stack of its own, beside the Kafka then the broker faults on
        # one shared stack (their devices on sites of their own): ≈ 6 min instead of ≈ 11
        worker: dict[str, Any] = {}
        lane = threading.Thread(target=lambda: worker.update(
            worker_freeze(Path(tmp) / "worker")))
        lane.start()
        with own_or_shared(Path(tmp) / "shared", 100) as fs:
            runs = [kafka_outage(Path(tmp) / "kafka", kill=True, fs=fs, first_site=0)]
            print(json.dumps({"kafka": runs[-1]}), flush=True)
            runs.append(broker_faults(Path(tmp) / "broker", fs=fs, first_site=50))
            print(json.dumps({"broker": runs[-1]}), flush=True)
        lane.join()
        runs.append(worker)
        print(json.dumps({"worker": worker}), flush=True)
        if not args.quick:
            runs.append(kafka_outage(Path(tmp) / "kafka-stop", kill=False, outage_s=60))
            runs.append(broker_faults(Path(tmp) / "broker-30", autosave_s=30))
            print(json.dumps(runs[-2:]), flush=True)
    kafka, broker, worker = runs[0], runs[1], runs[2]
    print(json.dumps({
        "bench": "faults", **machine(),
        "sink_survives_kafka_outage": kafka["sink_alive"],
        "false_offline_after_outage": kafka["false_offline"],
        "kafka_outage_lost": kafka["lost"],
        "kafka_outage_recovered_s": kafka["recovered_after_return_s"],
        "worker_log_lines_per_s_in_outage": kafka["worker_log_lines_per_s"],
        "broker_clean_restart_lost": broker["lost_clean_restart"],
        "broker_kill_lost_ms": broker["broker_kill_lost_ms"],
        "broker_kill_alone_lost_ms": broker["broker_kill_alone_lost_ms"],
        "simulate_exit_across_restart": broker["simulate_exit"],
        "worker_failover_max_delay_s": worker["worker_failover_max_delay_s"],
        "worker_max_delay_after_sigcont_s": worker["max_delay_after_sigcont_s"],
        "both_workers_alive_after_sigcont": worker["both_workers_alive_after_sigcont"],
        "runs": runs}))


if __name__ == "__main__":
    main()
