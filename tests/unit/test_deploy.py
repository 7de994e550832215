"""The production files that CI cannot run: they parse and refer to what exists."""

from __future__ import annotations

from pathlib import Path

import yaml

from hazardwatch.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_commands_are_valid_subcommands_and_mounted_files_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    parser = build_parser()
    ours = {n: s for n, s in compose["services"].items() if s.get("image") == "hazardwatch:latest"}
    assert set(ours) == {"bridge", "worker", "sink", "alerting"}
    for svc in ours.values():
        parser.parse_args(svc["command"])  # exits (fails the test) on an unknown option
    for svc in compose["services"].values():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./") and not any(s in src for s in ("certs", "catalog")):
                assert (DEPLOY / src).exists(), src
    assert (DEPLOY / compose["x-hw"]["build"]["dockerfile"].removeprefix("deploy/")).exists()


def test_systemd_units_run_valid_subcommands() -> None:
    parser = build_parser()
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
        argv = line.split("hazardwatch ", 1)[1].replace("%H", "host").split()
        parser.parse_args(argv)
