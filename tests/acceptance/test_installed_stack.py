"""`hazardwatch stack up|status|down` from the installed wheel, run from a folder outside the
checkout: packaged Kafka pom and logging files, the run directory under the working directory,
and a stack that starts, answers and stops (on ports of its own)."""

from __future__ import annotations

import dataclasses
import subprocess

from hazardwatch.stack import process
from tests.acceptance.conftest import Installed
from tests.helpers import free_port


def test_stack_up_status_down_from_the_installed_package(installed: Installed) -> None:
    ports = {"HW_MQTT_PORT": free_port(), "HW_KAFKA_PORT": free_port(),
             "HW_KAFKA_CONTROLLER_PORT": free_port(), "HW_INFLUX_PORT": free_port(),
             "HW_INFLUX_RPC_PORT": free_port()}
    env = {k: v for k, v in installed.env.items() if k != "HW_RUN_DIR"}  # the default run dir
    env.update({k: str(v) for k, v in ports.items()})
    inst = dataclasses.replace(installed, env=env)

    def hw(*args: str) -> subprocess.CompletedProcess[str]:
        return inst.run("hazardwatch", "stack", *args, timeout=300)

    files = inst.run("python", "-c", "from hazardwatch.resources import packaged as p; "
                     "print(*(p('kafka', f).is_file() for f in ('pom.xml', 'log4j.properties', "
                     "'pom-4.xml', 'log4j2.yaml')))")
    assert files.stdout.split() == ["True"] * 4, files.stdout + files.stderr  # 3.x and 4.x
    up = hw("up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"run dir {inst.cwd / '.run'}" in up.stdout, up.stdout
        status = hw("status")
        assert status.returncode == 0 and status.stdout.count(" running ") == 3, status.stdout
    finally:
        down = hw("down")
    assert down.returncode == 0, down.stdout + down.stderr
    for port in ports.values():
        assert not process.port_is_listening(port), f"port {port} still listening"
    assert hw("status").returncode == 3
