"""At-least-once MQTT → Kafka bridge: an MQTT message is acknowledged only after Kafka has it."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

import paho.mqtt.client as mqtt
from confluent_kafka import KafkaError, Message, Producer
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazardwatch.connection_log import ConnectionLog, Throttle
from hazardwatch.contracts.records import RejectedRecord, encode
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.ingest.counters import BridgeCounters
from hazardwatch.ingest.decode import Accepted, MessageDecoder, PointRejection, Rejected
from hazardwatch.ingest.metrics_server import serve_metrics

log = logging.getLogger("hazardwatch.bridge")
_client_log = logging.getLogger("hazardwatch.bridge.kafka")  # librdkafka: every retry, throttled
_client_log.addFilter(Throttle(("hazardwatch.bridge.kafka",)))
Headers = list[tuple[str, str | bytes | None]] | None
_OLD_GROUP = "hw-bridge"  # the shared group bridges used by default before session 9


class _Ack:
    """The MQTT acknowledgement of one message, sent once Kafka has all its records."""

    __slots__ = ("generation", "mid", "qos", "waiting")

    def __init__(self, generation: int, mid: int, qos: int, waiting: int) -> None:
        self.generation, self.mid, self.qos, self.waiting = generation, mid, qos, waiting


@dataclass(frozen=True, kw_only=True)
class BridgeConfig:
    """Everything the bridge needs to run; built from CLI options and the environment."""

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str = "hw-bridge-1"
    group: str = ""  # "" = a plain subscription (see `subscription`)
    mqtt_filter: str = "hw/#"
    session_expiry_s: int = 7 * 86400
    receive_maximum: int = 1000
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    metrics_port: int | None = None
    log_interval_s: float = 10.0

    @property
    def subscription(self) -> str:
        """The MQTT filter to subscribe: plain by default, `$share/GROUP/…` with a group.

        Mosquitto 2.0 restores a persistent session's plain subscriptions from its persistence
        at a restart, but not its shared ones: until a shared subscriber subscribes again, the
        broker acknowledges what devices publish and drops it ("no matching subscribers")."""
        return f"$share/{self.group}/{self.mqtt_filter}" if self.group else self.mqtt_filter

    def kafka_topic(self, name: str) -> str:
        """A Kafka topic name with the configured prefix."""
        return f"{self.topic_prefix}{name}"


def producer_config(cfg: BridgeConfig) -> dict[str, Any]:
    """Idempotent, acks=all, compressed and batched; retries forever while Kafka is away."""
    return {
        "bootstrap.servers": cfg.kafka_bootstrap,
        "client.id": cfg.client_id,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "lz4",
        # Java-compatible murmur2, as aiokafka (Faust) hashes keys: a site's records and the
        # workers' ticks for it land on the same partition
        "partitioner": "murmur2_random",
        "linger.ms": 20,
        "batch.num.messages": 10000,
        "queue.buffering.max.messages": 200000,
        "message.timeout.ms": 0,  # never give up: the MQTT message stays unacknowledged
        "reconnect.backoff.ms": 100,
        "reconnect.backoff.max.ms": 5000,
        "logger": _client_log,
    }


class Bridge:
    """Moves every MQTT message to Kafka: valid records to their topic, bad input to hw.rejected."""

    def __init__(self, cfg: BridgeConfig, decoder: MessageDecoder,
                 clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.decoder = decoder
        self.clock = clock
        self.counters = BridgeCounters()
        self.producer = Producer({**producer_config(cfg), "error_cb": self._kafka_error})
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.client_id,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        if cfg.username:
            self.client.username_pw_set(cfg.username, cfg.password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self._generation = 0
        self._ackable_from = 0
        self._draining = False
        self._stop = threading.Event()
        self._delivery_lock = threading.Lock()
        self.kafka_state = ConnectionLog("Kafka", log, 5)
        self.fatal: KafkaError | None = None
        self.mqtt_state = ConnectionLog("MQTT", log, 30)

    # -- MQTT side (paho network thread) ----------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any,
                    props: Properties | None) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        self._generation += 1
        if not flags.session_present:
            self._ackable_from = self._generation  # old packet ids mean nothing any more
        self.counters.mqtt_connects += 1
        self.mqtt_state.back()
        log.info("MQTT connected (session present: %s)", flags.session_present)
        client.subscribe(self.cfg.subscription, qos=1)
        if flags.session_present and not self.cfg.group:  # a session of the shared default
            client.unsubscribe(f"$share/{_OLD_GROUP}/{self.cfg.mqtt_filter}")

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, rcs: Any,
                      props: Properties | None) -> None:
        if any(rc.is_failure for rc in rcs):
            log.error("MQTT subscription refused: %s", rcs)
            return
        self.counters.subscribed = 1
        log.info("subscribed to %s", self.cfg.subscription)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any,
                       props: Properties | None) -> None:
        self.counters.mqtt_disconnects += 1
        self.counters.subscribed = 0
        if not self._stop.is_set():
            self.mqtt_state.lost(rc)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/rejected"):  # our own replies to senders
            if msg.qos:
                client.ack(msg.mid, msg.qos)
            return
        if self._draining:
            return  # not acknowledged: the broker redelivers it to the next bridge
        self.counters.received += 1
        received_at = int(self.clock() * 1000)
        payload = bytes(msg.payload)
        result = self.decoder.decode(msg.topic, payload, received_at, bool(msg.retain))
        if isinstance(result, Accepted):
            ack = _Ack(self._generation, msg.mid, msg.qos, 1 + len(result.refused))
            self._produce(self.cfg.kafka_topic(result.topic), result.key, result.value, ack, None)
            if result.refused:
                self._refuse_points(result, msg, payload, received_at, ack)
            return
        ack = _Ack(self._generation, msg.mid, msg.qos, 1)
        self.counters.rejected[result.reason.value] += 1
        record = RejectedRecord(
            reason=result.reason.value, detail=result.detail, topic=msg.topic,
            payload_b64=base64.b64encode(payload).decode(), received_at=received_at,
            size=len(payload), qos=msg.qos, bridge=self.cfg.client_id,
        )
        self._produce(self.cfg.kafka_topic(KafkaTopic.REJECTED), result.key, encode(record), ack,
                      [("reason", result.reason.value.encode()), ("topic", msg.topic.encode())])
        self._reply(result, msg.topic, received_at)

    def _refuse_points(self, result: Accepted, msg: mqtt.MQTTMessage, payload: bytes,
                       received_at: int, ack: _Ack) -> None:
        """Each refused point to hw.rejected (with its index), and one reply listing them."""
        rec = result.record
        device = f"{getattr(rec, 'site_id', '')}/{getattr(rec, 'device_id', '')}"
        seq = getattr(rec, "seq", None)
        b64 = base64.b64encode(payload).decode()
        for pr in result.refused:
            self.counters.points_refused[pr.reason.value] += 1
            record = RejectedRecord(
                reason=pr.reason.value, detail=pr.detail, topic=msg.topic, payload_b64=b64,
                received_at=received_at, size=len(payload), qos=msg.qos,
                bridge=self.cfg.client_id, index=pr.index, sensor=pr.sensor, device=device,
                seq=seq)
            self._produce(self.cfg.kafka_topic(KafkaTopic.REJECTED), result.key, encode(record),
                          ack, [("reason", pr.reason.value.encode()),
                                ("topic", msg.topic.encode()), ("index", str(pr.index))])
        reply_topic = msg.topic.rsplit("/", 1)[0] + "/rejected"
        self.client.publish(reply_topic, points_reply(result.refused, msg.topic, received_at,
                                                      seq, len(getattr(rec, "points", ()))),
                            qos=0)

    def _reply(self, result: Rejected, topic: str, received_at: int) -> None:
        """Tell the sender why its message was rejected (QoS 0 on its own .../rejected topic)."""
        if result.reply_topic is None:
            return
        body = json.dumps({"reason": result.reason.value, "detail": result.detail,
                           "topic": topic, "received_at": received_at}, ensure_ascii=False)
        self.client.publish(result.reply_topic, body, qos=0)

    def _produce(self, topic: str, key: bytes, value: bytes, ack: _Ack,
                 headers: Headers, serve: bool = True) -> None:
        def delivered(err: KafkaError | None, _msg: Message) -> None:
            self._delivered(err, topic, key, value, ack, headers)

        while True:
            try:
                self.producer.produce(topic, value=value, key=key, headers=headers,
                                      on_delivery=delivered)
                self.counters.produced += 1
                if serve:
                    self.producer.poll(0)  # serve ready confirmations in this thread too
                return
            except BufferError:  # local queue full: hold the MQTT thread (back-pressure)
                time.sleep(0.05)

    # -- Kafka side (main thread, producer.poll) ----------------------------------------------

    def _delivered(self, err: KafkaError | None, topic: str, key: bytes, value: bytes,
                   ack: _Ack, headers: Headers) -> None:
        # runs in whichever thread polled the producer (MQTT thread or main loop)
        with self._delivery_lock:
            self.counters.delivered += 1
            if err is not None:
                self.counters.kafka_errors += 1
            elif topic != self.cfg.kafka_topic(KafkaTopic.REJECTED):
                self.counters.forwarded += 1
            if err is None:
                ack.waiting -= 1
            complete = ack.waiting == 0
        if err is not None:
            self.kafka_state.lost(f"delivery to {topic} failed ({err})")
            time.sleep(0.5)
            self._produce(topic, key, value, ack, headers, serve=False)
            return
        self.kafka_state.back()
        generation, mid, qos = ack.generation, ack.mid, ack.qos
        if complete and qos and generation >= self._ackable_from:
            self.client.ack(mid, qos)
            with self._delivery_lock:
                self.counters.acked += 1

    def _kafka_error(self, err: KafkaError) -> None:
        with self._delivery_lock:
            self.counters.kafka_errors += 1
        if err.fatal():  # the producer is unusable: exit; what was not acknowledged comes again
            log.error("Kafka: fatal error, the bridge stops: %s", err)
            self.fatal = err
            self._stop.set()
            return
        self.kafka_state.lost(err)

    # -- lifecycle ------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask run() to flush and return (safe from a signal handler)."""
        self._stop.set()

    def stopping(self) -> bool:
        """True once stop() was called (or a fatal error stopped the bridge)."""
        return self._stop.is_set()

    def run(self) -> None:
        """Connect both sides and move messages until stop() is called; then flush and exit."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.cfg.session_expiry_s
        props.ReceiveMaximum = self.cfg.receive_maximum
        self.client.connect_async(self.cfg.mqtt_host, self.cfg.mqtt_port, keepalive=30,
                                  clean_start=False, properties=props)
        self.client.loop_start()
        server = self._serve_metrics()
        last_log = time.monotonic()
        try:
            while not self._stop.is_set():
                self.producer.poll(0.05)
                if time.monotonic() - last_log >= self.cfg.log_interval_s:
                    log.info("bridge: %s", self.counters.summary())
                    last_log = time.monotonic()
        finally:
            self._draining = True
            left = self.producer.flush(15)
            time.sleep(0.2)  # let the network thread send the last PUBACKs
            self.client.disconnect()
            self.client.loop_stop()
            if server is not None:
                server.shutdown()
            log.info("bridge stopped: %s (unflushed %d)", self.counters.summary(), left)

    def _serve_metrics(self) -> ThreadingHTTPServer | None:
        if self.cfg.metrics_port is None:
            return None
        return serve_metrics(self.counters.prometheus, self.cfg.metrics_port)


def points_reply(refused: tuple[PointRejection, ...], topic: str, received_at: int,
                 seq: int | None, accepted: int) -> str:
    """The reply on …/rejected for a message whose other points were accepted."""
    return json.dumps({
        "reason": "points_refused", "topic": topic, "received_at": received_at, "seq": seq,
        "accepted": accepted, "refused": len(refused),
        "detail": f"{len(refused)} of {accepted + len(refused)} points refused; the others "
                  "were accepted",
        "points": [{"index": r.index, "sensor": r.sensor, "reason": r.reason.value,
                    "detail": r.detail} for r in refused]}, ensure_ascii=False)
