"""Mosquitto accounts for devices and vehicles, generated from the catalog."""

from __future__ import annotations

import secrets

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.topics import MQTT_ROOT


def device_username(site_id: str, device_id: str) -> str:
    """MQTT username of a fixed device (ids never contain '.' runs that clash: site first)."""
    return f"dev.{site_id}.{device_id}"


def vehicle_username(vehicle_id: str) -> str:
    """MQTT username of a vehicle terminal."""
    return f"veh.{vehicle_id}"


def device_accounts(catalog: Catalog,
                    existing: dict[str, dict[str, object]] | None = None
                    ) -> dict[str, dict[str, object]]:
    """{username: {password, acl, topic_base}}: each may publish only under its own topics.

    Passwords of accounts that already exist are kept, so regenerating never locks devices out.
    """
    existing = existing or {}
    out: dict[str, dict[str, object]] = {}

    def account(user: str, base: str, kinds: tuple[str, ...]) -> None:
        old = existing.get(user, {})
        acl = [f"topic write {base}/{k}" for k in kinds] + [f"topic read {base}/rejected"]
        out[user] = {"password": old.get("password") or secrets.token_urlsafe(15),
                     "acl": acl, "topic_base": base}

    for (site_id, device_id), dev in sorted(catalog.devices.items()):
        kinds = ("status", "video-event") if dev.kind == "camera" else ("telemetry", "status")
        account(device_username(site_id, device_id),
                f"{MQTT_ROOT}/sites/{site_id}/devices/{device_id}", kinds)
    for vid in sorted(catalog.vehicles):
        account(vehicle_username(vid), f"{MQTT_ROOT}/vehicles/{vid}",
                ("position", "status", "video-event"))
    return out
