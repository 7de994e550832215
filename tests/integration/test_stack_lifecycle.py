"""`hazardwatch stack` lifecycle on its own run directory and ports: idempotent up, clean down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from hazardwatch.stack import process
from hazardwatch.stack.settings import StackSettings
from tests.helpers import free_port


def _run(settings: StackSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.to_env()}
    return subprocess.run([sys.executable, "-m", "hazardwatch", "stack", *args], env=env,
                          capture_output=True, text=True, timeout=240, check=False)


def test_up_twice_status_down_leaves_nothing(tmp_path: Path) -> None:
    s = StackSettings(run_dir=tmp_path / "run", mqtt_port=free_port(), kafka_port=free_port(),
                      kafka_controller_port=free_port(), influx_port=free_port(),
                      influx_rpc_port=free_port())
    ports = [s.mqtt_port, s.kafka_port, s.kafka_controller_port, s.influx_port, s.influx_rpc_port]
    first = _run(s, "up")
    try:
        assert first.returncode == 0, first.stderr
        pids = {p.name: int(p.read_text()) for p in (tmp_path / "run").glob("*/*.pid")}
        assert set(pids) == {"mosquitto.pid", "influxdb.pid", "kafka.pid"}
        second = _run(s, "up")
        assert second.returncode == 0, second.stderr
        assert second.stdout.count("already running") == 3
        assert {p.name: int(p.read_text()) for p in (tmp_path / "run").glob("*/*.pid")} == pids
        status = _run(s, "status")
        assert status.returncode == 0 and status.stdout.count(" running ") == 3, status.stdout
    finally:
        down = _run(s, "down")
    assert down.returncode == 0, down.stderr
    for pid in pids.values():
        assert process.cmdline(pid) == "" or process.is_zombie(pid), f"pid {pid} still alive"
    for port in ports:
        assert not process.port_is_listening(port), f"port {port} still listening"
    assert _run(s, "status").returncode == 3


def test_taken_port_gives_a_clear_error(tmp_path: Path) -> None:
    s = StackSettings(run_dir=tmp_path / "run", mqtt_port=free_port(), kafka_port=free_port(),
                      kafka_controller_port=free_port(), influx_port=free_port(),
                      influx_rpc_port=free_port())
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", s.kafka_port))
        blocker.listen()
        out = _run(s, "up")
    assert out.returncode == 2
    assert f"kafka: port {s.kafka_port} on 127.0.0.1 is already taken" in out.stderr
    assert "kafka.log" in out.stderr
    assert not list((tmp_path / "run").glob("*/*.pid")), "nothing may start after a failed check"


def test_a_failed_up_stops_what_it_started(tmp_path: Path) -> None:
    s = StackSettings(run_dir=tmp_path / "run", mqtt_port=free_port(), kafka_port=free_port(),
                      kafka_controller_port=free_port(), influx_port=free_port(),
                      influx_rpc_port=free_port())
    ports = [s.mqtt_port, s.kafka_port, s.kafka_controller_port, s.influx_port, s.influx_rpc_port]
    data = tmp_path / "run" / "kafka" / "data"
    data.mkdir(parents=True)  # storage of another node: the broker exits during start-up
    (data / "meta.properties").write_text(
        "version=1\nnode.id=7\ncluster.id=aaaaaaaaaaaaaaaaaaaaaa\n"
        "directory.id=bbbbbbbbbbbbbbbbbbbbbb\n")
    out = _run(s, "up")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "kafka: exited with code" in out.stderr
    assert "mosquitto: stopped again" in out.stdout and "influxdb: stopped again" in out.stdout
    assert not list((tmp_path / "run").glob("*/*.pid"))
    for port in ports:
        assert not process.port_is_listening(port), f"port {port} still listening"
