"""未接入: a catalogued vehicle that has sent nothing at all; 已接入 with its first record."""

from __future__ import annotations

from hazardwatch.contracts.records import InputRecord
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.episode import step
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import INSTANT, Out, Setup, VehicleRule, warn
from hazardwatch.streams.vehicles.messages import duration
from hazardwatch.streams.vehicles.state import VehicleState


class NeverConnected(VehicleRule):
    """Raised once by `check` (the caller's accounting); cleared by the first record."""

    name = "never_connected"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        off = setup.rules.offline
        self.after_ms = int(off.never_connected_s * 1000)
        self.level = Level(off.never_connected_level)

    def on_record(self, st: VehicleState, vehicle_id: str, rec: InputRecord, out: Out) -> None:
        """The first record of a vehicle reported (or about to be reported) as 未接入."""
        if not (st.never.active or st.connect_by):
            return
        st.connect_by = 0
        change = step(INSTANT, st.never, None, rec.ts)
        if change:
            c = self.setup.vehicles[vehicle_id]
            warn(change, rec.ts, RuleId.VEHICLE_NEVER_CONNECTED, "offline", c,
                 f"{c.who} 已接入", rec.drill, out)

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """When 未接入 is due, while nothing was ever heard."""
        return st.connect_by or None

    def check(self, st: VehicleState, vehicle_id: str, since: int, now: int,
              drill: bool) -> Out:
        """未接入 if nothing was heard since `since` for offline.never_connected_s."""
        connect_by = since + self.after_ms
        if st.last_ts or st.status_offline_at is not None or st.never.active or st.video:
            return []
        if now < connect_by:
            st.connect_by = connect_by  # (wake_at: the tick that must look again)
            st.wake_at = min(st.wake_at, connect_by)
            return []
        out: Out = []
        c = self.setup.vehicles[vehicle_id]
        change = step(INSTANT, st.never, self.level, connect_by)
        if change:
            st.connect_by = 0
            warn(change, connect_by, RuleId.VEHICLE_NEVER_CONNECTED, "offline", c,
                 f"{c.who} 未接入（{duration(connect_by - since)}内未收到任何数据）", drill, out)
        return out
