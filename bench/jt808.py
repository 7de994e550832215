"""Benchmark the JT/T 808 gateway: terminals held, positions/s to Kafka, ack latency, memory.

One `hazardwatch jt808` process on the local stack's Kafka (its own topic prefix).
1. Hold: `--terminals` connections register and authenticate; the gateway's resident memory
   before and after gives the memory per terminal.
2. Throughput: `--senders` of them send 0x0200 frames with up to `--window` unacknowledged
   each; positions/s counts 0x8001 acks (each sent only after Kafka confirmed the record);
   ack latency is from writing a frame to reading its ack.
3. Ceiling: the same connections and frames against a bare asyncio reader that only splits
   frames (no parsing, no Kafka): `ratio_to_ceiling` = gateway positions/s ÷ its frames/s.
Usage: python bench/jt808.py [--quick]. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import free_port, machine, running_stack
from hazardwatch.ingest.jt808.framing import Garbage, Splitter, frame
from hazardwatch.ingest.jt808.header import Version, encode_header
from hazardwatch.simulators.jt808.fleet import fleet_catalog, phone_of
from hazardwatch.simulators.jt808.messages import SimFix, auth_body, location_body, register_body

SECRET = "bench-jt808-secret-0123456789abcdef"
BARE = """
import asyncio, os, signal, sys
from hazardwatch.ingest.jt808.framing import Splitter
count = [0]
async def serve(r, w):
    s = Splitter()
    while data := await r.read(65536):
        count[0] += len(s.feed(data))
async def main():
    srv = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    print(count[0], flush=True)
asyncio.run(main())
"""


def rss_kb(pid: int) -> int:
    """Resident memory of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def msg(i: int, msg_id: int, body: bytes, serial: int) -> bytes:
    """A 2013 frame of fleet terminal i."""
    return frame(encode_header(msg_id, len(body), phone_of(i), serial, Version.V2013) + body)


class Conn:
    """A raw terminal connection: register/authenticate, then pipelined positions."""

    def __init__(self, i: int) -> None:
        self.i = i
        self.r: asyncio.StreamReader | None = None
        self.w: asyncio.StreamWriter | None = None
        self.split = Splitter()

    async def open(self, port: int) -> None:
        self.r, self.w = await asyncio.open_connection("127.0.0.1", port)

    async def replies(self) -> list[bytes]:
        assert self.r is not None
        data = await self.r.read(65536)
        if not data:
            raise ConnectionError("closed")
        return [p for p in self.split.feed(data) if not isinstance(p, Garbage)]

    async def login(self) -> None:
        assert self.w is not None
        self.w.write(msg(self.i, 0x0100, register_body(f"S{self.i:06d}", "蒙A"), 1))
        code = b""
        while not code:
            for p in await self.replies():
                if p[:2] == b"\x81\x00":
                    code = p[15:-1]
        self.w.write(msg(self.i, 0x0102, auth_body(code.decode()), 2))
        while not any(p[:2] == b"\x80\x01" for p in await self.replies()):
            pass


def frames_for(i: int, n: int, start_ts: int) -> list[bytes]:
    """n position frames of terminal i, serials 3…, one second apart."""
    return [msg(i, 0x0200, location_body(SimFix(start_ts + k * 1000, 40.0 + i / 1e5, 111.0,
                                                  50.0, 90)), (3 + k) & 0xFFFF)
            for k in range(n)]


async def pump(c: Conn, frames: list[bytes], window: int, deadline: float,
               lat: list[float], acked: list[int], wait_acks: bool) -> None:
    """Send frames keeping at most `window` unacknowledged; record ack latencies."""
    assert c.w is not None
    sent_at: dict[int, float] = {}
    k = 0
    outstanding = 0
    while time.monotonic() < deadline and k < len(frames):
        while outstanding < window and k < len(frames):
            sent_at[(3 + k) & 0xFFFF] = time.perf_counter()
            c.w.write(frames[k])
            k += 1
            outstanding += 1
        if not wait_acks:
            await c.w.drain()
            outstanding = 0
            continue
        for p in await c.replies():
            if p[:2] == b"\x80\x01":
                serial, mid, result = struct.unpack_from(">HHB", p, 12)
                if mid == 0x0200 and result == 0 and serial in sent_at:
                    lat.append((time.perf_counter() - sent_at.pop(serial)) * 1000)
                    acked[0] += 1
                    outstanding -= 1


