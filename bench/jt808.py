"""Benchmark the JT/T 808 gateway: terminals held, positions/s to Kafka, ack latency, memory.

One `hazardwatch jt808` process on the local stack's Kafka (its own topic prefix).
1. Hold: `--terminals` connections register and authenticate; the gateway's resident memory
   before and after gives the memory per terminal.
2. Throughput: `--senders` of them send 0x0200 frames with up to `--window` unacknowledged
   each; positions/s counts 0x8001 acks (each sent only after Kafka confirmed the record);
   ack latency is from writing a frame to reading its ack.
3. Ceiling: the same connections and frames against a bare asyncio reader (standard event
   loop) that answers each frame at once with an 0x8001 (no parsing, no Kafka):
   `ratio_to_ceiling` = gateway positions/s ÷ its acks/s; the same reader on uvloop, the
   gateway's own loop (`ratio_to_uvloop_echo`); and one that only splits frames
   (`ratio_to_split_only`). The gateway runs on uvloop unless `--event-loop asyncio`.
Each phase also reports CPU µs per message of the server, the load generator and (gateway
phase) the Kafka broker, and the cores the rest of the machine used meanwhile (`*_others_cores`:
other sessions on a shared machine), so a ratio can be read against what competed with it.
`--processes N` runs N gateway processes sharing the port (SO_REUSEPORT, `--reuse-port`) and
N bare readers the same way; CPU and memory are summed over the processes.
Usage: python bench/jt808.py [--quick] [--processes N]. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import free_port, machine, running_stack
from hazardwatch.ingest.jt808.framing import Garbage, Splitter, frame
from hazardwatch.ingest.jt808.header import Version, encode_header
from hazardwatch.simulators.jt808.fleet import fleet_catalog, phone_of
from hazardwatch.simulators.jt808.messages import SimFix, auth_body, location_body, register_body

SECRET = "bench-jt808-secret-0123456789abcdef"
BARE = """
import asyncio, os, signal, socket, sys
from hazardwatch.ingest.jt808.framing import Splitter, frame
count = [0]
ECHO = sys.argv[2] == "echo"
async def serve(r, w):
    try:
        await split(r, w)
    except ConnectionError:
        pass
async def split(r, w):
    s = Splitter()
    while data := await r.read(65536):
        parts = s.feed(data)
        count[0] += len(parts)
        if ECHO:  # 0x8001 to each frame at once (serial and phone copied, nothing parsed)
            out = []
            for p in parts:
                if b"\\x7d" in p:
                    p = p.replace(b"\\x7d\\x02", b"\\x7e").replace(b"\\x7d\\x01", b"\\x7d")
                out.append(frame(b"\\x80\\x01\\x00\\x05" + p[4:10] + b"\\x00\\x01" + p[10:12]
                                 + p[0:2] + b"\\x00"))
            w.write(b"".join(out))
async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    srv = await asyncio.start_server(serve, sock=sock, backlog=4096)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    print(count[0], flush=True)
if sys.argv[3] == "uvloop":
    import uvloop
    uvloop.run(main())
else:
    asyncio.run(main())
"""

def rss_kb(pids: list[int]) -> int:
    """Resident memory of processes in KiB (summed)."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


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


CYCLE = 256  # distinct frames per sender, sent round and round (serials 3…258)


