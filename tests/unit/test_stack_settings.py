"""StackSettings: defaults, HW_* overrides and precise errors."""

from pathlib import Path

import pytest

from hazardwatch.stack.settings import StackSettings


def test_defaults_are_loopback_ports_under_run_dir() -> None:
    s = StackSettings.from_env({"HW_RUN_DIR": "/tmp/x"})
    assert s.run_dir == Path("/tmp/x")
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.influx_url == "http://127.0.0.1:18086"


def test_env_overrides_and_round_trip() -> None:
    env = {"HW_RUN_DIR": "/tmp/y", "HW_MQTT_PORT": "2883", "HW_INFLUX_DB": "t1"}
    s = StackSettings.from_env(env)
    assert (s.mqtt_port, s.influx_db) == (2883, "t1")
    assert StackSettings.from_env(s.to_env()) == s


def test_clients_can_reach_services_on_other_hosts() -> None:
    env = {"HW_RUN_DIR": "/tmp/z", "HW_KAFKA_SERVERS": "k1:9092,k2:9092",
           "HW_MQTT_HOST": "mq.plant", "HW_INFLUX_HOST": "tsdb.plant", "HW_INFLUX_PORT": "8086"}
    s = StackSettings.from_env(env)
    assert s.kafka_bootstrap == "k1:9092,k2:9092"
    assert s.mqtt_host == "mq.plant"
    assert s.influx_url == "http://tsdb.plant:8086"
    assert StackSettings.from_env(s.to_env()) == s


@pytest.mark.parametrize(("value", "needle"), [("abc", "not a port"), ("70000", "outside")])
def test_bad_port_is_a_clear_error(value: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        StackSettings.from_env({"HW_KAFKA_PORT": value})


def test_two_services_on_one_port_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="kafka_controller_port and kafka_port are both 19092"):
        StackSettings.from_env({"HW_KAFKA_CONTROLLER_PORT": "19092"})


def test_free_port_never_repeats_in_one_process() -> None:
    from hazardwatch.stack.process import free_port

    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)


def test_every_command_takes_its_catalog_from_hw_catalog(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    from hazardwatch.cli import build_parser
    monkeypatch.setenv("HW_CATALOG", str(tmp_path / "fleet.json"))
    parser = build_parser()
    for command in ("bridge", "worker", "sink", "replay"):
        argv = [command, "in.jsonl"] if command == "replay" else [command]
        assert parser.parse_args(argv).catalog == tmp_path / "fleet.json", command
    monkeypatch.delenv("HW_CATALOG")
    assert build_parser().parse_args(["bridge"]).catalog.name == "demo.yaml"
