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
STALE_MS = 10 * 60_000  # a warning raised longer ago than this is not read out any more

# 道路运输车辆动态监督管理办法: the platform reminds the driver to correct overspeed and fatigue
TEXTS: dict[str, str] = {
    "vehicle.overspeed": "平台提醒：您已超速，请按规定车速行驶",
    "vehicle.driving.continuous": "平台提醒：您已连续驾驶超时，请尽快停车休息",
    "vehicle.video.dsm.fatigue": "平台提醒：检测到疲劳驾驶，请尽快停车休息",
}


def reminder(w: WarningRecord, now_ms: int) -> str | None:
    """The text to read out for a warning, or None; drill warnings never reach a terminal,
    and a warning older than STALE_MS (read after a long outage) is not read out."""
    if w.drill or w.vehicle_id is None or w.transition not in ("raised", "upgraded"):
        return None
    if w.ts < now_ms - STALE_MS:
        return None
    return TEXTS.get(w.rule)


def start_positions(partitions: list[TopicPartition], read: dict[tuple[str, int], int],
                    since_ms: int) -> tuple[list[TopicPartition], list[TopicPartition]]:
    """Where each assigned partition starts: after the last record read from it (a partition
    assigned again, e.g. after the group was rejoined, is not read a second time), else at
    the first record written since `since_ms` (a timestamp to resolve with offsets_for_times).
    Returns (at offsets, by time)."""
    at = [TopicPartition(p.topic, p.partition, read[(p.topic, p.partition)])
          for p in partitions if (p.topic, p.partition) in read]
    by_time = [TopicPartition(p.topic, p.partition, since_ms)
               for p in partitions if (p.topic, p.partition) not in read]
    return at, by_time


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
        self.read: dict[tuple[str, int], int] = {}  # (topic, partition) → next offset to read
        self.consumer.subscribe([topic_prefix + KafkaTopic.WARNINGS], on_assign=self._assigned)
        self.deliver = deliver
        self.kafka_state = ConnectionLog("Kafka (downlink)", log, 10)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jt808-downlink", daemon=True)

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Start each partition after what this process already read from it, else at the
        first warning written since the process started (the end when there is none)."""
        at, by_time = start_positions(partitions, self.read, self.since_ms)
        if by_time:
            try:
                at += consumer.offsets_for_times(by_time, timeout=10)
            except KafkaException as exc:  # these partitions keep "latest"
                log.warning("下行提醒:按时间查找起始位置失败(%s),这些分区从最新处读取", exc)
                at += [TopicPartition(p.topic, p.partition) for p in by_time]
        consumer.assign(at)
        log.info("下行提醒:已分配 %s 的 %d 个分区(进程启动后 %d ms)",
                 at[0].topic if at else "-", len(at), int(time.time() * 1000) - self.since_ms)

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
            self.read[(msg.topic() or "", msg.partition() or 0)] = (msg.offset() or 0) + 1
            try:
                w = decode_warning(msg.value() or b"")
            except ValueError as exc:
                log.warning("下行提醒:%s 上的预警无法解码:%s", msg.topic(), exc)
                continue
            text = reminder(w, int(time.time() * 1000))
            if text is not None and w.vehicle_id is not None:
                self.deliver(w.vehicle_id, text, w.warning_id)

    def stop(self) -> None:
        """Stop and close."""
        self._stop.set()
        self._thread.join(3)
        self.consumer.close()
