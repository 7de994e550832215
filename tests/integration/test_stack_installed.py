"""`hazardwatch stack up|status|down` from the built wheel, installed outside the checkout.

Lean on purpose: the wheel goes into a fresh virtual environment without its dependencies,
which it borrows from the checkout's environment through a path file (the checkout's own
editable `hazardwatch` stays out of sight: that environment's .pth files are not run). What is
checked is HazardWatch's part: packaged Kafka pom and logging files, the run directory under
the working directory, and that the services start, answer and stop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from hazardwatch.stack import process
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _sh(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          **kw)  # type: ignore[call-overload]


def test_stack_runs_from_the_installed_wheel_outside_the_checkout(tmp_path: Path) -> None:
    built = _sh([sys.executable, "-m", "pip", "wheel", "--no-deps",
                 "--disable-pip-version-check", "-q", "-w", str(tmp_path / "dist"), str(ROOT)])
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("hazardwatch-*.whl"))
    venv = tmp_path / "venv"
    assert _sh([sys.executable, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    py = venv / "bin" / "python"
    inst = _sh([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                "--disable-pip-version-check", "-q", str(wheel)])
    assert inst.returncode == 0, inst.stderr
    site = Path(_sh([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                .stdout.strip())
    (site / "zz-borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    operator = tmp_path / "operator"  # a directory outside the checkout, as an operator's
    operator.mkdir()
    ports = {"HW_MQTT_PORT": free_port(), "HW_KAFKA_PORT": free_port(),
             "HW_KAFKA_CONTROLLER_PORT": free_port(), "HW_INFLUX_PORT": free_port(),
             "HW_INFLUX_RPC_PORT": free_port()}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HW_") or k in ("HW_INFLUX_VERSION", "HW_KAFKA_VERSION")}
    env.update({k: str(v) for k, v in ports.items()})
    env["PYTHONPATH"] = ""

    def hw(*args: str) -> subprocess.CompletedProcess[str]:
        return _sh([str(venv / "bin" / "hazardwatch"), *args], cwd=operator, env=env)

    where = _sh([str(py), "-c", "import hazardwatch.resources as r; print(r.__file__); "
                 "print(r.packaged('kafka', 'pom.xml'))"], cwd=operator, env=env)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    assert where.stdout.splitlines()[1].startswith(str(site)), where.stdout
    up = hw("stack", "up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"run dir {operator / '.run'}" in up.stdout
        status = hw("stack", "status")
        assert status.returncode == 0 and status.stdout.count(" running ") == 3, status.stdout
    finally:
        down = hw("stack", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    for port in ports.values():
        assert not process.port_is_listening(port), f"port {port} still listening"
    assert (operator / ".run" / "kafka" / "libs").is_dir()
