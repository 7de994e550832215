"""The wheel installed in a fresh environment runs from outside the checkout, on packaged defaults.

This is what a new operator does: `pip install hazardwatch-….whl` in a virtual environment and
run the commands with no checkout, no `--rules`, no `HW_CATALOG`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.acceptance.conftest import ROOT, Installed

FIXTURE = ROOT / "tests/fixtures/replay/tank_leak.jsonl"


def _ok(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 0, f"exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    return res.stdout


def _site_packages(inst: Installed) -> Path:
    code = "import hazardwatch, pathlib; print(pathlib.Path(hazardwatch.__file__).parent)"
    return Path(_ok(inst.run("python", "-c", code)).strip())


def test_the_package_is_imported_from_the_environment_not_the_checkout(
        installed: Installed) -> None:
    pkg = _site_packages(installed)
    assert installed.venv in pkg.parents and ROOT not in pkg.parents
    assert not pkg.joinpath("ingest").is_symlink() and not pkg.joinpath("data").is_symlink()


def test_the_gateway_runs_its_fast_path_in_c(installed: Installed) -> None:
    code = ("from hazardwatch.ingest.jt808 import _fast, fastpath\n"
            "print(fastpath.USE_C, _fast.__file__)")
    use_c, path = _ok(installed.run("python", "-c", code)).split()
    assert use_c == "True" and installed.venv in Path(path).parents, path


def test_every_module_imports_with_the_declared_dependencies(installed: Installed) -> None:
    code = ("import importlib, pkgutil, hazardwatch\n"
            "mods = [m.name for m in pkgutil.walk_packages(hazardwatch.__path__, 'hazardwatch.')\n"
            "        if not m.name.endswith('__main__')]\n"
            "for m in mods: importlib.import_module(m)\n"
            "print(len(mods))")
    assert int(_ok(installed.run("python", "-c", code))) > 80


def test_validate_config_reads_the_packaged_demo_catalog(installed: Installed) -> None:
    out = _ok(installed.run("hazardwatch", "validate-config"))
    path, summary = out.split(": OK — ")
    assert Path(path) == _site_packages(installed) / "data/catalog/demo.yaml"
    assert summary.startswith("3 sites,") and "6 vehicles" in summary


def test_replay_gives_the_expected_warnings_with_packaged_rules(installed: Installed) -> None:
    shutil.copy(FIXTURE, installed.cwd / FIXTURE.name)
    res = installed.run("hazardwatch", "replay", FIXTURE.name)
    ws = [json.loads(line) for line in _ok(res).splitlines()]
    assert [(w["transition"], w["level"], w["rule"]) for w in ws] == [
        ("raised", 3, "tank_farm.gas_combustible.threshold"),
        ("upgraded", 2, "tank_farm.gas_combustible.threshold"),
        ("raised", 1, "combo.tank.gas_and_heat"),
        ("raised", 3, "tank_farm.temperature.threshold"),
        ("downgraded", 3, "tank_farm.gas_combustible.threshold"),
        ("cleared", 3, "tank_farm.temperature.threshold"),
        ("cleared", 1, "combo.tank.gas_and_heat"),
        ("cleared", 3, "tank_farm.gas_combustible.threshold"),
        ("raised", 4, "device.offline"),
    ]
    assert "1 rejected (not_json 1)" in res.stderr
    here = subprocess.run([sys.executable, "-m", "hazardwatch", "replay", str(FIXTURE)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert res.stdout == here.stdout  # the packaged defaults are the checkout's deploy/ files


def test_built_in_drills_and_the_alerting_config_validate(installed: Installed) -> None:
    for name in ("combined", "tank_farm", "coal_mine", "tailings_dam", "vehicles"):
        assert f"drill: {name} is valid" in _ok(installed.run("hazardwatch", "drill", name,
                                                               "--check")), name
    out = _ok(installed.run("hazardwatch", "alerting", "--check"))
    assert "data/alerting/alerting.yaml is valid" in out


def test_service_commands_start_their_argument_parsing(installed: Installed) -> None:
    for cmd in ("drill", "worker", "alerting", "bridge", "sink", "stack", "dashboards"):
        out = _ok(installed.run("hazardwatch", cmd, "--help"))
        assert out.startswith(f"usage: hazardwatch {cmd}"), cmd
