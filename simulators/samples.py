"""One realistic MQTT message of every kind for a catalog (demo, tests, smoke checks)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.topics import MQTT_ROOT
from hazardwatch.ingest.acl import device_username, vehicle_username


@dataclass(frozen=True)
class Sample:
    """A message as a device would publish it, with the MQTT account it publishes as."""

    username: str
    topic: str
    payload: bytes


def samples(catalog: Catalog, now_ms: int, drill: bool = True) -> list[Sample]:
    """Telemetry of every gateway, a camera event, and position/status/video of every vehicle."""
    out: list[Sample] = []
    for (site_id, device_id), dev in sorted(catalog.devices.items()):
        base = f"{MQTT_ROOT}/sites/{site_id}/devices/{device_id}"
        user = device_username(site_id, device_id)
        out.append(Sample(user, f"{base}/status", _status(drill)))
        if dev.kind == "camera":
            body = {"ts": now_ms, "event_id": f"{device_id}-{now_ms}", "family": "smoke",
                    "type": "smoke", "media": [{"kind": "image",
                                                "uri": f"https://files.example/{device_id}/1.jpg"}],
                    "drill": drill}
            out.append(Sample(user, f"{base}/video-event", json.dumps(body).encode()))
            continue
        points = [{"sensor": s.id, "value": _typical(s.metric)} for s in dev.sensors]
        body = {"ts": now_ms, "seq": 1, "points": points, "drill": drill}
        out.append(Sample(user, f"{base}/telemetry", json.dumps(body).encode()))
    for vid in sorted(catalog.vehicles):
        base = f"{MQTT_ROOT}/vehicles/{vid}"
        user = vehicle_username(vid)
        out.append(Sample(user, f"{base}/status", _status(drill)))
        pos = {"ts": now_ms, "lat": 40.8112, "lon": 111.6512, "speed_kmh": 62.5, "heading": 270,
               "alt_m": 1050, "alarm_flags": 0, "status_flags": 3, "mileage_km": 12345.6,
               "drill": drill}
        out.append(Sample(user, f"{base}/position", json.dumps(pos).encode()))
        ev = {"ts": now_ms, "event_id": f"{vid}-{now_ms}", "family": "dsm", "type": "fatigue",
              "terminal_level": 2, "speed_kmh": 71, "lat": 40.81, "lon": 111.65,
              "media": [{"kind": "image", "uri": f"https://files.example/{vid}/1.jpg"}],
              "drill": drill}
        out.append(Sample(user, f"{base}/video-event", json.dumps(ev).encode()))
    return out


def _status(drill: bool) -> bytes:
    """Drill status must say so; a real device may send the bare string."""
    return json.dumps({"status": "online", "drill": True}).encode() if drill else b"online"


def _typical(metric: str) -> float:
    return {"level": 8.2, "temperature": 21.5, "pressure": 0.8, "gas_combustible": 2.0,
            "gas_toxic": 1.0, "ch4": 0.32, "co": 3.0, "wind_speed": 1.6, "pond_level": 1032.4,
            "phreatic_line": 8.5, "dry_beach": 120.0, "displacement": 1.2,
            "rainfall": 0.0}.get(metric, 1.0)
