"""Choosing the InfluxDB and Kafka releases of the local stack (no service is started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazardwatch.stack import influx_build
from hazardwatch.stack.errors import StackError
from hazardwatch.stack.kafka import KafkaService, major
from hazardwatch.stack.settings import StackSettings


def test_settings_default_to_influxdb_1_8_and_kafka_3_9_and_read_the_environment() -> None:
    s = StackSettings.from_env({"HW_RUN_DIR": "/tmp/x"})
    assert (s.influx_version, s.kafka_version) == ("1.8.3", "3.9.1")
    s = StackSettings.from_env({"HW_RUN_DIR": "/tmp/x", "HW_INFLUX_VERSION": "1.6",
                                "HW_KAFKA_VERSION": "4.1.2"})
    assert (s.influx_version, s.kafka_version) == ("1.6", "4.1.2")
    assert s.to_env()["HW_KAFKA_VERSION"] == "4.1.2"


def test_only_known_release_lines_are_accepted() -> None:
    assert (major("3.9.1"), major("4.1.2"), major("4.0.0")) == (3, 4, 4)
    for bad in ("3.8.0", "2.8.1", "5.0.0", "4.1", "latest"):
        with pytest.raises(StackError, match="HW_KAFKA_VERSION"):
            major(bad)
    for bad in ("1.7.10", "2.7.0", "1.8", "latest"):
        with pytest.raises(StackError, match="HW_INFLUX_VERSION"):
            influx_build.check_version(bad)


def test_influxd_1_8_lives_in_the_user_cache_and_1_6_is_debians(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HW_CACHE_DIR", str(tmp_path))
    assert influx_build.binary("1.8.3") == tmp_path / "influxdb-1.8.3" / "bin" / "influxd"
    assert influx_build.binary("1.6") == Path("/usr/bin/influxd")
    monkeypatch.delenv("HW_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert influx_build.cache_dir() == tmp_path / "xdg" / "hazardwatch"


def test_a_present_build_is_reused_without_go(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("HW_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no go on the path
    target = influx_build.binary("1.8.3")
    target.parent.mkdir(parents=True)
    target.write_text("#!/bin/sh\n")
    said: list[str] = []
    assert influx_build.build("1.8.3", said.append) == target and said == []


def test_kafka_4_logs_with_log4j2_and_3_with_reload4j(tmp_path: Path) -> None:
    k3 = KafkaService(StackSettings(run_dir=tmp_path))
    k4 = KafkaService(StackSettings(run_dir=tmp_path, kafka_version="4.1.2"))
    assert any(a.startswith("-Dlog4j.configuration=") and a.endswith("log4j.properties")
               for a in k3.command())
    assert any(a.startswith("-Dlog4j2.configurationFile=") and a.endswith("log4j2.yaml")
               for a in k4.command())
    assert Path(next(a for a in k4.command() if a.startswith("-Dlog4j2")).split("=", 1)[1]) \
        .is_file()


def test_storage_formatted_by_the_other_release_line_is_refused(tmp_path: Path) -> None:
    k3 = KafkaService(StackSettings(run_dir=tmp_path))
    k3.data_dir.mkdir(parents=True)
    (k3.data_dir / "meta.properties").write_text("node.id=1\n")
    k3.check_binaries()  # no record: a run dir from before the setting, i.e. 3.9.1
    k3.version_file.write_text("4.1.2\n")
    with pytest.raises(StackError, match=r"formatted by Kafka 4\.1\.2.*HW_RUN_DIR"):
        k3.check_binaries()
    KafkaService(StackSettings(run_dir=tmp_path, kafka_version="4.0.1")).check_binaries()
