"""The bridge's MQTT subscription: plain by default (restored by Mosquitto), shared on request."""

from __future__ import annotations

from hazardwatch.ingest.bridge import BridgeConfig


def test_default_is_a_plain_subscription_the_broker_restores() -> None:
    assert BridgeConfig().subscription == "hw/#"


def test_a_group_makes_it_a_shared_subscription() -> None:
    assert BridgeConfig(group="g-1", mqtt_filter="hw/v1/#").subscription == "$share/g-1/hw/v1/#"
