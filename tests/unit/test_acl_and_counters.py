"""Device accounts from the catalog, and the bridge's counters."""

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.ingest.acl import device_accounts
from hazardwatch.ingest.counters import BridgeCounters


def test_each_device_may_publish_only_under_its_own_topics() -> None:
    cat = load_catalog("deploy/catalog/demo.yaml")
    accounts = device_accounts(cat)
    assert len(accounts) == len(cat.devices) + len(cat.vehicles)
    gw = accounts["dev.tf-hohhot-01.dcs-gw-01"]
    base = "hw/v1/sites/tf-hohhot-01/devices/dcs-gw-01"
    assert gw["acl"] == [f"topic write {base}/telemetry", f"topic write {base}/status",
                         f"topic read {base}/rejected"]
    cam = accounts["dev.tf-hohhot-01.cam-01"]["acl"]
    assert "topic write hw/v1/sites/tf-hohhot-01/devices/cam-01/video-event" in cam  # type: ignore[operator]
    again = device_accounts(cat, accounts)
    assert {u: a["password"] for u, a in again.items()} == \
        {u: a["password"] for u, a in accounts.items()}


def test_prometheus_text_has_counters_and_rejections_by_reason() -> None:
    c = BridgeCounters()
    c.received, c.forwarded, c.produced, c.delivered = 3, 2, 3, 2
    c.rejected["not_json"] += 1
    text = c.prometheus()
    assert "hw_bridge_received_total 3" in text
    assert 'hw_bridge_rejected_total{reason="not_json"} 1' in text
    assert "# TYPE hw_bridge_in_flight gauge" in text
    assert "hw_bridge_in_flight 1" in text
