"""One fault stack for the fault tests that ask for it, stopped after the last of them.

Each test publishes for sites of its own (`first_site` … + 50) and counts only those, so that
the runs before it on the same stack (devices stopped, hence offline; their readings and
warnings) do not count in its figures. A test leaves the stack with every service and the
pipeline (bridge, worker, sink) running.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.fault_stack import FaultStack

SITES = 250  # five blocks of 50 sites; `hazardwatch simulate` publishes for the first 20
BLOCK = {"simulate": 0, "influx": 50, "kafka": 100, "broker": 150, "kafka_stop": 200}


@pytest.fixture(scope="package")  # down before the rest of a whole-suite run
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    """Mosquitto, Kafka and InfluxDB on free ports with their pipeline, for tests/faults."""
    fs = FaultStack(tmp_path_factory.mktemp("fault-stack"), SITES)
    try:
        fs.up()
        fs.pipeline()
        yield fs
    finally:
        fs.down()
