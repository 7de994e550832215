"""Device clock fast: a device's timestamps ahead of the receive time beyond the tolerance.

The bridge keeps such data at its receive time and marks the record (`clock_fast_ms`); the
first such record raises at `fault.level_clock_fast` (policy `clock`), a record without the
mark clears it after the policy's clear delay.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.records import InputRecord
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Policy, step
from hazardwatch.streams.rules.kinds.base import DeviceInputs, DeviceRules, Fired
from hazardwatch.streams.rules.state import DeviceState, SiteState


@dataclass(frozen=True, slots=True)
class ClockFast(DeviceInputs):
    """The clock check of the devices of one site."""

    site: Site
    level: Level
    policy: Policy

    def on_heard(self, st: SiteState, device_id: str, rec: InputRecord,
                 fired: list[Fired]) -> None:
        """A record marked clock-fast raises; an unmarked one clears an open warning."""
        dev = st.devices.get(device_id)
        if dev is None:
            dev = st.devices[device_id] = DeviceState()
        fast = rec.clock_fast_ms
        if fast is None and not dev.clock.active:
            return  # (the usual case: nothing to do)
        if fast is not None:
            dev.clock_fast_ms = fast
        change = step(self.policy, dev.clock, self.level if fast is not None else None, rec.ts)
        if change is None:
            return
        name = self.site.name
        text = (f"{name} 设备{device_id} 时钟已恢复正常" if change.transition == "cleared" else
                f"{name} 设备{device_id} 时钟超前{dev.clock_fast_ms / 1000:.0f}秒"
                "（超出允许偏差），数据按接收时间保存")
        fired.append(Fired(change, rec.ts, RuleId.DEVICE_CLOCK_FAST, "device", None,
                           float(dev.clock_fast_ms / 1000), None, "s", text, rec.drill,
                           device_id))


def compile_clock(site: Site, rules: RulesConfig) -> DeviceRules:
    """The clock check of a site's devices (rule pack `fault.level_clock_fast`)."""
    return ClockFast(site, rules.fault.level_clock_fast, rules.policy("clock"))
