"""The `hazardwatch` command line: thin entry points over factories."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from hazardwatch.contracts.catalog import CatalogError
from hazardwatch.stack.errors import StackError

# The module under hazardwatch/commands/ that registers each subcommand, in `--help` order.
# `main` imports only the module of the subcommand it runs: a process start then skips the
# other commands' dependencies (numpy, the report renderers, the MQTT bridge …).
COMMANDS: dict[str, str] = {
    "stack": "stack", "validate-config": "config", "mqtt-acl": "config", "bridge": "bridge",
    "replay": "replay", "worker": "worker", "sink": "sink", "alerting": "alerting",
    "drill": "drill", "simulate": "simulate", "dashboards": "dashboards", "jt808": "jt808",
    "denied-publishes": "denied", "kpis": "kpis", "report": "report",
}


class _Command(Protocol):
    """A module of hazardwatch/commands/."""

    def add_parser(self, sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Register its subcommand(s)."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every subcommand, or of `command` alone (if it is one)."""
    parser = argparse.ArgumentParser(prog="hazardwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for name in modules:
        module = cast(_Command, importlib.import_module(f"hazardwatch.commands.{name}"))
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `hazardwatch` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)  # no top-level options
    args = build_parser(command).parse_args(argv)
    try:
        code = args.func(args)
    except CatalogError as exc:
        print(f"hazardwatch: {exc}", file=sys.stderr)
        code = 1
    except (StackError, ValueError) as exc:
        print(f"hazardwatch: {exc}", file=sys.stderr)
        code = 2
    sys.exit(code)
