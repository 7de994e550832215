"""deploy/mosquitto/mosquitto.conf run by the real Mosquitto on the files `hazardwatch mqtt-acl`
writes (as compose's one-shot does): devices only over TLS and only on their own topics, the
bridge on the loopback listener, persistence in the state folder.

Only addresses change (free loopback ports, temporary folders; `user root` because the test
runs as root, where compose runs Mosquitto as uid 10001).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hazardwatch.stack.process import port_is_listening
from tests.deployfiles import DEPLOY
from tests.helpers import MqttProbe, free_port, wait_for


@dataclass(frozen=True)
class Broker:
    """The production config running: its ports, accounts and files."""

    plain: int  # the loopback listener (the bridge)
    tls: int  # the device listener
    ca: Path
    state: Path
    platform: dict[str, str]
    devices: dict[str, dict[str, object]]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """mqtt-acl on the demo catalog, certificates, then mosquitto -c the deploy config."""
    tmp = tmp_path_factory.mktemp("mosquitto")
    run, certs = tmp / "state", tmp / "certs"
    certs.mkdir()
    res = subprocess.run([sys.executable, "-m", "hazardwatch", "mqtt-acl", "--catalog",
                          str(DEPLOY / "catalog/demo.yaml")], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "HW_RUN_DIR": str(run),
                                           "HW_CATALOG": str(DEPLOY / "catalog/demo.yaml")},
                         check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(certs / "server.key"), "-out", str(certs / "server.crt"),
                    "-subj", "/CN=mqtt.test.cn", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    shutil.copy(certs / "server.crt", certs / "ca.crt")
    plain, tls = free_port(), free_port()
    text = (DEPLOY / "mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    for old, new in (("/var/lib/hazardwatch/", f"{run}/"), ("/mosquitto/certs/", f"{certs}/"),
                     ("listener 11883 127.0.0.1", f"listener {plain} 127.0.0.1"),
                     ("listener 8883 0.0.0.0", f"listener {tls} 127.0.0.1")):
        assert old in text, old
        text = text.replace(old, new)
    conf = tmp / "mosquitto.conf"
    conf.write_text("user root\nlog_dest stdout\n" + text, encoding="utf-8")
    log = open(tmp / "mosquitto.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: proc.poll() is not None
                 or (port_is_listening(plain) and port_is_listening(tls)), timeout=20)
        assert proc.poll() is None, (tmp / "mosquitto.log").read_text()
        mq = run / "mosquitto"
        yield Broker(plain, tls, certs / "ca.crt", mq,
                     json.loads((mq / "credentials.json").read_text()),
                     json.loads((mq / "devices.json").read_text()))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _device(broker: Broker, kind: str = "dev.") -> tuple[str, str, str]:
    user, spec = next((u, s) for u, s in broker.devices.items() if u.startswith(kind))
    return user, str(spec["password"]), str(spec["topic_base"])


def _tls_probe(broker: Broker, user: str | None, password: str | None) -> MqttProbe:
    probe = MqttProbe(broker.tls, user, password)
    probe.client.tls_set(ca_certs=str(broker.ca))
    return probe


def test_a_device_publishes_over_tls_and_the_bridge_receives_on_loopback(
        broker: Broker) -> None:
    bridge = MqttProbe(broker.plain, "hw-bridge", broker.platform["hw-bridge"])
    assert bridge.connect().value == 0
    bridge.client.subscribe("hw/#", qos=1)
    time.sleep(0.3)
    user, password, base = _device(broker)
    device = _tls_probe(broker, user, password)
    try:
        assert device.connect().value == 0
        device.client.publish(f"{base}/telemetry", b'{"ts": 1, "points": []}', qos=1)
        other = base.rsplit("/", 1)[0] + "/someone-else/telemetry"
        device.client.publish(other, b"{}", qos=1)  # outside its ACL: dropped by the broker
        wait_for(lambda: [m for m in bridge.messages if m.topic == f"{base}/telemetry"])
        time.sleep(0.5)
        assert not [m for m in bridge.messages if m.topic == other]
    finally:
        device.close()
        bridge.close()


def test_wrong_password_and_anonymous_are_refused_over_tls(broker: Broker) -> None:
    user, _, _ = _device(broker)
    for who, password in ((user, "wrong-password"), (None, None)):
        probe = _tls_probe(broker, who, password)
        try:
            assert probe.connect().value != 0, who
        finally:
            probe.close()


def test_the_device_listener_speaks_only_tls(broker: Broker) -> None:
    user, password, _ = _device(broker)
    probe = MqttProbe(broker.tls, user, password)  # plain MQTT to the TLS port
    try:
        with pytest.raises((AssertionError, OSError)):
            probe.connect(timeout=3)
    finally:
        probe.close()


def test_the_passwords_stay_unreadable_to_others(broker: Broker) -> None:
    for name in ("passwd", "credentials.json", "devices.json"):
        assert (broker.state / name).stat().st_mode & 0o077 == 0, name
