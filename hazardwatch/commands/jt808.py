"""`hazardwatch jt808`: the JT/T 808 gateway, and `hazardwatch jt808 decode` for one-off frames."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hazardwatch.ingest.jt808.bcdtime import GMT8_S
from hazardwatch.ingest.jt808.describe import describe_line
from hazardwatch.ingest.jt808.subpackage import Reassembler


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    p = sub.add_parser("jt808", help="JT/T 808 terminals: the TCP gateway, or decode frames")
    inner = p.add_subparsers(dest="jt808_command")
    d = inner.add_parser("decode", help="hex frames (one per line) → one JSON line per frame")
    d.add_argument("input", nargs="?", type=Path, default=Path("-"),
                   help="a file of hex lines; - or nothing for stdin")
    d.add_argument("--utc-offset", type=float, default=GMT8_S / 3600, metavar="HOURS",
                   help="the terminals' clock zone (default 8: GMT+8, as JT/T 808 says)")
    d.set_defaults(func=run_decode)
    p.set_defaults(func=run_decode_help(p))


def run_decode_help(p: argparse.ArgumentParser) -> object:
    """Until the gateway lands: print the usage."""

    def run(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    return run


def run_decode(args: argparse.Namespace) -> int:
    """Print one JSON line per frame; exit 1 if any frame was rejected."""
    offset = round(args.utc_offset * 3600)
    asm = Reassembler(timeout_s=float("inf"))
    fh = sys.stdin if str(args.input) == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    rejected = 0
    try:
        for line in fh:
            for out in describe_line(line, asm, offset):
                rejected += "rejected" in out
                sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    finally:
        if fh is not sys.stdin:
            fh.close()
    return 1 if rejected else 0
