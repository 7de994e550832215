"""CPU per position of the JT/T 808 gateway's own work, in one process, without TCP or Kafka.

The gateway's connection handler is fed the bytes of `--senders` terminals, `--window` frames
per read (as the throughput bench pipelines them); a stub sink confirms each record at once, in
batches after each read, as delivery reports arrive; acks are written to a stub transport.
CPU time of this process ÷ positions = µs per position (splitting, unescaping, check code,
header, location decoding, records, producing, acks). Less sensitive to a loaded machine than
`bench/jt808.py` (CPU time, not wall time), and runnable against another checkout to compare
before and after in one run: `--src DIR` (a `git archive` of the older commit).
Usage: python bench/jt808_cpu.py [--positions N] [--rounds R] [--src DIR …]. Last line JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

WORKER = r"""
import asyncio, json, sys, time
from collections.abc import Callable
import tempfile, os
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.jt808 import server as srv
from hazardwatch.ingest.jt808.framing import frame
from hazardwatch.ingest.jt808.header import Version, encode_header
from hazardwatch.ingest.jt808.registry import Registry
from hazardwatch.simulators.jt808.fleet import fleet_catalog, phone_of
from hazardwatch.simulators.jt808.messages import SimFix, location_body

N, SENDERS, WINDOW = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])


class Sink:
    def __init__(self): self.done = []
    def start(self, loop): pass
    def produce(self, topic, key, value, done): self.done.append(done)
    def produce_many(self, records, done):
        self.done.append(done)
    def confirm(self):
        d, self.done = self.done, []
        for f in d: f()


class Transport(asyncio.Transport):
    def __init__(self): super().__init__(); self.out = 0
    def write(self, data): self.out += 1
    def writelines(self, data): self.out += 1
    def close(self): pass
    def is_closing(self): return False
    def pause_reading(self): pass
    def resume_reading(self): pass
    def get_extra_info(self, name, default=None): return ("127.0.0.1", 1)
    def set_write_buffer_limits(self, *a, **k): pass


def msg(i, mid, body, serial):
    return frame(encode_header(mid, len(body), phone_of(i), serial, Version.V2013) + body)


async def main():
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(fleet_catalog(SENDERS))
    cat = load_catalog(f.name)
    os.unlink(f.name)
    sink = Sink()
    gw = srv.Gateway(srv.GatewayConfig(port=0), Registry(cat, b"k" * 32), sink)
    gw.loop = asyncio.get_running_loop()
    ts0 = int(time.time()) * 1000 - 86_400_000
    feeds = []
    for i in range(SENDERS):
        t = Transport()
        code = gw.registry.auth_code(phone_of(i))
        frames = [msg(i, 0x0102, code.encode(), 2)]
        frames += [msg(i, 0x0200, location_body(SimFix(ts0 + k * 1000, 40.0 + i / 1e5, 111.0,
                                                        50.0, 90)), 3 + k) for k in range(256)]
        feeds.append((t, frames))
    if hasattr(gw, "connection"):  # asyncio.Protocol per connection
        conns = []
        for t, frames in feeds:
            p = gw.connection()
            p.connection_made(t)
            conns.append((p.data_received, frames))
    else:  # StreamReader + Session.on_frame (older gateways): the reader loop's own work
        from hazardwatch.ingest.jt808.framing import Garbage, Splitter
        from hazardwatch.ingest.jt808.session import Session
        conns = []
        for t, frames in feeds:
            s = Session(gw, t, "peer")
            sp = Splitter()
            def feed(data, s=s, sp=sp):
                for part in sp.feed(data):
                    if not isinstance(part, Garbage):
                        s.on_frame(part)
            conns.append((feed, frames))
    for feed, frames in conns:  # authenticate
        feed(frames[0])
    sink.confirm(); gw._flush()
    chunks = []
    for feed, frames in conns:
        body = frames[1:]
        chunks.append((feed, [b"".join(body[k:k + WINDOW]) for k in range(0, len(body), WINDOW)]))
    done = 0
    t0 = time.process_time()
    k = 0
    while done < N:
        for feed, cs in chunks:
            feed(cs[k % len(cs)])
            sink.confirm()
            done += WINDOW
        gw._flush()
        k += 1
        if k % len(chunks[0][1]) == 0:  # same serials again: new bodies are not retransmissions
            for s in list(gw.sessions.values()):
                s._recent.clear()
    cpu = time.process_time() - t0
    print(json.dumps({"positions": done, "cpu_us_per_position": round(cpu * 1e6 / done, 2),
                      "produced": gw.counters.positions, "acked": gw.counters.acked}))

asyncio.run(main())
"""


def run(src: str | None, n: int, senders: int, window: int) -> dict[str, float]:
    """One measurement in a fresh process (the code of `src`, or this checkout)."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    out = subprocess.run([sys.executable, "-c", WORKER, str(n), str(senders), str(window)],
                         env=env, capture_output=True, text=True, check=True,
                         cwd=src or str(Path(__file__).resolve().parents[1]))
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Alternate the checkouts `rounds` times; print each run and the medians."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--positions", type=int, default=200_000)
    ap.add_argument("--senders", type=int, default=100)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--src", action="append", default=[],
                    help="another checkout to measure too (alternated with this one)")
    a = ap.parse_args()
    names = ["this", *a.src]
    runs: dict[str, list[float]] = {k: [] for k in names}
    for r in range(a.rounds):
        for name in names:
            res = run(None if name == "this" else name, a.positions, a.senders, a.window)
            runs[name].append(res["cpu_us_per_position"])
            print(f"round {r} {name}: {res}", flush=True)
    med = {k: sorted(v)[len(v) // 2] for k, v in runs.items()}
    print(json.dumps({"bench": "jt808_cpu", "load_average_1m": os.getloadavg()[0],
                      "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      "cpu_us_per_position_median": med, "runs": runs}))


if __name__ == "__main__":
    main()
