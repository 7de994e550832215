"""The sink's own InfluxDB writes against `influxdb-client` (the product card's package) on 1.8.

Both write the same readings of the demo tank farm into the local stack's InfluxDB 1.8, in
batches of 5,000 points (the sink's batch), and every variant's points are counted back:

- `own_v1`, `own_v2`: our `InfluxSink` (line protocol built by `line_protocol.readings`, one
  `requests` session) through `/write` and `/api/v2/write` (bucket `db/rp`);
- `client_lines`: influxdb-client's synchronous `WriteApi` given the same line-protocol strings
  (its cheapest path: only the HTTP part differs);
- `client_points`: influxdb-client's synchronous `WriteApi` given `Point` objects built from
  the records (how the client is meant to be used: it builds the line protocol);
- `client_batching`: influxdb-client's default batching `WriteApi` (background thread, its own
  retries), given the same strings, timed until `close()` has written everything.

Needs `pip install influxdb-client==1.50.0` (not a dependency of HazardWatch; see
docs/notes/issue-19-stack.md). Usage: `python bench/influx_client.py [--points N] [--runs R]`.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS, WriteOptions

from bench.common import machine, running_stack
from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.contracts.records import PointRecord, TelemetryRecord
from hazardwatch.resources import packaged
from hazardwatch.stack.influx import ensure_database, influxql
from hazardwatch.streams.sinks import line_protocol as lp
from hazardwatch.streams.sinks.influx import InfluxSink, InfluxTarget

BATCH = 5000
SENSORS = ("T101-GAS1", "T101-GAS2", "T102-NH3", "T101-TT", "T101-PT")


def _records(n_points: int, start: int) -> list[TelemetryRecord]:
    """Records of gds-01 with five points each, one record per 100 ms."""
    out = []
    for i in range(n_points // len(SENSORS)):
        ts = start + i * 100
        out.append(TelemetryRecord(
            site_id="tf-hohhot-01", device_id="gds-01", ts=ts, received_at=ts,
            points=list(PointRecord(sensor=s, value=float(i % 97) + j / 10, ts=ts)
                         for j, s in enumerate(SENSORS))))
    return out


def _point(rec: TelemetryRecord, p: PointRecord, units: dict[str, tuple[str, str]]) -> Point:
    metric, unit = units.get(p.sensor, ("", ""))
    pt = (Point("reading").tag("site", rec.site_id).tag("device", rec.device_id)
          .tag("sensor", p.sensor))
    if metric:
        pt = pt.tag("metric", metric)
    if unit:
        pt = pt.tag("unit", unit)
    return (pt.field("value", float(p.value)).field("q", p.q).field("drill", rec.drill)
            .time(p.ts, WritePrecision.MS))


def main() -> None:
    """Write the same points every way, count them back, print points/s (last line JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    stack = running_stack()
    url = stack.settings.influx_url
    ping = __import__("requests").get(f"{url}/ping", timeout=5)
    version = ping.headers.get("X-Influxdb-Version", "?")
    catalog = load_catalog(packaged("catalog", "demo.yaml"))
    units = {}
    for (site, sensor_id), (_, sensor) in catalog.sensors.items():
        if site == "tf-hohhot-01":
            units[sensor_id] = (sensor.metric, sensor.plant_unit or "")
    base = 1_795_000_000_000
    client = InfluxDBClient(url=url, token="", org="-", timeout=30_000)

    def own(api: str) -> Callable[[list[TelemetryRecord], str], None]:
        def run(recs: list[TelemetryRecord], db: str) -> None:
            sink = InfluxSink(InfluxTarget(url=url, db=db, api=api), catalog)  # type: ignore[arg-type]
            for i in range(0, len(recs), BATCH // len(SENSORS)):
                for r in recs[i:i + BATCH // len(SENSORS)]:
                    rp, lines = lp.readings(r, catalog)
                    sink.add_lines(rp, lines)
                sink.flush()
        return run

    def client_lines(recs: list[TelemetryRecord], db: str) -> None:
        api = client.write_api(write_options=SYNCHRONOUS)
        for i in range(0, len(recs), BATCH // len(SENSORS)):
            lines: list[str] = []
            for r in recs[i:i + BATCH // len(SENSORS)]:
                lines += lp.readings(r, catalog)[1]
            api.write(bucket=f"{db}/chem_30d", record=lines, write_precision=WritePrecision.MS)

    def client_points(recs: list[TelemetryRecord], db: str) -> None:
        api = client.write_api(write_options=SYNCHRONOUS)
        for i in range(0, len(recs), BATCH // len(SENSORS)):
            pts = [_point(r, p, units) for r in recs[i:i + BATCH // len(SENSORS)]
                   for p in r.points]
            api.write(bucket=f"{db}/chem_30d", record=pts, write_precision=WritePrecision.MS)

    def client_batching(recs: list[TelemetryRecord], db: str) -> None:
        api = client.write_api(write_options=WriteOptions(batch_size=BATCH, flush_interval=1000))
        for r in recs:
            api.write(bucket=f"{db}/chem_30d", record=lp.readings(r, catalog)[1],
                      write_precision=WritePrecision.MS)
        api.close()

    variants: dict[str, Callable[[list[TelemetryRecord], str], None]] = {
        "own_v1": own("v1"), "own_v2": own("v2"), "client_lines": client_lines,
        "client_points": client_points, "client_batching": client_batching}
    rates: dict[str, list[float]] = {k: [] for k in variants}
    for run in range(args.runs):
        for k, fn in variants.items():
            db = f"bench_client_{k}"
            influxql(url, f'DROP DATABASE "{db}"')
            ensure_database(url, db)
            recs = _records(args.points, base + run * 10_000_000)
            n = sum(len(r.points) for r in recs)
            t0 = time.perf_counter()
            fn(recs, db)
            dt = time.perf_counter() - t0
            got = influxql(url, 'SELECT count("value") FROM "chem_30d"."reading"', db=db)
            count = got["results"][0]["series"][0]["values"][0][1]
            assert count == n, f"{k}: wrote {n}, found {count}"
            rates[k].append(n / dt)
            influxql(url, f'DROP DATABASE "{db}"')
            print(f"run {run + 1} {k:<16} {n / dt:>10,.0f} points/s", flush=True)
    client.close()
    figures = {"bench": "influx_client", **machine(), "influxdb": version,
               "influxdb_client": __import__("influxdb_client").__version__,
               "points": args.points, "runs": args.runs, "batch": BATCH,
               "median_points_per_s": {k: round(statistics.median(v)) for k, v in rates.items()},
               "best_points_per_s": {k: round(max(v)) for k, v in rates.items()}}
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
