"""Generated service configuration: loopback only, authenticated, idempotent."""

import base64
import hashlib
import socket
from pathlib import Path

from hazardwatch.stack import process
from hazardwatch.stack.influx import InfluxService
from hazardwatch.stack.kafka import random_cluster_id
from hazardwatch.stack.mosquitto import MosquittoService, hash_password
from hazardwatch.stack.settings import StackSettings


def test_password_hash_is_pbkdf2_sha512_in_mosquitto_format() -> None:
    salt = b"0123456789ab"
    h = hash_password("secret", salt=salt)
    _, kind, iterations, salt_b64, digest_b64 = h.split("$")
    assert (kind, iterations) == ("7", "101")
    assert base64.b64decode(salt_b64) == salt
    assert base64.b64decode(digest_b64) == hashlib.pbkdf2_hmac("sha512", b"secret", salt, 101)
    assert hash_password("secret") != hash_password("secret")  # random salt


def test_mosquitto_config_is_loopback_without_anonymous(tmp_path: Path) -> None:
    svc = MosquittoService(StackSettings(run_dir=tmp_path, mqtt_port=1999))
    svc.prepare()
    conf = svc.config_file.read_text()
    assert "listener 1999 127.0.0.1" in conf
    assert "allow_anonymous false" in conf
    first = svc.credentials()
    svc.prepare()
    assert svc.credentials() == first  # credentials are generated once
    acl = svc.acl_file.read_text()
    assert "user hw-bridge\ntopic read hw/#" in acl
    users = [line.split(":")[0] for line in svc.password_file.read_text().splitlines()]
    assert sorted(users) == sorted(first)


def test_influx_config_binds_every_listener_to_loopback(tmp_path: Path) -> None:
    svc = InfluxService(StackSettings(run_dir=tmp_path))
    svc.prepare()
    conf = svc.config_file.read_text()
    binds = [line for line in conf.splitlines() if "bind-address" in line]
    assert len(binds) == 2 and all("127.0.0.1:" in b for b in binds)
    assert "[ifql]\n  enabled = false" in conf
    assert "reporting-disabled = true" in conf


def test_cluster_id_has_kafka_uuid_shape() -> None:
    cid = random_cluster_id()
    assert len(cid) == 22 and "=" not in cid
    assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_cluster_id_never_reads_as_an_option() -> None:
    # 1 in 64 random ids starts with "-", which kafka-storage's parser takes for an option
    assert not any(random_cluster_id().startswith("-") for _ in range(5000))


def test_port_probe_sees_a_listener_and_pid_marker_guards_reuse(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not process.port_is_free(port)
        assert process.port_is_listening(port)
    assert process.port_is_free(port)
    pid_file = tmp_path / "x.pid"
    pid_file.write_text("1\n")
    assert process.read_pid(pid_file, "a-marker-pid-1-does-not-have") is None
