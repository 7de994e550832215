"""Where the local stack keeps its data and which loopback ports it uses."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from hazardwatch.resources import packaged
from hazardwatch.stack.influx_build import DEFAULT_VERSION as INFLUX_DEFAULT

HOST = "127.0.0.1"


CHECKOUT = Path(__file__).resolve().parents[2]


def default_run_dir() -> Path:
    """The run directory inside the checkout (`.run/`, ignored by git), else under the cwd."""
    if (CHECKOUT / "pyproject.toml").is_file():
        return CHECKOUT / ".run"
    return Path.cwd() / ".run"


def default_catalog() -> Path:
    """`HW_CATALOG` if set (drills and benchmarks pass theirs to every process), else the demo."""
    return Path(os.environ.get("HW_CATALOG") or packaged("catalog", "demo.yaml"))


@dataclass(frozen=True, kw_only=True)
class StackSettings:
    """Run directory and ports of the local stack; every field can be set from `HW_*` variables."""

    run_dir: Path
    mqtt_port: int = 11883
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    influx_port: int = 18086
    influx_rpc_port: int = 18088
    influx_db: str = "hazardwatch"
    influx_version: str = INFLUX_DEFAULT  # or "1.6": the Debian package
    kafka_version: str = "3.9.1"  # or a 4.x release such as "4.1.2"
    catalog: Path | None = None
    # Where clients find the services (the local stack always binds to 127.0.0.1): on a real
    # server Kafka, Mosquitto and InfluxDB may run elsewhere (`HW_KAFKA_SERVERS=k1:9092,k2:9092`,
    # `HW_MQTT_HOST`, `HW_INFLUX_HOST`); `stack up` ignores them.
    kafka_servers: str = ""
    mqtt_host: str = HOST
    influx_host: str = HOST

    def __post_init__(self) -> None:
        """Reject two services on one port (Kafka refuses it only deep in its start-up)."""
        seen: dict[int, str] = {}
        for f in fields(self):
            if f.name.endswith("_port"):
                port = getattr(self, f.name)
                if port in seen:
                    raise ValueError(f"{f.name} and {seen[port]} are both {port}; "
                                     "each service needs its own port")
                seen[port] = f.name

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StackSettings:
        """Read `HW_RUN_DIR`, `HW_MQTT_PORT`, `HW_KAFKA_PORT`, … falling back to defaults."""
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "run_dir": Path(env.get("HW_RUN_DIR") or default_run_dir()),
            "catalog": Path(env.get("HW_CATALOG") or default_catalog()),
        }
        for f in fields(cls):
            raw = env.get(f"HW_{f.name.upper()}")
            if f.name in ("run_dir", "catalog") or raw is None or raw == "":
                continue
            if f.name.endswith("_port"):
                try:
                    port = int(raw)
                except ValueError:
                    raise ValueError(f"HW_{f.name.upper()}={raw!r} is not a port number") from None
                if not 1 <= port <= 65535:
                    raise ValueError(f"HW_{f.name.upper()}={port} is outside 1..65535")
                values[f.name] = port
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The `HW_*` variables that reproduce these settings in a child process."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f"HW_{f.name.upper()}"] = str(value)
        return out

    @property
    def kafka_bootstrap(self) -> str:
        """Bootstrap servers for Kafka clients."""
        return self.kafka_servers or f"{HOST}:{self.kafka_port}"

    @property
    def influx_url(self) -> str:
        """Base URL of the InfluxDB HTTP API."""
        return f"http://{self.influx_host}:{self.influx_port}"
