"""Choose the wire-schema library by measurement: msgspec vs pydantic v2.

Decodes and validates the same telemetry payloads (1 and 20 points) with both libraries on one
core and prints µs per message. The last line printed is JSON.
Usage: python bench/schema.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from pydantic import BaseModel, Field

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, telemetry_payloads
from hazardwatch.contracts.payloads import TelemetryPayload


class PydPoint(BaseModel):
    """The same Point in pydantic."""

    sensor: Annotated[str, Field(min_length=1, max_length=64)]
    value: float
    ts: int | str | None = None
    q: Literal["good", "uncertain", "bad"] = "good"


class PydTelemetry(BaseModel):
    """The same TelemetryPayload in pydantic."""

    ts: int | str
    points: list[PydPoint]
    seq: Annotated[int, Field(ge=0)] | None = None
    drill: bool = False


def per_message_us(fn: object, payloads: list[bytes], repeat: int) -> float:
    """Best of `repeat` runs, µs per message."""
    def run() -> None:
        for p in payloads:
            fn(p)  # type: ignore[operator]
    best = min(timeit.repeat(run, number=1, repeat=repeat))
    return best / len(payloads) * 1e6


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    dec = msgspec.json.Decoder(TelemetryPayload)
    out: dict[str, float] = {}
    for points in (1, 20):
        payloads = telemetry_payloads(n, points)
        out[f"msgspec_us_{points}pt"] = per_message_us(dec.decode, payloads, 5)
        out[f"pydantic_us_{points}pt"] = per_message_us(PydTelemetry.model_validate_json,
                                                        payloads, 5)
    figures = {"bench": "schema", **machine(), **{k: round(v, 2) for k, v in out.items()},
               "speedup_1pt": round(out["pydantic_us_1pt"] / out["msgspec_us_1pt"], 1),
               "speedup_20pt": round(out["pydantic_us_20pt"] / out["msgspec_us_20pt"], 1)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
