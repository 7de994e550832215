"""Device offline and 未接入: a device silent beyond its timeout, or never heard at all.

Offline: no data for the device's `offline_timeout_s` (catalog), or its last will
(`offline.status_offline_persist_s` after it), raised on the tick after, not before the
caller's start-up grace, at `offline.level` (coal mines: `level_coal_mine`), escalated by
policy `offline`; cleared by current data (a buffered upload older than the timeout before
the latest tick does not clear it: 断点续传 would flap). 未接入: a catalogued device that has
sent nothing `offline.never_connected_s` after the caller started; cleared by any record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.records import InputRecord
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Change, Policy, due_changes, next_due, step
from hazardwatch.streams.rules.kinds.base import DeviceInputs, DeviceRules, Fired, soon
from hazardwatch.streams.rules.state import DeviceState, SiteState


def _clock_text(ms: int) -> str:
    """UTC+8 wall-clock text of an epoch-ms time, for operators' messages."""
    return time.strftime("%m-%d %H:%M", time.gmtime(ms / 1000 + 8 * 3600))


def _device(st: SiteState, device_id: str) -> DeviceState:
    dev = st.devices.get(device_id)
    if dev is None:
        dev = st.devices[device_id] = DeviceState()
    return dev


@dataclass(frozen=True, slots=True)
class Offline(DeviceInputs):
    """Offline and 未接入 of the devices of one site."""

    site: Site
    timeout_ms: dict[str, int]  # device → its offline timeout
    will_ms: int  # a last will: offline this long after it
    level: Level
    policy: Policy
    never_ms: int
    never_level: Level
    never_policy: Policy

    def on_data(self, st: SiteState, device_id: str, ts: int, drill: bool, now: int | None,
                fired: list[Fired]) -> None:
        """Data (or an online status): the device is alive, unless it is a buffered upload."""
        dev = _device(st, device_id)
        dev.last_seen, dev.status_offline_at, dev.drill = max(dev.last_seen, ts), None, drill
        if dev.offline.active and now is not None and ts + self.timeout_ms[device_id] < now:
            return  # a buffered upload: still offline by event time until data is current
        if dev.offline.active or dev.offline.pending_since is not None:
            self._fire(device_id, dev, step(self.policy, dev.offline, None, ts), ts, fired)

    def on_last_will(self, st: SiteState, device_id: str, ts: int, drill: bool) -> None:
        """An offline status: offline once it has held (on a tick)."""
        dev = st.devices.setdefault(device_id, DeviceState(last_seen=ts))
        dev.status_offline_at, dev.drill = ts, drill

    def on_heard(self, st: SiteState, device_id: str, rec: InputRecord,
                 fired: list[Fired]) -> None:
        """Any record: the device is connected (ends 未接入); its offline timer moves."""
        dev = _device(st, device_id)
        if not dev.heard or dev.never.active:
            dev.heard = True
            if dev.never.active:
                change = step(self.never_policy, dev.never, None, rec.ts)
                self._never_fire(device_id, change, rec.ts,
                                 f"{self.site.name} 设备{device_id} 已接入", rec.drill, fired)
        soon(st, self._device_wake(device_id, dev, 0))

    def wake_at(self, st: SiteState, now: int, offline_not_before: int,
                started: int | None) -> int | None:
        """Offline timeouts and escalations; 未接入 still to check."""
        dues = [self._device_wake(dev_id, dev, offline_not_before)
                for dev_id, dev in st.devices.items()]
        if started is not None and now < started + self.never_ms and any(
                (dev := st.devices.get(d.id)) is None or not (dev.spoke or dev.never.active)
                for d in self.site.devices):
            dues.append(started + self.never_ms)
        return min((d for d in dues if d is not None), default=None)

    def on_wake(self, st: SiteState, now: int, offline_not_before: int, started: int | None,
                drill: bool, fired: list[Fired]) -> None:
        """未接入 of devices silent since the start; offline and its escalation."""
        if started is not None and now >= started + self.never_ms:
            self._never_connected(st, started, started + self.never_ms, drill, fired)
        for dev_id, dev in st.devices.items():
            if dev.last_seen == 0 and dev.status_offline_at is None:
                continue  # no data yet (未接入, above; or a camera's events only): not offline
            self._device_timer(dev_id, dev, now, offline_not_before, fired)

    def _never_connected(self, st: SiteState, since: int, connect_by: int, drill: bool,
                         fired: list[Fired]) -> None:
        """未接入: every catalogued device of the site that has sent nothing by connect_by."""
        for device in self.site.devices:
            dev = st.devices.get(device.id)
            if dev is not None and (dev.spoke or dev.never.active):
                continue
            if dev is None:
                dev = st.devices[device.id] = DeviceState()
            text = (f"{self.site.name} 设备{device.id} 未接入（自{_clock_text(since)}起"
                    f"{(connect_by - since) / 1000:.0f}秒内未收到任何数据）")
            change = step(self.never_policy, dev.never, self.never_level, connect_by)
            self._never_fire(device.id, change, connect_by, text, drill, fired)

    def _device_wake(self, dev_id: str, dev: DeviceState, offline_not_before: int) -> int | None:
        """When a device's offline warning may be raised (the tick after its timeout or last
        will, not before the grace) or escalated; None: not timed (no data yet)."""
        if dev.offline.active:
            return next_due(self.policy, dev.offline)
        if dev.status_offline_at is not None:
            due = dev.status_offline_at + self.will_ms
        elif dev.last_seen == 0:
            return None
        else:
            due = dev.last_seen + self.timeout_ms[dev_id]
        return max(due + 1, offline_not_before)

    def _device_timer(self, dev_id: str, dev: DeviceState, now: int, offline_not_before: int,
                      fired: list[Fired]) -> None:
        """Offline after the device's timeout (or its last will), not before the grace; an
        open offline warning's escalation."""
        if dev.status_offline_at is not None:
            due = dev.status_offline_at + self.will_ms
        else:
            due = dev.last_seen + self.timeout_ms[dev_id]
        if due < now and max(due, offline_not_before) <= now and not dev.offline.active:
            at = max(due, offline_not_before)
            self._fire(dev_id, dev, step(self.policy, dev.offline, self.level, at), at, fired)
        if dev.offline.active:
            for c, t in due_changes(self.policy, dev.offline, dev.offline.base_level, now):
                self._fire(dev_id, dev, c, t, fired)

    def _fire(self, device_id: str, dev: DeviceState, change: Change | None, ts: int,
              fired: list[Fired]) -> None:
        if change is None:
            return
        silent = (ts - dev.last_seen) / 1000
        name = self.site.name
        text = (f"{name} 设备{device_id} 已恢复在线" if change.transition == "cleared"
                else f"{name} 设备{device_id} 离线（{silent:.0f}秒无数据）")
        fired.append(Fired(change, ts, RuleId.DEVICE_OFFLINE, "offline", None, None, None,
                           None, text, dev.drill, device_id))

    @staticmethod
    def _never_fire(device_id: str, change: Change | None, ts: int, text: str,
                    drill: bool, fired: list[Fired]) -> None:
        if change is not None:
            fired.append(Fired(change, ts, RuleId.DEVICE_NEVER_CONNECTED, "device", None, None,
                               None, None, text, drill, device_id))


def compile_offline(site: Site, rules: RulesConfig) -> DeviceRules:
    """Offline and 未接入 of a site's devices, from their timeouts and the rule pack."""
    cfg = rules.offline
    return Offline(site, {d.id: d.offline_timeout_s * 1000 for d in site.devices},
                   int(cfg.status_offline_persist_s * 1000),
                   cfg.level_coal_mine if site.kind == "coal_mine" else cfg.level,
                   rules.policy("offline"), int(cfg.never_connected_s * 1000),
                   cfg.level_never_connected, rules.policy("never_connected"))
