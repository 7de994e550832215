"""The reader's pure parts: the site of a refusal; the sink tags refused points by device."""

from __future__ import annotations

import pytest

from hazardwatch.contracts.records import RejectedRecord
from hazardwatch.kpis.influxread import _site_of
from hazardwatch.streams.sinks.line_protocol import rejected


@pytest.mark.parametrize(("device", "topic", "site"), [
    ("tf-1/gds-01", "x", "tf-1"), (None, "hw/v1/sites/tf-2/devices/d/telemetry", "tf-2"),
    (None, "hw/v1/vehicles/v1/position", None), (None, None, None)])
def test_site_of_a_refusal(device: str | None, topic: str | None, site: str | None) -> None:
    assert _site_of(device, topic) == site


def test_refused_point_is_tagged_with_its_device() -> None:
    r = RejectedRecord(reason="out_of_range", detail="d", topic="t", payload_b64="",
                       received_at=5, size=1, device="tf-1/gds-01", index=2, sensor="S")
    assert rejected(r).startswith("rejected,reason=out_of_range,device=tf-1/gds-01 ")
