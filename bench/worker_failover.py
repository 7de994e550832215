"""Worker fail-over: two workers, one frozen (SIGSTOP) while gas alarms keep coming.

Devices publish through the real bridge on a stack of its own; one more device goes over the
alarm point each second, so every partition has an alarm due every few seconds. Worker 2 is
frozen `freeze_s`, then continued. Figures: the longest delay of a gas alarm (its due time →
its record on hw.warnings), repeated raises, whether both workers are alive `after_s` after
SIGCONT, and a timeline of the survivor (session timeout seen, partitions assigned, changelog
restore, first warning on a taken-over partition), in seconds after the freeze.
Usage: python bench/worker_failover.py [--freeze S] [--keep DIR] [-- WORKER-ARGS…], e.g.
`-- --fast-restore`. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine
from bench.fault_stack import Devices, FaultStack, wait_until
from hazardwatch.contracts.topics import KafkaTopic

# survivor's log line → timeline mark (the first line after the freeze that matches)
MARKS = {
    "rebalance_seen": re.compile(r"rebalanc|Heartbeat failed|Revoking", re.I),
    "assigned": re.compile(r"Setting newly assigned partitions|Successfully synced group"),
    "restore_start": re.compile(r"Restoring state from changelog|Resuming flow|"
                                r"Highwater for active", re.I),
    "restore_done": re.compile(r"Recovery complete|Done reading from changelog|"
                               r"Worker ready", re.I),
}
_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def _log_times(log: Path, since: float) -> dict[str, float | None]:
    """Seconds after `since` of the first line of each mark in a Faust log."""
    out: dict[str, float | None] = dict.fromkeys(MARKS)
    for line in log.read_text(errors="replace").splitlines():
        m = _STAMP.match(line)
        if m is None:
            continue
        t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if t < since:
            continue
        for name, pat in MARKS.items():
            if out[name] is None and pat.search(line):
                out[name] = round(t - since, 1)
    return out


def _warnings(fs: FaultStack) -> list[dict[str, Any]]:
    """Every committed record on hw.warnings with its partition and offset."""
    return [{**json.loads(m.value()), "kafka_ts": m.timestamp()[1], "partition": m.partition(),
             "offset": m.offset()} for m in fs._read_all(KafkaTopic.WARNINGS)]


def worker_freeze(root: Path, *, devices: int = 60, freeze_s: float = 60.0, after_s: float = 30.0,
                  worker_args: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run the scenario (see the module text) on a stack under `root`; its figures."""
    fs = FaultStack(root, devices)
    try:
        fs.up()
        fs.pipeline(workers=2, worker_args=worker_args)
        w1, w2 = fs.root / "worker-1.log", fs.root / "worker-2.log"
        wait_until(lambda: w1.read_text(errors="replace").count("Worker ready") >= 2, 90)
        dev = Devices(fs.settings.mqtt_port, "hw-simulator", fs.credentials()["hw-simulator"],
                      devices)
        dev.start()
        time.sleep(5)
        stop = threading.Event()

        def alarms() -> None:
            # one more device over the alarm point each second for 12 s (raised after the
            # rule's 10 s persistence), then low long enough to clear (30 s clear delay)
            k = 0
            while not stop.is_set():
                dev.high.add(k % devices)
                dev.high.discard((k - 12) % devices)
                k += 1
                time.sleep(1)

        threading.Thread(target=alarms, daemon=True).start()
        time.sleep(12)
        frozen_at = time.time()
        fs.procs["worker-2"].send_signal(signal.SIGSTOP)
        time.sleep(freeze_s)
        fs.procs["worker-2"].send_signal(signal.SIGCONT)
        resumed = time.time()
        time.sleep(after_s)
        alive = [p.poll() is None for n, p in fs.procs.items() if n.startswith("worker")]
        stop.set()
        dev.stop()
        ws = [w for w in _warnings(fs) if w["kind"] == "threshold" and w["transition"] == "raised"]
        (fs.root / "raises.json").write_text(json.dumps(
            {"frozen_at": frozen_at, "resumed": resumed, "raises": ws}))
        window = [w for w in ws if frozen_at * 1000 - 5_000 <= w["ts"] <= resumed * 1000]
        delays = [(w["kafka_ts"] - w["ts"]) / 1000 for w in window]
        # alarms due after SIGCONT: the frozen worker rejoins (and restarts itself if fenced)
        rejoin = [(w["kafka_ts"] - w["ts"]) / 1000 for w in ws if w["ts"] > resumed * 1000]
        late = [w for w in window if (w["kafka_ts"] - w["ts"]) / 1000 > 3]
        ids = [w["warning_id"] for w in ws]
        return {
            "fault": f"worker frozen {freeze_s:.0f} s while a second runs",
            "worker_args": list(worker_args),
            "gas_alarms_in_window": len(window),
            "worker_failover_max_delay_s": round(max(delays), 1) if delays else None,
            "max_delay_after_sigcont_s": round(max(rejoin), 1) if rejoin else None,
            "repeated_raises": len(ids) - len(set(ids)),
            "both_workers_alive_after_sigcont": all(alive) and len(alive) == 2,
            "after_sigcont_s": after_s,
            "restarted_itself": "restarting itself" in w2.read_text(errors="replace"),
            "survivor_timeline_s": _log_times(w1, frozen_at),
            "first_late_alarm_out_s": (round(min(w["kafka_ts"] for w in late) / 1000 - frozen_at,
                                             1) if late else None),
            "last_late_alarm_out_s": (round(max(w["kafka_ts"] for w in late) / 1000 - frozen_at,
                                            1) if late else None),
        }
    finally:
        fs.down()


def main() -> None:
    """Run the scenario once and print its figures; the last line is JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--freeze", type=float, default=60.0, metavar="SECONDS")
    ap.add_argument("--after", type=float, default=30.0, metavar="SECONDS")
    ap.add_argument("--keep", type=Path, default=None, help="run directory to keep (logs)")
    ap.add_argument("worker_args", nargs="*", help="extra `hazardwatch worker` arguments")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hw-failover-") as tmp:
        root = args.keep or Path(tmp)
        r = worker_freeze(root / "worker", freeze_s=args.freeze, after_s=args.after,
                          worker_args=tuple(args.worker_args))
    print(json.dumps({"bench": "worker_failover", **machine(), **r}))


if __name__ == "__main__":
    main()
