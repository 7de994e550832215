"""End a bridge's persistent MQTT session when that bridge instance is retired.

A stopped bridge keeps its session (and its place in the shared-subscription group) so that
the broker queues messages for it until it returns. A bridge instance that will not return
must be retired, or the broker keeps queueing for it until the session expires.
"""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode


def retire_session(host: str, port: int, username: str | None, password: str | None,
                   client_id: str, timeout: float = 10.0) -> bool:
    """Connect with clean start and session expiry 0, then disconnect; True when done."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if username:
        client.username_pw_set(username, password)
    done = threading.Event()
    ok = [False]

    def on_connect(c: mqtt.Client, u: object, f: object, rc: ReasonCode,
                   p: object) -> None:
        ok[0] = not rc.is_failure
        done.set()

    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    client.connect(host, port, clean_start=True, properties=props)
    client.loop_start()
    done.wait(timeout)
    client.disconnect()
    client.loop_stop()
    return ok[0]
