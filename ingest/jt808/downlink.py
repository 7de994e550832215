"""Downlink reminders: an overspeed or fatigue warning raised for a vehicle becomes a 0x8300
TTS text to its terminal, sent by the gateway process that holds the session."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from hazardwatch.connection_log import ConnectionLog
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.contracts.warnings import WarningRecord, decode_warning

log = logging.getLogger("hazardwatch.jt808.downlink")

# 道路运输车辆动态监督管理办法: the platform reminds the driver to correct overspeed and fatigue
TEXTS: dict[str, str] = {
    "vehicle.overspeed": "平台提醒：您已超速，请按规定车速行驶",
    "vehicle.driving.continuous": "平台提醒：您已连续驾驶超时，请尽快停车休息",
    "vehicle.video.dsm.fatigue": "平台提醒：检测到疲劳驾驶，请尽快停车休息",
}


def reminder(w: WarningRecord) -> str | None:
    """The text to read out for a warning, or None; drill warnings never reach a terminal."""
    if w.drill or w.vehicle_id is None or w.transition not in ("raised", "upgraded"):
        return None
    return TEXTS.get(w.rule)


class WarningFeed:
    """Reads hw.warnings (every gateway process reads all of them, from its start) and hands
    the reminders to `deliver(vehicle_id, text, warning_id)`; a process without the vehicle's
    session ignores it, so a reminder reaches the terminal wherever it is connected."""

    def __init__(self, bootstrap: str, topic_prefix: str, client_id: str,
                 deliver: Callable[[str, str, str], None]) -> None:
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": f"{client_id}-downlink-{uuid.uuid4()}",
            "auto.offset.reset": "latest", "enable.auto.commit": False,
        })
        # read from the moment this process started, not from whenever the group assignment
        # arrives (seconds later): a warning raised meanwhile would be missed ("latest")
        self.since_ms = int(time.time() * 1000)
        self.consumer.subscribe([topic_prefix + KafkaTopic.WARNINGS], on_assign=self._assigned)
        self.deliver = deliver
        self.kafka_state = ConnectionLog("Kafka (downlink)", log, 10)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jt808-downlink", daemon=True)

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Start each partition at the first warning written since the process started (the
        end when there is none)."""
        wanted = [TopicPartition(p.topic, p.partition, self.since_ms) for p in partitions]
        try:
            found = consumer.offsets_for_times(wanted, timeout=10)
        except KafkaException as exc:  # the partitions keep "latest"
            log.warning("downlink: no start offsets by time (%s); reading from the end", exc)
            return
        consumer.assign(found)
        log.info("downlink: %d partitions of %s assigned %d ms after start", len(found),
                 found[0].topic if found else "-", int(time.time() * 1000) - self.since_ms)

    def start(self) -> None:
        """Start reading."""
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            msg = self.consumer.poll(0.5)
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    self.kafka_state.lost(err)
                continue
            self.kafka_state.back()
            try:
                w = decode_warning(msg.value() or b"")
            except ValueError as exc:
                log.warning("undecodable warning on %s: %s", msg.topic(), exc)
                continue
            text = reminder(w)
            if text is not None and w.vehicle_id is not None:
                self.deliver(w.vehicle_id, text, w.warning_id)

    def stop(self) -> None:
        """Stop and close."""
        self._stop.set()
        self._thread.join(3)
        self.consumer.close()
