"""What the service needs from its memory: SQLite when alone (store.py), the shared Kafka
changelog with several instances (changelog.py)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from typing import Protocol

from hazardwatch.alerting.state import Action, Alert, Silence


class StateStore(Protocol):
    """Alerts, deliveries, silences, one-time links, shared actions and response times."""

    lock: threading.RLock

    def tx(self) -> AbstractContextManager[None]:
        """One atomic step."""

    def alerts(self) -> dict[str, Alert]:
        """The alerts to start with."""

    def put_alert(self, a: Alert) -> None:
        """Insert or replace."""

    def drop_alert(self, wid: str) -> None:
        """Forget a finished alert."""

    def delivered(self, delivery_id: str) -> bool:
        """Whether this delivery is final."""

    def mark_delivery(self, delivery_id: str, status: str, at: int) -> None:
        """A delivery is final."""

    def silences(self) -> list[Silence]:
        """Every silence."""

    def put_silence(self, s: Silence) -> None:
        """Add, replace or end a silence."""

    def use_link(self, token: str, now: int) -> bool:
        """Mark a one-time link used; False when it already was."""

    def put_action(self, act: Action) -> None:
        """An acknowledgement or 处置 for the instance that owns the alert."""

    def put_response(self, warning_id: str, what: str, level: int, ms: int) -> None:
        """A response time."""

    def responses(self) -> list[tuple[str, int, int]]:
        """(what, level, ms) of every response."""
