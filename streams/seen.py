"""Hourly tallies of the valid values of each point and device of a site (pure).

The worker keeps them in the site's state and sends one `SeenRecord` per site and hour when
the hour closes (by a value of a later hour or by a tick past the hour), and rewrites the
open hour's record at the first tick after it opened and then at most every `RESEND_MS` of
the tick clock (`hazardwatch worker --seen-every`) when it has new values, so the
figures of a period that just ended find its values. Offline time is the offline warning's
rule: a silence counts beyond the device's timeout. A value dated at or before the latest one
counted for its point (re-sent or out of order) is not counted; a value of an hour already
sent (late) is counted in the open hour's record.
"""

from __future__ import annotations

import msgspec

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.records import TelemetryRecord
from hazardwatch.contracts.seen import SeenEntry, SeenRecord

HOUR_MS = 3_600_000
RESEND_MS = 600_000


class Tally(msgspec.Struct, array_like=True, omit_defaults=True):
    """A point's or device's values in the open hour (n > 0) and its latest value."""

    first: int = 0
    last: int = 0  # the latest value counted (kept when the hour closes)
    prev: int = 0
    n: int = 0
    off: int = 0


class Ledger(msgspec.Struct, omit_defaults=True):
    """Tallies by "device/sensor" (points) and "device" (devices) of the open hour `hour` (0:
    none); `sent_to`: the end of the last hour sent; `due`: the tick time at which the open
    hour's record is next sent; `dirty`: values since it was last sent."""

    tallies: dict[str, Tally] = msgspec.field(default_factory=dict)
    hour: int = 0
    sent_to: int = 0
    due: int = 0
    dirty: bool = False
    drill: bool = False


def _record(site_id: str, ledger: Ledger) -> SeenRecord:
    return SeenRecord(site_id, ledger.hour, [
        SeenEntry(k, t.first, t.last, t.n, t.prev, t.off)
        for k, t in ledger.tallies.items() if t.n], ledger.drill)


def _close(site_id: str, ledger: Ledger) -> SeenRecord:
    rec = _record(site_id, ledger)
    for t in ledger.tallies.values():
        t.n = 0
    ledger.sent_to, ledger.hour, ledger.due, ledger.dirty = ledger.hour + HOUR_MS, 0, 0, False
    return rec


def observe(ledger: Ledger, site_id: str, key: str, ts: int, timeout_ms: int,
            drill: bool) -> SeenRecord | None:
    """Count one valid value at ts; the record of the hour it closes, if any."""
    t = ledger.tallies.get(key)
    if t is None:
        t = ledger.tallies[key] = Tally()
    if ts <= t.last:
        return None
    out = None
    if ledger.hour and ts >= ledger.hour + HOUR_MS:
        out = _close(site_id, ledger)
    if not ledger.hour:
        ledger.hour = max(ts - ts % HOUR_MS, ledger.sent_to)
        ledger.due = ledger.hour  # the first tick sends it
    silence = max(0, ts - t.last - timeout_ms) if t.last else 0
    if t.n == 0:
        t.first, t.prev, t.off = ts, t.last, silence
    else:
        t.off += silence
    t.n += 1
    t.last, ledger.drill, ledger.dirty = ts, drill, True
    return out


def observe_record(ledger: Ledger, catalog: Catalog, rec: TelemetryRecord) -> list[SeenRecord]:
    """Count the valid values of catalogued points of one telemetry record (a value of the
    open hour after its point's latest takes the short way: what `observe` would do)."""
    dev = catalog.devices.get((rec.site_id, rec.device_id))
    if dev is None:
        return []
    timeout, out, times = dev.offline_timeout_s * 1000, [], set()
    site, device, drill = rec.site_id, rec.device_id, rec.drill
    keys = _keys(catalog, site, device)
    tallies, end = ledger.tallies, (ledger.hour + HOUR_MS if ledger.hour else 0)
    for p in rec.points:
        key = keys.get(p.sensor)
        if p.value is None or key is None:
            continue
        ts = p.ts
        times.add(ts)
        t = tallies.get(key)
        if t is not None and t.n and t.last < ts < end:  # the open hour, in order
            if ts - t.last > timeout:
                t.off += ts - t.last - timeout
            t.n += 1
            t.last, ledger.drill, ledger.dirty = ts, drill, True
            continue
        closed = observe(ledger, site, key, ts, timeout, drill)
        if closed is not None:
            out.append(closed)
            end = ledger.hour + HOUR_MS
    for ts in sorted(times):  # the device: once per distinct time of its valid values
        closed = observe(ledger, site, device, ts, timeout, drill)
        if closed is not None:
            out.append(closed)
    return out


_KEYS: dict[tuple[int, str, str], dict[str, str]] = {}  # (catalog, site, device) → keys


def _keys(catalog: Catalog, site: str, device: str) -> dict[str, str]:
    """The site's catalogued sensors → their tally keys for this device (cached)."""
    keys = _KEYS.get((id(catalog), site, device))
    if keys is None:
        keys = _KEYS[(id(catalog), site, device)] = {
            s: f"{device}/{s}" for (sid, s) in catalog.sensors if sid == site}
    return keys


def due(ledger: Ledger, site_id: str, now: int, every_ms: int = RESEND_MS) -> list[SeenRecord]:
    """At a tick: the open hour's record when the hour ended by now, or when it has new values
    and was last sent at least every_ms before."""
    if not ledger.hour or now < ledger.due:
        return []
    if now >= ledger.hour + HOUR_MS:
        return [_close(site_id, ledger)]
    ledger.due = min(ledger.hour + HOUR_MS, now + every_ms)
    if not ledger.dirty:
        return []
    ledger.dirty = False
    return [_record(site_id, ledger)]
