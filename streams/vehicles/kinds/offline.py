"""Offline: no position (or a last will) for the vehicle's timeout; back online."""

from __future__ import annotations

from hazardwatch.contracts.records import PositionRecord, StatusRecord
from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.episode import step
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import (
    INSTANT,
    Fix,
    Out,
    Setup,
    VehicleRule,
    Wake,
    warn,
)
from hazardwatch.streams.vehicles.kinds.displacement import Displacement
from hazardwatch.streams.vehicles.messages import duration
from hazardwatch.streams.vehicles.state import VehicleState


class Offline(VehicleRule):
    """Raised by a tick after the timeout (not before the caller's grace); cleared by a fix
    or an online status that is not a blind-area upload; a hazmat vehicle that moved far
    meanwhile also raises 离线位移 (displacement.py)."""

    name = "offline"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        off = setup.rules.offline
        self.status_persist_ms = int(off.status_offline_persist_s * 1000)
        self.level, self.hazmat_level = Level(off.level), Level(off.hazmat_level)
        self.displacement = Displacement(setup)

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """A fix while offline (or after a last will)."""
        if st.status_offline_at is not None or st.offline.active:
            self.back(st, c, fix.ts, fix.p, out, fix.now)

    def on_status(self, st: VehicleState, c: CompiledVehicle, rec: StatusRecord,
                  now: int | None, out: Out) -> None:
        """A last will starts the (shorter) status timeout; online is back."""
        if rec.status == "offline":
            st.status_offline_at = rec.ts
        else:
            self.back(st, c, rec.ts, None, out, now)

    def back(self, st: VehicleState, c: CompiledVehicle, ts: int, p: PositionRecord | None,
             out: Out, now: int | None) -> None:
        """Back online at ts. now: the latest tick run (None: not known). A fix older than the
        offline timeout before it is a blind-area upload (盲区补传, JT/T 808 0x0704): it does
        not end the offline warning, or the next tick would raise it again (flapping)."""
        st.status_offline_at = None
        if not st.offline.active or (now is not None and ts + c.offline_ms < now):
            return  # (a blind-area upload: still offline by event time; its track is known)
        if p is not None and st.lat is not None and st.lon is not None and c.hazmat:
            self.displacement.on_back(st, c, p, ts, out)
        # (after a blind-area upload the last fix is recent: the warning's own time counts)
        silent = max(ts - st.last_ts if st.last_ts else 0, ts - st.offline.started_at) / 1000
        change = step(INSTANT, st.offline, None, ts)
        if change:
            warn(change, ts, RuleId.VEHICLE_OFFLINE, "offline", c,
                 f"{c.who} 已恢复在线（离线{duration(silent * 1000)}）", st.drill, out)

    def _due(self, st: VehicleState, c: CompiledVehicle) -> int:
        """After this time without a position (or since a last will) the vehicle is offline."""
        if st.status_offline_at is not None:
            return st.status_offline_at + self.status_persist_ms
        return st.last_ts + c.offline_ms

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """Just after the timeout (once anything was heard, while online)."""
        if st.last_ts and not st.offline.active:
            return self._due(st, c) + 1
        return None

    def on_wake(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Offline at the timeout, not before the grace (offline_not_before)."""
        if not st.last_ts or st.offline.active:
            return
        due = self._due(st, c)
        at = due if due >= w.offline_not_before else w.offline_not_before
        if due < w.now and at <= w.now:
            change = step(INSTANT, st.offline, self.hazmat_level if c.hazmat else self.level, at)
            if change:
                warn(change, at, RuleId.VEHICLE_OFFLINE, "offline", c,
                     f"{c.who} 离线（{duration(at - st.last_ts)}无定位数据）", st.drill, out)
