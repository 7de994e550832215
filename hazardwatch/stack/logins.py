"""Platform MQTT logins: from the environment, else the local stack's generated accounts."""

from __future__ import annotations

import json
import os

from hazardwatch.stack.settings import StackSettings


def mqtt_login(settings: StackSettings, user: str) -> tuple[str, str]:
    """Credentials from HW_MQTT_USERNAME/HW_MQTT_PASSWORD, else the local stack's account."""
    if os.environ.get("HW_MQTT_USERNAME"):
        return os.environ["HW_MQTT_USERNAME"], os.environ.get("HW_MQTT_PASSWORD", "")
    creds = json.loads((settings.run_dir / "mosquitto" / "credentials.json").read_text())
    return user, str(creds[user])
