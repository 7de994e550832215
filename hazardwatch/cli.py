"""The `hazardwatch` command line: thin entry points over factories."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hazardwatch.commands import (
    alerting,
    bridge,
    config,
    dashboards,
    denied,
    drill,
    jt808,
    kpis,
    replay,
    report,
    simulate,
    sink,
    stack,
    worker,
)
from hazardwatch.contracts.catalog import CatalogError
from hazardwatch.stack.errors import StackError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="hazardwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (stack, config, bridge, replay, worker, sink, alerting, drill, simulate,
                   dashboards, jt808, denied, kpis, report):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `hazardwatch` console script."""
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except CatalogError as exc:
        print(f"hazardwatch: {exc}", file=sys.stderr)
        code = 1
    except (StackError, ValueError) as exc:
        print(f"hazardwatch: {exc}", file=sys.stderr)
        code = 2
    sys.exit(code)
