"""Night ban (凌晨2时至5时禁行 for the classes that have it): moving inside the window."""

from __future__ import annotations

from hazardwatch.contracts.rules import Level, RuleId
from hazardwatch.streams.rules.episode import Policy
from hazardwatch.streams.vehicles.classes import CompiledVehicle, minute_table
from hazardwatch.streams.vehicles.kinds.base import (
    Fix,
    Out,
    Setup,
    VehicleRule,
    Wake,
    episode,
    warn,
)
from hazardwatch.streams.vehicles.state import VehicleState


class NightBan(VehicleRule):
    """Raised once it has moved in the window for persist_s; cleared a minute after."""

    name = "night_ban"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        nb = setup.rules.driving.night_ban
        self.ban, self.window = minute_table(nb.window), nb.window
        self.policy, self.level = Policy(nb.persist_s, 60, None), Level(nb.level)

    def applies(self, c: CompiledVehicle) -> bool:
        """The classes banned at night."""
        return c.rules.night_ban

    def on_position(self, st: VehicleState, c: CompiledVehicle, fix: Fix, out: Out) -> None:
        """Moving (or not) at the fix's local minute."""
        self._rule(st, c, fix.moving, fix.minute, fix.ts, out)

    def _rule(self, st: VehicleState, c: CompiledVehicle, moving: bool, minute: int, now: int,
              out: Out) -> None:
        banned = bool(moving and c.rules.night_ban and self.ban[minute])
        ep = st.night_ban
        if not (banned or ep.active or ep.pending_since is not None):
            return
        episode(ep, self.policy, self.level if banned else None, now, lambda ch, t: warn(
            ch, t, RuleId.VEHICLE_NIGHT_BAN, "driving", c,
            f"{c.who} 凌晨{self.window[0]}至{self.window[1]}仍在行驶"
            f"（当地时间{self.clock.hhmm(t)}）", st.drill, out))

    def every_tick(self, st: VehicleState) -> bool:
        """Open or pending: the window and the persistence follow the clock."""
        return st.night_ban.active or st.night_ban.pending_since is not None

    def on_wake(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Moving unless stopped or offline, at the tick's local minute."""
        if w.driving:
            self._rule(st, c, st.stop_since is None and not st.offline.active,
                       self.clock.minute_of_day(w.now), w.now, out)
