"""`hazardwatch jt808`: the JT/T 808 gateway, and `hazardwatch jt808 decode` for one-off frames."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.jt808.bcdtime import GMT8_S
from hazardwatch.ingest.jt808.describe import describe_line
from hazardwatch.ingest.jt808.subpackage import Reassembler
from hazardwatch.ingest.jt808.variants import ActiveSafety
from hazardwatch.stack.settings import StackSettings, default_catalog

GC_YOUNG = 10_000  # allocations between young collections (Python: 700)
log = logging.getLogger("hazardwatch.jt808")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("jt808", help="JT/T 808 terminals: the TCP gateway, or decode frames")
    inner = p.add_subparsers(dest="jt808_command")
    d = inner.add_parser("decode", help="hex frames (one per line) → one JSON line per frame")
    d.add_argument("input", nargs="?", type=Path, default=Path("-"),
                   help="a file of hex lines; - or nothing for stdin")
    d.add_argument("--utc-offset", type=float, default=GMT8_S / 3600, metavar="HOURS",
                   help="the terminals' clock zone (default 8: GMT+8, as JT/T 808 says)")
    d.add_argument("--active-safety", default="jsatl",
                   choices=["jsatl", "heilongjiang", "guangdong", "hunan", "sichuan"],
                   help="the 主动安全 variant of the alarm items (default jsatl: 苏标)")
    d.set_defaults(func=run_decode)
    sim = inner.add_parser("simulate", help="load mode: N simulated terminals over TCP")
    sim.add_argument("--terminals", type=int, default=100)
    sim.add_argument("--rate", type=float, default=100.0, help="positions per second, in total")
    sim.add_argument("--duration", type=float, default=30.0, metavar="SECONDS")
    sim.add_argument("--gateway", default="127.0.0.1:6808", metavar="HOST:PORT")
    sim.add_argument("--catalog-out", type=Path, default=None,
                     help="write the fleet's catalog here and exit (start the gateway with it)")
    sim.set_defaults(func=run_simulate)
    p.add_argument("--host", default=os.environ.get("HW_JT808_HOST", "127.0.0.1"),
                   help="listen address (default 127.0.0.1; HW_JT808_HOST)")
    p.add_argument("--port", type=int, default=int(os.environ.get("HW_JT808_PORT", "6808")),
                   help="listen port (default 6808; HW_JT808_PORT)")
    p.add_argument("--catalog", type=Path, default=default_catalog())
    p.add_argument("--client-id", default=f"hw-jt808-{os.uname().nodename}-1")
    p.add_argument("--topic-prefix", default="", help="prefix for Kafka topic names")
    p.add_argument("--heartbeat", type=float, default=60.0, metavar="SECONDS",
                   help="the terminals' heartbeat interval; idle after 3 of them")
    p.add_argument("--auth-timeout", type=float, default=60.0, metavar="SECONDS")
    p.add_argument("--max-connections", type=int, default=50_000)
    p.add_argument("--reuse-port", action="store_true",
                   help="SO_REUSEPORT: several gateway processes share one port")
    p.add_argument("--drill", action="store_true",
                   help="mark every record drill: true (simulated terminals of a drill)")
    p.add_argument("--log-interval", type=float, default=30.0, metavar="SECONDS")
    p.add_argument("--attachment-port", type=int,
                   default=_env_int("HW_JT808_ATTACHMENT_PORT"),
                   help="苏标 attachment server port (0x9208 sends terminals there); off if unset")
    p.add_argument("--attachment-host", default=None,
                   help="address terminals are told to upload to (default: --host)")
    p.add_argument("--attachment-dir", type=Path, default=None,
                   help="where attachments are kept (default: the run dir's jt808/attachments)")
    p.add_argument("--attachment-max-mb", type=float, default=50.0)
    p.add_argument("--files-port", type=int, default=_env_int("HW_JT808_FILES_PORT"),
                   help="HTTP port serving the attachments (the warnings' evidence links)")
    p.add_argument("--files-url", default=None,
                   help="public base URL of that HTTP server (default http://HOST:FILES_PORT)")
    p.add_argument("--event-loop", choices=("uvloop", "asyncio"),
                   default=os.environ.get("HW_JT808_EVENT_LOOP", "uvloop"),
                   help="uvloop (default) or the standard asyncio loop (HW_JT808_EVENT_LOOP)")
    p.add_argument("--no-downlink", action="store_true",
                   help="do not read hw.warnings for 0x8300 reminders")
    p.set_defaults(func=run_gateway)


def run_simulate(args: argparse.Namespace) -> int:
    """Register, authenticate and report; the last line is JSON (sent, acked, reconnects)."""
    from hazardwatch.simulators.jt808.fleet import Tally, drive, fleet_catalog

    if args.catalog_out is not None:
        args.catalog_out.write_text(fleet_catalog(args.terminals), encoding="utf-8")
        print(f"catalog of {args.terminals} terminals written to {args.catalog_out}")
        return 0
    host, _, port = args.gateway.rpartition(":")
    tally = Tally()

    async def main() -> None:
        stop = asyncio.Event()
        start_ts = int(time.time()) * 1000 - int(args.duration * 1000)
        interval = args.terminals / args.rate if args.rate > 0 else 1.0
        run = asyncio.gather(*(drive(i, host, int(port), start_ts, stop, tally, interval)
                               for i in range(args.terminals)))
        await asyncio.sleep(args.duration)
        stop.set()
        await run

    t0 = time.monotonic()
    asyncio.run(main())
    took = time.monotonic() - t0
    lat = sorted(tally.ack_ms)
    print(json.dumps({"terminals": args.terminals, "sent": tally.sent, "acked": len(tally.acked),
                      "acked_per_s": round(len(tally.acked) / took, 1),
                      "reconnects": tally.reconnects, "timeouts": tally.timeouts,
                      "ack_ms_p50": round(lat[len(lat) // 2], 1) if lat else None}))
    return 0 if tally.acked else 1


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def auth_secret(settings: StackSettings) -> bytes:
    """HW_JT808_AUTH_SECRET, else a random secret kept in the local stack's run directory."""
    if os.environ.get("HW_JT808_AUTH_SECRET"):
        return os.environ["HW_JT808_AUTH_SECRET"].encode()
    path = settings.run_dir / "jt808" / "auth_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def run_gateway(args: argparse.Namespace) -> int:
    """Run the gateway until SIGTERM or SIGINT, then flush and exit 0."""
    from hazardwatch.ingest.jt808.attachment_server import AttachmentServer
    from hazardwatch.ingest.jt808.attachments import FileStore
    from hazardwatch.ingest.jt808.downlink import WarningFeed
    from hazardwatch.ingest.jt808.files_http import serve_files
    from hazardwatch.ingest.jt808.kafka import KafkaSink
    from hazardwatch.ingest.jt808.registry import Registry
    from hazardwatch.ingest.jt808.server import Gateway, GatewayConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = StackSettings.from_env()
    files_url = args.files_url or f"http://{args.host}:{args.files_port or 0}"
    cfg = GatewayConfig(host=args.host, port=args.port, kafka_bootstrap=settings.kafka_bootstrap,
                        topic_prefix=args.topic_prefix, client_id=args.client_id,
                        heartbeat_s=args.heartbeat, auth_timeout_s=args.auth_timeout,
                        max_connections=args.max_connections, reuse_port=args.reuse_port,
                        drill=args.drill, log_interval_s=args.log_interval,
                        attachment_host=args.attachment_host or args.host,
                        attachment_port=args.attachment_port, files_url=files_url.rstrip("/"))
    folder = args.attachment_dir or settings.run_dir / "jt808" / "attachments"
    registry = Registry(load_catalog(args.catalog), auth_secret(settings))

    async def main() -> None:
        gw = Gateway(cfg, registry, KafkaSink(cfg.kafka_bootstrap, cfg.client_id,
                                              cfg.topic_prefix))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, gw.stop)
        feed = None
        if not args.no_downlink and not args.drill:  # a drill never reminds anyone
            feed = WarningFeed(cfg.kafka_bootstrap, cfg.topic_prefix, cfg.client_id,
                               gw.deliver_threadsafe)
        await gw.start()
        quiet_gc()
        if cfg.attachment_port is not None:
            store = FileStore(folder, int(args.attachment_max_mb * 1024 * 1024))
            gw.attachments = AttachmentServer(args.host, cfg.attachment_port, registry, store,
                                              gw.counters)
            await gw.attachments.start()
        if args.files_port is not None:
            folder.mkdir(parents=True, exist_ok=True)
            serve_files(folder, args.host, args.files_port)
            log.info("jt808 attachments served at %s/jt808/attachments/", cfg.files_url)
        if feed is not None:
            feed.start()
        try:
            await gw.run()
        finally:
            if feed is not None:
                feed.stop()

    with asyncio.Runner(loop_factory=event_loop_factory(args.event_loop)) as runner:
        runner.run(main())
    return 0


def event_loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """The gateway's event loop: uvloop (libuv; about 20 % more positions per second per
    process in `bench/jt808.py`) or the standard library's."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def quiet_gc() -> None:
    """The catalog, the registry and the modules live as long as the process: frozen out of
    the collector's scans; young collections rarer (every position allocates a few
    short-lived objects: the collector was ~10 % of the gateway's CPU)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 20, 20)


def run_decode(args: argparse.Namespace) -> int:
    """Print one JSON line per frame; exit 1 if any frame was rejected."""
    offset = round(args.utc_offset * 3600)
    asm = Reassembler(timeout_s=float("inf"))
    fh = sys.stdin if str(args.input) == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    rejected = 0
    try:
        for line in fh:
            for out in describe_line(line, asm, offset, ActiveSafety(args.active_safety)):
                rejected += "rejected" in out
                sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    finally:
        if fh is not sys.stdin:
            fh.close()
    return 1 if rejected else 0
