"""Start in any order: a service creates the Kafka topics it needs, or waits for Kafka to do so.

Every pipeline topic has `PARTITIONS` partitions (keyed by site or vehicle; the workers' ticks
and tables follow the same hash). A service calls `ensure_topics` before it subscribes or
produces, so a fresh deployment may start its services in any order, and a consumer never
subscribes to a topic that does not exist yet (librdkafka and aiokafka would only notice it at
their next metadata refresh, up to 5 minutes later). New topics take the broker's default
replication factor (`default.replication.factor`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

PARTITIONS = 4

log = logging.getLogger("hazardwatch.kafka.topics")
_quiet = logging.getLogger("hazardwatch.kafka.topics.client")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


class TopicsUnavailable(RuntimeError):
    """Kafka did not answer, or did not create the topics, before the deadline."""


def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int = PARTITIONS, *,
                  timeout_s: float | None = None, retry_s: float = 2.0,
                  stopped: Callable[[], bool] = lambda: False) -> None:
    """Create the missing topics; while Kafka is away, retry every `retry_s` (one log line).

    `timeout_s` None waits for ever (a service at start); `stopped()` true gives up quietly.
    An existing topic with another partition count is kept and reported (its keys would hash
    elsewhere than the design assumes).
    """
    wanted = sorted(set(topics))
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    waiting = False
    while not stopped():
        try:
            _create(bootstrap, wanted, partitions)
            if waiting:
                log.info("Kafka topics ready: %s", ", ".join(wanted))
            return
        except KafkaException as exc:
            if deadline is not None and time.monotonic() > deadline:
                raise TopicsUnavailable(f"Kafka {bootstrap}: topics {wanted} not ready: "
                                        f"{exc}") from exc
            if not waiting:
                log.warning("Kafka %s not ready for topics %s (%s); retrying every %.0f s",
                            bootstrap, ", ".join(wanted), exc.args[0] if exc.args else exc,
                            retry_s)
                waiting = True
            time.sleep(retry_s)


def _create(bootstrap: str, topics: list[str], partitions: int) -> None:
    conf: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": _quiet,
                            "socket.timeout.ms": 3000}
    admin = AdminClient(conf)
    md = admin.list_topics(timeout=5)
    for name in topics:
        have = md.topics.get(name)
        if have is not None and have.error is None and len(have.partitions) != partitions:
            log.warning("topic %s has %d partitions, the design assumes %d", name,
                        len(have.partitions), partitions)
    new = [NewTopic(t, num_partitions=partitions, replication_factor=-1)
           for t in topics if t not in md.topics or md.topics[t].error is not None]
    for fut in admin.create_topics(new, operation_timeout=10).values() if new else []:
        try:
            fut.result(15)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    if new:  # wait until every partition has a leader (a producer or consumer may use it now)
        _wait_leaders(admin, [t.topic for t in new])


def _wait_leaders(admin: AdminClient, topics: list[str], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        md = admin.list_topics(timeout=5)
        if all(t in md.topics and md.topics[t].error is None and md.topics[t].partitions and
               all(p.leader >= 0 for p in md.topics[t].partitions.values()) for t in topics):
            return
        time.sleep(0.1)
