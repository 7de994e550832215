"""InfluxSink: add records, flush batches of line protocol; a failed flush keeps the batch.

Writes go to v1 `/write` (InfluxDB 1.x, the local stack), v2 `/api/v2/write` or v3
`/api/v3/write_lp` by configuration. Points are idempotent (same series and time overwrite),
so a batch written twice after a crash leaves no duplicate.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import msgspec
import requests

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.daily import decode_day, decode_hour
from hazardwatch.contracts.records import (
    PositionRecord,
    RejectedRecord,
    StatusRecord,
    TelemetryRecord,
    VideoEventRecord,
    decode_input,
)
from hazardwatch.contracts.seen import decode_seen
from hazardwatch.contracts.topics import KafkaTopic
from hazardwatch.contracts.warnings import decode_warning
from hazardwatch.streams.sinks import line_protocol as lp


class InfluxUnavailable(RuntimeError):
    """A write failed in a way that may succeed later (connection refused, 5xx, 429)."""


class InfluxRejected(RuntimeError):
    """InfluxDB refused the data itself (4xx other than 429): retrying cannot help."""


_rejected = msgspec.json.Decoder(RejectedRecord)


@dataclass(frozen=True, kw_only=True)
class InfluxTarget:
    """Where and how to write."""

    url: str
    db: str
    api: Literal["v1", "v2", "v3"] = "v1"
    org: str = ""
    token_env: str = "HW_INFLUX_TOKEN"  # secrets from the environment, never in config
    timeout_s: float = 10.0

    def request(self, rp: str) -> tuple[str, dict[str, str], dict[str, str]]:
        """(url, params, headers) of a write into retention policy rp."""
        token = os.environ.get(self.token_env, "")
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.api == "v1":
            return f"{self.url}/write", {"db": self.db, "rp": rp, "precision": "ms"}, headers
        if token:
            headers["Authorization"] = f"Token {token}" if self.api == "v2" else f"Bearer {token}"
        if self.api == "v2":  # DBRP mapping: bucket "db/rp"
            return (f"{self.url}/api/v2/write",
                    {"org": self.org, "bucket": f"{self.db}/{rp}", "precision": "ms"}, headers)
        return f"{self.url}/api/v3/write_lp", {"db": self.db, "precision": "millisecond"}, headers


FIRST_PUSH_KEPT = 100_000  # warning transitions remembered for their first push time


class InfluxSink:
    """Batches line protocol per retention policy; `flush` writes all or raises and keeps it."""

    def __init__(self, target: InfluxTarget, catalog: Catalog,
                 session: requests.Session | None = None) -> None:
        self.target = target
        self.catalog = catalog
        self.session = session or requests.Session()
        self.batches: dict[str, list[str]] = defaultdict(list)
        self.points = 0
        # (warning id, transition, time) → the first append time seen: the worker's output is
        # at least once, and a repeated record must not move `pushed_at` later
        self.first_push: dict[tuple[str, str, int], int] = {}

    def _first_push(self, wid: str, transition: str, ts: int, at: int | None) -> int | None:
        """The first append time of this warning transition this sink saw (bounded memory;
        a repeat after a restart of the sink may still move it)."""
        if at is None:
            return None
        key = (wid, transition, ts)
        first = self.first_push.setdefault(key, at)
        if len(self.first_push) > FIRST_PUSH_KEPT:
            del self.first_push[next(iter(self.first_push))]
        return min(first, at)

    def add(self, topic: str, value: bytes, appended_at: int | None = None) -> None:
        """Add one Kafka record (by topic suffix); unknown topics are ignored; appended_at:
        the record's Kafka timestamp (wall ms), kept on warnings as `pushed_at`."""
        if topic.endswith("hw.warnings"):
            w = decode_warning(value)
            appended_at = self._first_push(w.warning_id, w.transition, w.ts, appended_at)
            site = self.catalog.sites.get(w.site_id or "")
            where = (site.location.lat, site.location.lon) if site else None
            self._put(lp.RP_EVENTS, [lp.warning(w, where, appended_at)])
            return
        if topic.endswith(KafkaTopic.REJECTED):
            self._put(lp.RP_EVENTS, [lp.rejected(_rejected.decode(value))])
            return
        if topic.endswith(KafkaTopic.ALERT_ACTIONS):
            self._put(lp.RP_EVENTS, [lp.alert_action(json.loads(value))])
            return
        if topic.endswith(KafkaTopic.VEHICLE_DAILY):
            self._put(lp.RP_EVENTS, [lp.vehicle_day(decode_day(value))])
            return
        if topic.endswith(KafkaTopic.VEHICLE_HOURLY):
            self._put(lp.RP_EVENTS, [lp.vehicle_hour(decode_hour(value))])
            return
        if topic.endswith(KafkaTopic.SEEN_HOURLY):
            self._put(lp.RP_EVENTS, [lp.seen(decode_seen(value))])
            return
        rec = decode_input(value)
        if isinstance(rec, TelemetryRecord):
            rp, lines = lp.readings(rec, self.catalog)
            self._put(rp, lines)
        elif isinstance(rec, VideoEventRecord):
            self._put(lp.RP_EVENTS, [lp.video_event(rec)])
        elif isinstance(rec, PositionRecord):
            self._put(lp.RP_VEHICLE, [lp.position(rec)])
        elif isinstance(rec, StatusRecord):
            who = (f"vehicle={lp.tag(rec.vehicle_id)}" if rec.vehicle_id else
                   f"site={lp.tag(str(rec.site_id))},device={lp.tag(str(rec.device_id))}")
            self._put(lp.RP_EVENTS, [f"device_status,{who} status={lp.text(rec.status)} "
                                     f"{rec.ts}"])

    def add_lines(self, rp: str, lines: list[str]) -> None:
        """Add ready line-protocol points (the runner's own health figures)."""
        self._put(rp, lines)

    def _put(self, rp: str, lines: list[str]) -> None:
        self.batches[rp].extend(lines)
        self.points += len(lines)

    def flush(self) -> int:
        """Write every batch; return points written. On failure nothing is dropped."""
        written = 0
        for rp in list(self.batches):
            lines = self.batches[rp]
            for i in range(0, len(lines), 5000):
                self._write(rp, "\n".join(lines[i:i + 5000]).encode())
            written += len(lines)
            del self.batches[rp]
        self.points = 0
        return written

    def _write(self, rp: str, body: bytes) -> None:
        url, params, headers = self.target.request(rp)
        try:
            resp = self.session.post(url, params=params, data=body, headers=headers,
                                     timeout=self.target.timeout_s)
        except requests.RequestException as exc:
            raise InfluxUnavailable(f"InfluxDB unreachable at {url}: {exc}") from None
        if resp.status_code in (200, 204):
            return
        if resp.status_code == 429 or resp.status_code >= 500:
            raise InfluxUnavailable(f"InfluxDB {resp.status_code}: {resp.text[:200]}")
        raise InfluxRejected(f"InfluxDB {resp.status_code}: {resp.text[:300]}")


def decode_error(exc: Exception) -> bool:
    """True for a record that cannot be decoded (it is skipped and counted, never retried)."""
    return isinstance(exc, msgspec.MsgspecError | KeyError)
