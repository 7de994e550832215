"""A terminal clock ahead beyond its tolerance (the data were kept at the receive time)."""

from __future__ import annotations

from hazardwatch.contracts.records import InputRecord
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.episode import Policy, step
from hazardwatch.streams.vehicles.kinds.base import Out, Setup, VehicleRule, warn
from hazardwatch.streams.vehicles.state import VehicleState


class ClockFast(VehicleRule):
    """One fault per episode, with the offset; cleared after 10 min of records on time."""

    name = "clock_fast"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self.policy = Policy(0, 600, None)
        self.level = Level(setup.rules.offline.clock_fast_level)

    def on_record(self, st: VehicleState, vehicle_id: str, rec: InputRecord, out: Out) -> None:
        """Any record: its clock offset (None: on time)."""
        fast = rec.clock_fast_ms
        if fast is None and not st.clock.active:
            return
        if fast is not None:
            st.clock_fast_ms = fast
        change = step(self.policy, st.clock, self.level if fast is not None else None, rec.ts)
        if change:
            c = self.setup.vehicles[vehicle_id]
            text = (f"{c.who} 终端时钟已恢复正常" if change.transition == "cleared" else
                    f"{c.who} 终端时钟超前{st.clock_fast_ms / 1000:.0f}秒（超出允许偏差），"
                    "数据按接收时间保存")
            warn(change, rec.ts, RuleId.VEHICLE_CLOCK_FAST, "fault", c, text, rec.drill, out,
                 st.clock_fast_ms / 1000, None, "s")
