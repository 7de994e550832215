"""A `StateStore` in one SQLite file (WAL, synchronous=FULL): alerts, sent deliveries, silences
and used acknowledgement links, one transaction per step. For embedding the service in one
process and for its unit tests; the running service keeps its state in the Kafka changelog
(`changelog.ChangelogStore`), which lets another instance take over."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import msgspec

from hazardwatch.alerting.state import Action, Alert, Silence

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, status TEXT NOT NULL, at INTEGER);
CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS links (token TEXT PRIMARY KEY, used_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS set_aside (tbl TEXT NOT NULL, id TEXT NOT NULL, body BLOB,
                                      error TEXT NOT NULL, PRIMARY KEY (tbl, id));
CREATE TABLE IF NOT EXISTS responses (id TEXT NOT NULL, what TEXT NOT NULL, level INTEGER,
                                      ms INTEGER, PRIMARY KEY (id, what));
"""
log = logging.getLogger("hazardwatch.alerting")
T = TypeVar("T")
_enc = msgspec.msgpack.Encoder()
_alert = msgspec.msgpack.Decoder(Alert)
_silence = msgspec.msgpack.Decoder(Silence)


class Store:
    """The service's memory on disk; every method runs in the caller's transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()

    @contextmanager
    def tx(self) -> Iterator[None]:
        """One atomic step (thread-safe)."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _readable(self, table: str, decoder: msgspec.msgpack.Decoder[T]) -> dict[str, T]:
        """Rows that decode; any other is reported, moved to set_aside and never blocks start."""
        out: dict[str, T] = {}
        bad: list[tuple[str, bytes, str]] = []
        for k, v in self.db.execute(f"SELECT id, body FROM {table}").fetchall():
            try:
                out[k] = decoder.decode(v)
            except (msgspec.DecodeError, TypeError) as exc:
                bad.append((k, v, str(exc)))
        for k, v, why in bad:
            log.error("状态库 %s 行 %s 无法读取，已移至 set_aside 表: %s", table, k, why)
            with self.tx():
                self.db.execute("INSERT OR REPLACE INTO set_aside VALUES (?, ?, ?, ?)",
                                (table, k, v, why))
                self.db.execute(f"DELETE FROM {table} WHERE id = ?", (k,))
        return out

    def set_aside(self) -> list[tuple[str, str, str]]:
        """(table, id, error) of every row that could not be read."""
        return self.db.execute("SELECT tbl, id, error FROM set_aside").fetchall()

    def alerts(self) -> dict[str, Alert]:
        """Every readable stored alert by warning id."""
        return self._readable("alerts", _alert)

    def put_alert(self, a: Alert) -> None:
        """Insert or replace."""
        self.db.execute("INSERT OR REPLACE INTO alerts VALUES (?, ?)",
                        (a.warning.warning_id, _enc.encode(a)))

    def drop_alert(self, warning_id: str) -> None:
        """Archive (forget) a finished alert."""
        self.db.execute("DELETE FROM alerts WHERE id = ?", (warning_id,))

    def delivered(self, delivery_id: str) -> bool:
        """Whether this delivery already went out (or failed for good)."""
        return self.db.execute("SELECT 1 FROM deliveries WHERE id = ?",
                               (delivery_id,)).fetchone() is not None

    def mark_delivery(self, delivery_id: str, status: str, at: int) -> None:
        """Record a delivery's final state: sent, failed, suppressed."""
        self.db.execute("INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?)",
                        (delivery_id, status, at))

    def silences(self) -> list[Silence]:
        """All readable silences (expired ones are harmless)."""
        return list(self._readable("silences", _silence).values())

    def put_silence(self, s: Silence) -> None:
        """Add or replace a silence."""
        self.db.execute("INSERT OR REPLACE INTO silences VALUES (?, ?)", (s.id, _enc.encode(s)))

    def use_link(self, token: str, now: int) -> bool:
        """Mark a one-time link used; False when it already was."""
        cur = self.db.execute("INSERT OR IGNORE INTO links VALUES (?, ?)", (token, now))
        return cur.rowcount == 1

    def put_action(self, act: Action) -> None:
        """An action for other instances: nothing to share when alone."""

    def put_response(self, warning_id: str, what: str, level: int, ms: int) -> None:
        """A response time: 'ack' (to acknowledge) or 'handle' (to report 处置)."""
        self.db.execute("INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?)",
                        (warning_id, what, level, ms))

    def responses(self) -> list[tuple[str, int, int]]:
        """(what, level, ms) of every recorded response."""
        return self.db.execute("SELECT what, level, ms FROM responses").fetchall()
