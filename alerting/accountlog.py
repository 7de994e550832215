"""Console accounts on the alerting store's compacted Kafka topic `hw.alerting-accounts`
(one partition): `account:<name>` holds the role, scope, state and the argon2id hash,
`logout:<name>` the time before which its sessions are void. Every instance reads the topic
from the start and follows it, so an account added, disabled or logged out through any
instance or the CLI holds on all of them within a poll. The hash sits on its own topic, not on
hw.alerting-state, so that an ACL can keep it from every other service (docs/console.md)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

import msgspec

from hazardwatch.alerting.users import Account, AccountStore

log = logging.getLogger("hazardwatch.alerting")
ACCOUNTS_TOPIC = "hw.alerting-accounts"
_account = msgspec.json.Decoder(Account)


class AccountView:
    """Pure: the accounts as read from the topic's records, in order."""

    def __init__(self) -> None:
        self.rows: dict[str, Account] = {}
        self.logout: dict[str, int] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Take in one record (ValueError / DecodeError with the reason when unreadable)."""
        kind, _, name = (key or b"").decode().partition(":")
        if not name or kind not in ("account", "logout"):
            raise ValueError(f"unknown account record {kind!r}")
        if kind == "account":
            if value is None:
                self.rows.pop(name, None)
            else:
                acc = _account.decode(value)
                if acc.name != name:
                    raise ValueError(f"account record {name!r} holds {acc.name!r}")
                self.rows[name] = acc
        elif value is None:
            self.logout.pop(name, None)
        else:
            self.logout[name] = int(value)

    def accounts(self) -> dict[str, Account]:
        """Every account with its logout time."""
        return {n: msgspec.structs.replace(a, sessions_after=max(a.sessions_after,
                                                                 self.logout.get(n, 0)))
                for n, a in self.rows.items()}


class AccountLog(AccountStore):
    """The accounts on Kafka; `follow` keeps reading in a thread (the service), without it the
    topic is read once to its end (the CLI)."""

    def __init__(self, bootstrap: str, topic: str = ACCOUNTS_TOPIC, follow: bool = True,
                 timeout_s: float = 30.0) -> None:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

        from hazardwatch.alerting.runner import ensure_state_topic

        ensure_state_topic(bootstrap, topic, 1)  # compacted, one partition: one order
        self.topic, self.view, self.lock = topic, AccountView(), threading.Lock()
        self.producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                                  "acks": "all"})
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "enable.auto.commit": False,
                                  "group.id": f"accounts-{uuid.uuid4().hex[:8]}",
                                  "fetch.wait.max.ms": 50})
        self._tp = TopicPartition(topic, 0, OFFSET_BEGINNING)
        self.consumer.assign([self._tp])
        self._stop = threading.Event()
        self.polls = 0  # the follower's polls so far (catch_up)
        self._read_to(self._end(time.monotonic() + timeout_s), time.monotonic() + timeout_s)
        self._thread: threading.Thread | None = None
        if follow:
            self._thread = threading.Thread(target=self._follow, name="accounts", daemon=True)
            self._thread.start()

    def _end(self, deadline: float) -> int:
        from confluent_kafka import KafkaException, TopicPartition

        while True:  # a new topic's partition may still be electing its leader
            try:
                return int(self.consumer.get_watermark_offsets(
                    TopicPartition(self.topic, 0), timeout=5)[1])
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _read_to(self, end: int, deadline: float) -> None:
        from confluent_kafka import TopicPartition

        at = 0
        while at < end:  # by position: compaction leaves gaps in the offsets
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.topic} not read to its end ({at}/{end}) in time")
            for m in self.consumer.consume(500, timeout=0.2):
                if m.error() is None:
                    self._take(m)
            at = max(0, self.consumer.position([TopicPartition(self.topic, 0)])[0].offset)

    def _take(self, m: Any) -> None:
        try:
            with self.lock:
                self.view.apply(m.key(), m.value())
        except (msgspec.DecodeError, ValueError, UnicodeDecodeError) as exc:
            log.error("账户记录 %s@%s 无法读取，已跳过: %s", self.topic, m.offset(), exc)

    def _follow(self) -> None:
        while not self._stop.is_set():
            for m in self.consumer.consume(100, timeout=0.2):
                if m.error() is None:
                    self._take(m)
            self.polls += 1

    def catch_up(self, timeout_s: float = 2.0) -> None:
        """Wait (at most `timeout_s`) until the follower has polled twice more: a record written
        before this call (acknowledged by Kafka) is then read."""
        if self._thread is None:
            return
        want, deadline = self.polls + 2, time.monotonic() + timeout_s
        while self.polls < want and time.monotonic() < deadline:
            time.sleep(0.01)

    def accounts(self) -> dict[str, Account]:
        """Every account as read so far (with this process's own writes)."""
        with self.lock:
            return self.view.accounts()

    def _produce(self, key: str, value: bytes) -> None:
        failed: list[str] = []

        def done(err: Any, _msg: Any) -> None:
            if err is not None:
                failed.append(str(err))

        self.producer.produce(self.topic, key=key.encode(), value=value, partition=0,
                              on_delivery=done)
        if self.producer.flush(15) or failed:
            raise RuntimeError(f"账户未能写入 {self.topic}: {failed or '超时'}")
        with self.lock:  # read your own write at once; the follower reads it again (same value)
            self.view.apply(key.encode(), value)

    def put(self, acc: Account) -> None:
        """Write the account (its logout time stays on its own key)."""
        self._produce(f"account:{acc.name}",
                      msgspec.json.encode(msgspec.structs.replace(acc, sessions_after=0)))
        if acc.sessions_after > self.view.logout.get(acc.name, 0):  # imported with a logout
            self.put_logout(acc.name, acc.sessions_after)

    def put_logout(self, name: str, now_ms: int) -> None:
        """Void the sessions issued before now_ms, on every instance."""
        self._produce(f"logout:{name}", str(now_ms).encode())

    def close(self) -> None:
        """Stop following and release the clients."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.consumer.close()
        self.producer.flush(5)