async def hold_and_send(port: int, pid: int, n_hold: int, n_send: int, window: int,
                        duration: float) -> dict[str, float]:
    base = rss_kb(pid)
    conns = [Conn(i) for i in range(n_hold)]
    sem = asyncio.Semaphore(200)

    async def up(c: Conn) -> None:
        async with sem:
            await c.open(port)
            await c.login()

    t0 = time.monotonic()
    await asyncio.gather(*(up(c) for c in conns))
    login_s = time.monotonic() - t0
    await asyncio.sleep(2)
    held = rss_kb(pid)
    start_ts = int(time.time()) * 1000 - 86_400_000
    per = int(60_000 * duration / n_send) + 10
    frames = [frames_for(i, min(per, 60_000), start_ts) for i in range(n_send)]
    lat: list[float] = []
    acked = [0]
    t0 = time.monotonic()
    await asyncio.gather(*(pump(c, frames[c.i], window, t0 + duration, lat, acked, True)
                           for c in conns[:n_send]))
    took = time.monotonic() - t0
    for c in conns:
        assert c.w is not None
        c.w.close()
    lat.sort()
    return {"login_s": round(login_s, 1), "rss_base_kb": base, "rss_held_kb": held,
            "positions_per_s": round(acked[0] / took), "acked": acked[0],
            "ack_ms_p50": round(statistics.median(lat), 1) if lat else -1.0,
            "ack_ms_p99": round(lat[int(len(lat) * 0.99)], 1) if lat else -1.0}


async def ceiling(port: int, n_send: int, window: int, duration: float) -> int:
    conns = [Conn(i) for i in range(n_send)]
    for c in conns:
        await c.open(port)
    start_ts = int(time.time()) * 1000 - 86_400_000
    per = int(60_000 * duration / n_send) + 10
    frames = [frames_for(i, min(per, 60_000), start_ts) for i in range(n_send)]
    t0 = time.monotonic()
    await asyncio.gather(*(pump(c, frames[c.i], window, t0 + duration, [], [0], False)
                           for c in conns))
    for c in conns:
        assert c.w is not None
        c.w.close()
    return 0


def main() -> None:
    """Run the three phases and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="under 2 minutes")
    ap.add_argument("--terminals", type=int, default=None)
    ap.add_argument("--senders", type=int, default=100)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--duration", type=float, default=None)
    ap.add_argument("--gateway-port", type=int, default=None,
                    help="measure a gateway already running there (e.g. under a profiler; "
                         "its catalog: python -c 'from hazardwatch.simulators.jt808.fleet "
                         "import fleet_catalog; print(fleet_catalog(N))')")
    ap.add_argument("--gateway-pid", type=int, default=None)
    a = ap.parse_args()
    n_hold = a.terminals or (2000 if a.quick else 10_000)
    duration = a.duration or (10.0 if a.quick else 30.0)
    if a.gateway_port is not None:
        pid = a.gateway_pid or os.getpid()
        figs = asyncio.run(hold_and_send(a.gateway_port, pid, n_hold, min(a.senders, n_hold),
                                         a.window, duration))
        print(json.dumps({"bench": "jt808", "external_gateway": True, **figs}))
        return
    stack = running_stack()
    env = {**os.environ, **stack.settings.to_env(), "HW_JT808_AUTH_SECRET": SECRET}
    with tempfile.TemporaryDirectory(prefix="hw-bench-jt808-") as tmp:
        cat = Path(tmp) / "fleet.yaml"
        cat.write_text(fleet_catalog(n_hold), encoding="utf-8")
        port = free_port()
        log = open(Path(tmp) / "gw.log", "wb")  # noqa: SIM115
        gw = subprocess.Popen([sys.executable, "-m", "hazardwatch", "jt808", "--port", str(port),
                               "--catalog", str(cat), "--topic-prefix",
                               f"bench-{uuid.uuid4().hex[:8]}.", "--heartbeat", "600",
                               "--auth-timeout", "600", "--log-interval", "5"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while b"listening" not in (Path(tmp) / "gw.log").read_bytes():
            if time.monotonic() > deadline or gw.poll() is not None:
                raise SystemExit((Path(tmp) / "gw.log").read_text()[-2000:])
            time.sleep(0.2)
        try:
            figs = asyncio.run(hold_and_send(port, gw.pid, n_hold, min(a.senders, n_hold),
                                             a.window, duration))
        finally:
            gw.send_signal(signal.SIGTERM)
            gw.wait(60)
        bport = free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE, str(bport)], env=env,
                                stdout=subprocess.PIPE, text=True)
        assert bare.stdout is not None
        bare.stdout.readline()
        asyncio.run(ceiling(bport, min(a.senders, n_hold), a.window, duration / 2))
        bare.send_signal(signal.SIGTERM)
        frames = int(bare.stdout.readline())
        bare.wait(10)
    ceiling_per_s = frames / (duration / 2)
    per_terminal = (figs["rss_held_kb"] - figs["rss_base_kb"]) / n_hold
    out = {"bench": "jt808", **machine(), "terminals": n_hold, "senders": min(a.senders, n_hold),
           "window": a.window, "duration_s": duration, **figs,
           "rss_kb_per_terminal": round(per_terminal, 1),
           "ceiling_frames_per_s": round(ceiling_per_s),
           "ratio_to_ceiling": round(figs["positions_per_s"] / ceiling_per_s, 3)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
