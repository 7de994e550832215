"""A device knocking on the wrong topic is counted: real Mosquitto, its ACL and its log.

A broker of its own (the shared stack logs no debug lines): the same password hashing and
per-device ACL shape as the stack, `log_type debug`, which is where Mosquitto logs denials.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hazardwatch.ingest.denied import DeniedPublishes
from hazardwatch.stack.mosquitto import hash_password
from hazardwatch.stack.process import free_port
from tests.helpers import MqttProbe, wait_for

USER, PASSWORD = "dev.tf-hohhot-01.dcs-gw-01", "pw-dcs"
OWN = "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01/telemetry"
WRONG = "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-1/telemetry"  # a typo in the device id


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[int, Path, subprocess.Popen[bytes]]]:
    port, log = free_port(), tmp_path / "mosquitto.log"
    (tmp_path / "passwd").write_text(f"{USER}:{hash_password(PASSWORD)}\n")
    (tmp_path / "acl").write_text(f"user {USER}\ntopic write hw/v1/sites/tf-hohhot-01/devices/"
                                  "dcs-gw-01/#\n")
    (tmp_path / "mosquitto.conf").write_text("\n".join([
        "user root", f"listener {port} 127.0.0.1", "allow_anonymous false",
        f"password_file {tmp_path / 'passwd'}", f"acl_file {tmp_path / 'acl'}",
        f"log_dest file {log}", "log_type notice", "log_type debug", ""]))
    proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(tmp_path / "mosquitto.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: _listening(port), 10)
        yield port, log, proc
    finally:
        proc.terminate()
        proc.wait(10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_publishes_on_a_wrong_topic_are_counted_per_device(
        broker: tuple[int, Path, subprocess.Popen[bytes]]) -> None:
    port, log, proc = broker
    # MQTT 3.1.1: the refused publish still gets its PUBACK, the device never knows
    old = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gw-dcs-01-v311",
                      protocol=mqtt.MQTTv311)
    old.username_pw_set(USER, PASSWORD)
    old.connect("127.0.0.1", port)
    old.loop_start()
    infos = [old.publish(WRONG, b'{"ts": 1}', qos=1) for _ in range(3)]
    infos.append(old.publish(OWN, b'{"ts": 1}', qos=1))
    for info in infos:
        info.wait_for_publish(5)
    old.disconnect()
    old.loop_stop()
    # MQTT 5: the PUBACK says "Not authorized"
    new = MqttProbe(port, USER, PASSWORD, client_id="gw-dcs-01-v5")
    new.connect()
    info = new.client.publish(WRONG, b'{"ts": 1}', qos=1)
    rc = wait_for(lambda: new.pubacks.get(info.mid), 5)
    assert rc.getName() == "Not authorized"
    new.close()
    time.sleep(0.3)
    proc.terminate()  # (the log file is complete once the broker has flushed it)
    proc.wait(10)
    counter = DeniedPublishes()
    for line in log.read_text().splitlines():
        counter.feed(line)
    assert dict(counter.denied) == {(USER, WRONG): 4}
    assert f'hw_mqtt_denied_publish_total{{account="{USER}",topic="{WRONG}"}} 4' \
        in counter.prometheus()
    out = subprocess.run([sys.executable, "-m", "hazardwatch", "denied-publishes", "--log",
                          str(log)], capture_output=True, text=True, check=True).stdout
    assert f'"account": "{USER}", "topic": "{WRONG}", "denied": 4' in out
