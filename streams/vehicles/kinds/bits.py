"""JT/T 808 terminal alarm bits (0x0200 alarm flags): one episode per configured bit."""

from __future__ import annotations

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules.episode import Episode, step
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import INSTANT, Fix, Out, Setup, VehicleRule, warn
from hazardwatch.streams.vehicles.state import VehicleState


class AlarmBits(VehicleRule):
    """Raised while the bit is set (a hazmat level for hazmat vehicles), cleared when not.
    Also on a fix that is a GNSS jump: the terminal's alarm is still its alarm."""

    name = "jt808_bits"
    on_jump = True

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self.bits = tuple((bit, cfg, Level(cfg.level),
                           Level(cfg.hazmat_level) if cfg.hazmat_level else None)
                          for bit, cfg in setup.rules.jt808_bits.items())

    def applies(self, c: CompiledVehicle) -> bool:
        """Any bit configured."""
        return bool(self.bits)

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """The fix's alarm flags against the bits' open episodes."""
        flags, ts = fix.p.alarm_flags, fix.ts
        if not flags and not st.bits:
            return
        for bit, cfg, lv, hazmat_lv in self.bits:
            on = flags >> bit & 1
            ep = st.bits.get(bit)
            if not on and ep is None:
                continue
            if ep is None:
                ep = st.bits[bit] = Episode()
            level = hazmat_lv if c.hazmat and hazmat_lv else lv
            text = f"{c.who} 终端报警" + (f"：{cfg.name}" if on else f"「{cfg.name}」")
            change = step(INSTANT, ep, level if on else None, ts)
            if change:
                warn(change, ts, rule_ids.vehicle_jt808(bit), "terminal_alarm", c, text,
                     st.drill, out, float(bit))
            if not ep.active:
                del st.bits[bit]
