"""The sink writes through InfluxDB's v1 `/write` and v2 `/api/v2/write` into the local InfluxDB.

The local stack runs InfluxDB 1.8 by default, whose v2 compatibility API takes the bucket as
`db/rp` and the token as `user:password` (ignored with authentication off); 1.6 has no v2 API.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Literal

import pytest
import requests

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.records import encode
from hazardwatch.ingest.decode import Accepted, MessageDecoder
from hazardwatch.resources import packaged
from hazardwatch.stack.influx import ensure_database, influxql
from hazardwatch.stack.manager import Stack
from hazardwatch.streams.sinks.influx import InfluxRejected, InfluxSink, InfluxTarget

CAT = load_catalog(packaged("catalog", "demo.yaml"))
GDS = "hw/v1/sites/tf-hohhot-01/devices/gds-01/telemetry"
TRUCK = "hw/v1/vehicles/hz-0003/position"


def _record(topic: str, payload: dict[str, float | list[dict[str, object]]]) -> bytes:
    res = MessageDecoder(CAT).decode(topic, json.dumps(payload).encode(), int(payload["ts"]))
    assert isinstance(res, Accepted), res
    return encode(res.record)


@pytest.fixture
def db(stack: Stack, unique: str) -> Iterator[str]:
    name = f"test_api_{unique}"
    ensure_database(stack.settings.influx_url, name)
    yield name
    influxql(stack.settings.influx_url, f'DROP DATABASE "{name}"')


def test_the_local_influxdb_is_the_configured_release(stack: Stack) -> None:
    ping = requests.get(f"{stack.settings.influx_url}/ping", timeout=5)
    assert ping.status_code == 204
    want = stack.settings.influx_version
    got = ping.headers["X-Influxdb-Version"]
    assert got.lstrip("v").startswith(want), f"running {got}, configured {want}"


@pytest.mark.parametrize(("api", "token"), [("v1", ""), ("v2", ""), ("v2", "hw:not-checked")])
def test_sink_writes_readings_and_positions_into_their_retention_policies(
        stack: Stack, db: str, api: Literal["v1", "v2"], token: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if api == "v2" and stack.settings.influx_version == "1.6":
        pytest.fail("InfluxDB 1.6 has no /api/v2/write; the v2 path needs 1.8 (the default)")
    monkeypatch.setenv("HW_INFLUX_TOKEN", token)
    now = int(time.time() * 1000) - 60_000
    sink = InfluxSink(InfluxTarget(url=stack.settings.influx_url, db=db, api=api), CAT)
    for i in range(30):
        sink.add("t.hw.telemetry", _record(GDS, {
            "ts": now + i * 1000, "points": [{"sensor": "T101-GAS1", "value": 2.0 + i},
                                             {"sensor": "T102-NH3", "value": 1.5}]}))
        sink.add("t.hw.vehicle.positions", _record(TRUCK, {
            "ts": now + i * 1000, "lat": 40.8, "lon": 111.6 + i / 1000, "speed_kmh": 60.0 + i}))
    assert sink.flush() == 90
    url = stack.settings.influx_url
    got = influxql(url, 'SELECT count("value"), max("value") FROM "chem_30d"."reading" '
                        "WHERE sensor = 'T101-GAS1'", db=db)["results"][0]["series"][0]
    assert got["values"][0][1:] == [30, 31.0]
    got = influxql(url, 'SELECT count("speed_kmh"), max("speed_kmh") FROM '
                        '"vehicle_184d"."position" WHERE vehicle = \'hz-0003\'',
                   db=db)["results"][0]["series"][0]
    assert got["values"][0][1:] == [30, 89.0]
    # nothing went to the default policy: each point is in the policy its source must keep
    assert "series" not in influxql(url, 'SELECT count("speed_kmh") FROM "chem_30d"."position"',
                                    db=db)["results"][0]


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_a_write_into_a_missing_database_is_refused_with_the_reason(
        stack: Stack, unique: str, api: Literal["v1", "v2"]) -> None:
    if api == "v2" and stack.settings.influx_version == "1.6":
        pytest.fail("InfluxDB 1.6 has no /api/v2/write; the v2 path needs 1.8 (the default)")
    sink = InfluxSink(InfluxTarget(url=stack.settings.influx_url, db=f"absent_{unique}",
                                   api=api), CAT)
    sink.add_lines("chem_30d", ["reading,site=s value=1 1795000000000"])
    with pytest.raises(InfluxRejected, match=r"InfluxDB 404: .*not found"):
        sink.flush()
    assert sink.batches["chem_30d"], "a refused batch is kept, never dropped"