def frames_for(i: int, start_ts: int) -> list[bytes]:
    """CYCLE position frames of terminal i, one second apart, encoded once before timing (the
    same serial comes back only after CYCLE messages, far beyond the gateway's retransmission
    memory, so each is a new position)."""
    return [msg(i, 0x0200, location_body(SimFix(start_ts + k * 1000, 40.0 + i / 1e5, 111.0,
                                                  50.0, 90)), (3 + k) & 0xFFFF)
            for k in range(CYCLE)]


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by processes (all threads, summed)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy so far (not idle, not waiting for I/O)."""
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in cpu]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


async def pump(c: Conn, frames: list[bytes], window: int, deadline: float,
               lat: list[float], acked: list[int], wait_acks: bool) -> None:
    """Send frames keeping at most `window` unacknowledged; record ack latencies."""
    assert c.w is not None
    sent_at: dict[int, float] = {}
    k = 0
    outstanding = 0
    while time.monotonic() < deadline:
        if outstanding < window:
            now = time.perf_counter()
            burst = []
            while outstanding < window:
                f = frames[k % CYCLE]
                sent_at[(3 + k % CYCLE) & 0xFFFF] = now
                burst.append(f)
                k += 1
                outstanding += 1
            c.w.write(b"".join(burst))
        if not wait_acks:
            await c.w.drain()
            outstanding = 0
            acked[0] += len(burst)
            continue
        try:
            got = await asyncio.wait_for(c.replies(), max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            break
        now = time.perf_counter()
        for p in got:
            if p[:2] == b"\x80\x01":
                if b"\x7d" in p:
                    p = p.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
                serial, mid, result = struct.unpack_from(">HHB", p, 12)
                if mid == 0x0200 and result == 0 and serial in sent_at:
                    lat.append((now - sent_at.pop(serial)) * 1000)
                    acked[0] += 1
                    outstanding -= 1


def sender_proc(port: int, first: int, count: int, window: int, duration: float,
                start_at: float, login: bool, wait_acks: bool, out: Any) -> None:
    """One load-generator process: its terminals (logged in again on new connections, which
    replaces their held sessions), then pipelined positions from wall time `start_at`."""

    async def run() -> tuple[int, list[float]]:
        conns = [Conn(i) for i in range(first, first + count)]
        for c in conns:
            await c.open(port)
            if login:
                await c.login()
        ts0 = int(time.time()) * 1000 - 86_400_000
        frames = {c.i: frames_for(c.i, ts0) for c in conns}
        await asyncio.sleep(max(0.0, start_at - time.time()))
        lat: list[float] = []
        acked = [0]
        t0 = time.monotonic()
        await asyncio.gather(*(pump(c, frames[c.i], window, t0 + duration, lat, acked,
                                    wait_acks) for c in conns))
        for c in conns:
            assert c.w is not None
            c.w.close()
        return acked[0], lat

    acked, lat = asyncio.run(run())
    out.put((acked, lat[::10]))


def load(port: int, n_send: int, procs: int, window: int, duration: float, login: bool,
         wait_acks: bool, pids: list[int], broker: list[int] | None = None
         ) -> dict[str, float]:
    """Run `procs` generator processes against the server at `port`; its messages/s, ack
    latency and CPU time per message of the server, the generator, the Kafka broker and the
    rest of the machine (other sessions' processes)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start_at = time.time() + 5 + n_send / 100
    share = [n_send // procs + (1 if k < n_send % procs else 0) for k in range(procs)]
    ps = [ctx.Process(target=sender_proc, args=(port, sum(share[:k]), share[k], window,
                                                duration, start_at, login, wait_acks, q))
          for k in range(procs)]
    for p in ps:
        p.start()
    while time.time() < start_at:
        time.sleep(0.01)
    gen = [p.pid for p in ps if p.pid is not None]
    broker = broker or []
    cpu0, gen0, br0, all0 = cpu_s(pids), cpu_s(gen), cpu_s(broker), machine_busy_s()
    time.sleep(duration)
    cpu1, gen1, br1, all1 = cpu_s(pids), cpu_s(gen), cpu_s(broker), machine_busy_s()
    results = [q.get(timeout=duration + 120) for _ in ps]
    for p in ps:
        p.join(30)
    n = sum(r[0] for r in results)
    lat = sorted(x for r in results for x in r[1])
    return {"per_s": round(n / duration), "count": n,
            "ack_ms_p50": round(statistics.median(lat), 1) if lat else -1.0,
            "ack_ms_p99": round(lat[int(len(lat) * 0.99)], 1) if lat else -1.0,
            "cpu_us_each": round((cpu1 - cpu0) * 1e6 / max(n, 1), 1),
            "generator_cpu_us_each": round((gen1 - gen0) * 1e6 / max(n, 1), 1),
            "broker_cpu_us_each": round((br1 - br0) * 1e6 / max(n, 1), 1),
            # the rest of the machine's busy time: other sessions' processes (and this script)
            "others_cores": round(((all1 - all0) - (cpu1 - cpu0) - (gen1 - gen0)
                                   - (br1 - br0)) / duration, 2),
            "machine_busy_cores": round((all1 - all0) / duration, 2)}


async def hold(port: int, pids: list[int], n_hold: int) -> dict[str, float]:
    """Register and authenticate `n_hold` terminals and keep them; memory before and after."""
    base = rss_kb(pids)
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
    held = rss_kb(pids)
    for c in conns:
        assert c.w is not None
        c.w.close()
    return {"login_s": round(login_s, 1), "rss_base_kb": base, "rss_held_kb": held}


def gateway_figures(port: int, pids: list[int], n_hold: int, n_send: int, procs: int,
                    window: int, duration: float, broker: list[int] | None = None
                    ) -> dict[str, float]:
    """Hold, then throughput to Kafka confirmation."""
    figs: dict[str, float] = asyncio.run(hold(port, pids, n_hold))
    t = load(port, n_send, procs, window, duration, True, True, pids, broker)
    return {**figs, "positions_per_s": t["per_s"], "acked": t["count"],
            "ack_ms_p50": t["ack_ms_p50"], "ack_ms_p99": t["ack_ms_p99"],
            "gateway_cpu_us_per_position": t["cpu_us_each"],
            "broker_cpu_us_per_position": t["broker_cpu_us_each"],
            "generator_cpu_us_per_position": t["generator_cpu_us_each"],
            "gateway_run_others_cores": t["others_cores"],
            "gateway_run_machine_busy_cores": t["machine_busy_cores"]}


def bare_figures(env: dict[str, str], n_send: int, procs: int, window: int,
                 duration: float, echo: bool, processes: int = 1, loop: str = "asyncio"
                 ) -> dict[str, float]:
    """The same generator against `processes` bare asyncio readers sharing a port that only
    split frames (and, with `echo`, answer each with an 0x8001 at once), on the standard
    event loop or uvloop."""
    port = free_port()
    bares = [subprocess.Popen([sys.executable, "-c", BARE, str(port), "echo" if echo else "-",
                               loop],
                              env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(processes)]
    for bare in bares:
        assert bare.stdout is not None
        bare.stdout.readline()
    try:
        return load(port, n_send, procs, window, duration, False, echo,
                    [b.pid for b in bares])
    finally:
        for bare in bares:
            assert bare.stdout is not None
            bare.send_signal(signal.SIGTERM)
            bare.stdout.readline()
            bare.wait(10)


def main() -> None:
    """Run the phases and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="about 1 minute")
    ap.add_argument("--terminals", type=int, default=None)
    ap.add_argument("--senders", type=int, default=100)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--procs", type=int, default=2, help="load-generator processes")
    ap.add_argument("--processes", type=int, default=1,
                    help="gateway processes sharing the port (SO_REUSEPORT)")
    ap.add_argument("--skip-ceiling", action="store_true",
                    help="gateway figures only (for alternating before/after runs)")
    ap.add_argument("--duration", type=float, default=None)
    ap.add_argument("--event-loop", choices=("uvloop", "asyncio"), default="uvloop",
                    help="the gateway's event loop (its --event-loop)")
    ap.add_argument("--gateway-src", default=None,
                    help="run the gateway from another checkout (PYTHONPATH), e.g. to measure "
                         "an older commit in the same run: git archive … | tar -x -C DIR")
    ap.add_argument("--gateway-port", type=int, default=None,
                    help="measure a gateway already running there (e.g. under a profiler; "
                         "its catalog: python -c 'from hazardwatch.simulators.jt808.fleet "
                         "import fleet_catalog; print(fleet_catalog(N))')")
    ap.add_argument("--gateway-pid", type=int, default=None)
    a = ap.parse_args()
    n_hold = a.terminals or (2000 if a.quick else 10_000)
    n_send = min(a.senders, n_hold)
    duration = a.duration or (10.0 if a.quick else 30.0)
    if a.gateway_port is not None:
        pid = a.gateway_pid or os.getpid()
        stack = running_stack()
        kafka = stack.pid(stack.service("kafka"))
        figs = gateway_figures(a.gateway_port, [pid], n_hold, n_send, a.procs, a.window,
                               duration, [kafka] if kafka else [])
        print(json.dumps({"bench": "jt808", "external_gateway": True, **figs}))
        return
    stack = running_stack()
    env = {**os.environ, **stack.settings.to_env(), "HW_JT808_AUTH_SECRET": SECRET}
    gw_env = dict(env)
    if a.gateway_src:
        gw_env["PYTHONPATH"] = a.gateway_src
    with tempfile.TemporaryDirectory(prefix="hw-bench-jt808-") as tmp:
        cat = Path(tmp) / "fleet.yaml"
        cat.write_text(fleet_catalog(n_hold), encoding="utf-8")
        port = free_port()
        prefix = f"bench-{uuid.uuid4().hex[:8]}."
        gws = []
        for k in range(a.processes):
            log_path = Path(tmp) / f"gw{k}.log"
            log = open(log_path, "wb")  # noqa: SIM115
            extra = ["--reuse-port"] if a.processes > 1 else []
            gws.append((subprocess.Popen(
                [sys.executable, "-m", "hazardwatch", "jt808", "--port", str(port),
                 "--catalog", str(cat), "--topic-prefix", prefix, "--heartbeat", "600",
                 "--auth-timeout", "600", "--log-interval", "5",
                 "--client-id", f"hw-jt808-bench-{k + 1}", "--event-loop", a.event_loop,
                 *extra],
                env=gw_env, stdout=log, stderr=subprocess.STDOUT,
                # `python -m` puts the working directory first on sys.path: run the other
                # checkout from its own directory, or this checkout's code would be measured
                cwd=a.gateway_src or None), log_path))
        deadline = time.monotonic() + 60
        for gw, log_path in gws:
            while b"listening" not in log_path.read_bytes():
                if time.monotonic() > deadline or gw.poll() is not None:
                    raise SystemExit(log_path.read_text()[-2000:])
                time.sleep(0.2)
        kafka = stack.pid(stack.service("kafka"))
        try:
            figs = gateway_figures(port, [gw.pid for gw, _ in gws], n_hold, n_send, a.procs,
                                   a.window, duration, [kafka] if kafka else [])
        finally:
            for gw, _ in gws:
                gw.send_signal(signal.SIGTERM)
            for gw, _ in gws:
                gw.wait(60)
    if a.skip_ceiling:
        echo = raw = echo_uv = {"per_s": 0, "ack_ms_p50": -1.0, "cpu_us_each": -1.0,
                      "generator_cpu_us_each": -1.0, "others_cores": -1.0,
                      "machine_busy_cores": -1.0}
    else:
        echo = bare_figures(env, n_send, a.procs, a.window, duration, True, a.processes)
        # the same echo on uvloop: what the gateway's own loop gives a reader that does nothing
        echo_uv = bare_figures(env, n_send, a.procs, a.window, duration / 2, True,
                               a.processes, "uvloop")
        raw = bare_figures(env, n_send, a.procs, a.window, duration / 2, False, a.processes)
    per_terminal = (figs["rss_held_kb"] - figs["rss_base_kb"]) / n_hold
    out = {"bench": "jt808", **machine(), "load_average_1m": os.getloadavg()[0],
           "terminals": n_hold, "senders": n_send, "window": a.window, "procs": a.procs,
           "processes": a.processes, "gateway_src": a.gateway_src or "this checkout",
           "duration_s": duration, **figs,
           "rss_kb_per_terminal": round(per_terminal, 1),
           "echo_ceiling_acks_per_s": echo["per_s"], "echo_ack_ms_p50": echo["ack_ms_p50"],
           "echo_cpu_us_per_ack": echo["cpu_us_each"],
           "echo_generator_cpu_us_per_ack": echo["generator_cpu_us_each"],
           "echo_run_others_cores": echo["others_cores"],
           "echo_run_machine_busy_cores": echo["machine_busy_cores"],
           "ratio_to_ceiling": (round(figs["positions_per_s"] / echo["per_s"], 3)
                                if echo["per_s"] else None),
           "gateway_event_loop": a.event_loop,
           "echo_uvloop_acks_per_s": echo_uv["per_s"],
           "ratio_to_uvloop_echo": (round(figs["positions_per_s"] / echo_uv["per_s"], 3)
                                    if echo_uv["per_s"] else None),
           "ceiling_frames_per_s": raw["per_s"], "bare_cpu_us_per_frame": raw["cpu_us_each"],
           "ratio_to_split_only": (round(figs["positions_per_s"] / raw["per_s"], 3)
                                   if raw["per_s"] else None)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
