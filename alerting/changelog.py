"""The alerting state in a compacted Kafka topic shared by every instance, as the stream
workers keep theirs: `alert:<id>` (the alert, on the partition of its warning), `ack:<id>`,
`verify:<id>`, `resolve:<id>`, `close:<id>` and `supervise:<id>` (actions taken on any
instance, applied by the alert's owner), `silence:<id>`, `link:<token>` (used one-time links),
`resp:<id>:<what>` (response times). Every instance reads the whole topic; the owner of a
partition of hw.warnings is the only writer of that partition's alerts."""

from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import msgspec

from hazardwatch.alerting.state import Action, Alert, Silence

ACTIONS = ("ack", "verify", "resolve", "close", "supervise")  # kinds of shared action records

log = logging.getLogger("hazardwatch.alerting")
_enc = msgspec.msgpack.Encoder()
_alert = msgspec.msgpack.Decoder(Alert)
_silence = msgspec.json.Decoder(Silence)
_action = msgspec.json.Decoder(Action)


class Producer(Protocol):
    """The part of confluent_kafka.Producer this store uses."""

    def produce(self, topic: str, value: bytes | None = ..., key: bytes | None = ...,
                partition: int = ...) -> None:
        """Queue one record."""


@dataclass(frozen=True, slots=True)
class Record:
    """What a changelog record meant: an alert (None: gone) or an action for its owner."""

    partition: int
    warning_id: str | None = None
    alert: Alert | None = None
    action: Action | None = None
    silences_changed: bool = False


class ChangelogStore:
    """The service's store (same methods as the SQLite Store) on the shared changelog."""

    def __init__(self, producer: Producer, topic: str, partitions: int) -> None:
        self.producer, self.topic, self.partitions = producer, topic, partitions
        self.lock = threading.RLock()
        self.partition_of: dict[str, int] = {}
        self.view: dict[str, Alert] = {}  # the latest alert of every partition, as read
        self.actions: dict[str, list[Action]] = {}
        self.shared: dict[str, Silence] = {}
        self.used_links: set[str] = set()
        self.resp: dict[str, tuple[str, int, int]] = {}
        self.bad: list[tuple[str, str, str]] = []

    @contextmanager
    def tx(self) -> Iterator[None]:
        """Writes are queued on the producer; the runner flushes before committing offsets."""
        with self.lock:
            yield

    def _part(self, wid: str) -> int:
        p = self.partition_of.get(wid)
        return p if p is not None else zlib.crc32(wid.encode()) % self.partitions

    def _put(self, key: str, value: bytes | None, partition: int) -> None:
        self.producer.produce(self.topic, value=value, key=key.encode(), partition=partition)

    # -- the Store methods ------------------------------------------------------------------

    def alerts(self) -> dict[str, Alert]:
        """None at start: alerts are adopted per partition once restored."""
        return {}

    def put_alert(self, a: Alert) -> None:
        """Write the alert to its warning's partition."""
        wid = a.warning.warning_id
        self._put(f"alert:{wid}", _enc.encode(a), self._part(wid))

    def drop_alert(self, wid: str) -> None:
        """Tombstones for the alert and its actions (compaction then forgets them)."""
        p = self._part(wid)
        for k in ("alert", *ACTIONS):
            self._put(f"{k}:{wid}", None, p)
        self.actions.pop(wid, None)
        self.partition_of.pop(wid, None)

    def delivered(self, delivery_id: str) -> bool:
        """Delivered ids live in the alert itself here."""
        return False

    def mark_delivery(self, delivery_id: str, status: str, at: int) -> None:
        """Recorded in the alert (see delivered)."""

    def silences(self) -> list[Silence]:
        """Every silence any instance made."""
        return list(self.shared.values())

    def put_silence(self, s: Silence) -> None:
        """Share a silence (or its end) with every instance."""
        self.shared[s.id] = s
        self._put(f"silence:{s.id}", msgspec.json.encode(s), 0)

    def use_link(self, token: str, now: int) -> bool:
        """Mark a one-time link used everywhere; False when it already was."""
        if token in self.used_links:
            return False
        self.used_links.add(token)
        self._put(f"link:{token}", str(now).encode(), 0)
        return True

    def put_action(self, act: Action) -> None:
        """An ack or 处置 for the owner of the alert (maybe another instance)."""
        self.actions.setdefault(act.warning_id, []).append(act)
        self._put(f"{act.what}:{act.warning_id}", msgspec.json.encode(act),
                  self._part(act.warning_id))

    def put_response(self, warning_id: str, what: str, level: int, ms: int) -> None:
        """A response time, once per warning and kind."""
        key = f"resp:{warning_id}:{what}"
        if key not in self.resp:
            self.resp[key] = (what, level, ms)
            self._put(key, json.dumps([what, level, ms]).encode(), self._part(warning_id))

    def responses(self) -> list[tuple[str, int, int]]:
        """(what, level, ms) of every recorded response."""
        return list(self.resp.values())

    def set_aside(self) -> list[tuple[str, str, str]]:
        """(topic:partition@offset, key, error) of every record that could not be read."""
        return list(self.bad)

    # -- reading the changelog --------------------------------------------------------------

    def apply(self, partition: int, offset: int, key: bytes | None,
              value: bytes | None) -> Record | None:
        """Take in one record read from the changelog; an unreadable one is set aside."""
        k = (key or b"").decode(errors="replace")
        kind, _, rest = k.partition(":")
        try:
            return self._apply(partition, kind, rest, value)
        except (msgspec.DecodeError, ValueError, TypeError) as exc:
            where = f"{self.topic}:{partition}@{offset}"
            log.error("状态记录 %s (%s) 无法读取，已跳过: %s", where, k[:80], exc)
            self.bad.append((where, k[:200], str(exc)))
            return None

    def _apply(self, partition: int, kind: str, rest: str, value: bytes | None) -> Record | None:
        if kind == "alert":
            self.partition_of[rest] = partition
            if value is None:
                self.view.pop(rest, None)
                return Record(partition, rest, None)
            a = _alert.decode(value)
            self.view[rest] = a
            return Record(partition, rest, a)
        if kind in ACTIONS:
            if value is None:
                self.actions.pop(rest, None)
                return None
            act = _action.decode(value)
            known = self.actions.setdefault(rest, [])
            if act not in known:
                known.append(act)
            return Record(partition, rest, action=act)
        if kind == "silence":
            if value is None:
                self.shared.pop(rest, None)
            else:
                self.shared[rest] = _silence.decode(value)
            return Record(partition, silences_changed=True)
        if kind == "link":
            self.used_links.add(rest)
        elif kind == "resp" and value is not None:
            what, level, ms = json.loads(value)
            self.resp[f"resp:{rest}"] = (str(what), int(level), int(ms))
        elif kind not in ("link", "resp"):
            raise ValueError(f"unknown record kind {kind!r}")
        return None

    def owned_by(self, partitions: set[int]) -> dict[str, Alert]:
        """The alerts read for these partitions (to adopt after a restore)."""
        return {w: a for w, a in self.view.items() if self.partition_of.get(w) in partitions}


