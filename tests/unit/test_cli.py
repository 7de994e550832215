"""The command line registers every subcommand and starts only the one it runs."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys

from hazardwatch.cli import COMMANDS, build_parser


def _choices(parser: argparse.ArgumentParser) -> set[str]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_the_table_names_every_subcommand_and_its_module_registers_it() -> None:
    assert _choices(build_parser()) == set(COMMANDS)
    for command in COMMANDS:
        assert command in _choices(build_parser(command)), command


def test_running_one_subcommand_imports_no_other_command_module() -> None:
    code = ("import sys\n"
            "from hazardwatch.cli import build_parser\n"
            "build_parser('bridge').parse_args(['bridge', '--topic-prefix', 'x.'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('hazardwatch.commands.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    loaded = ast.literal_eval(out)
    assert "hazardwatch.commands.bridge" in loaded
    assert not {"hazardwatch.commands.kpis", "hazardwatch.commands.report",
                "hazardwatch.commands.worker", "hazardwatch.commands.drill"} & set(loaded), loaded
