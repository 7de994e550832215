"""Active safety (ADAS, DSM, BSD video AI and TPMS tyre alarms of 苏标 terminals): one episode
per alarm type."""

from __future__ import annotations

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.records import VideoEventRecord
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules.episode import Policy, next_due, step
from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import Out, Setup, VehicleRule, Wake, timers, warn
from hazardwatch.streams.vehicles.messages import FAMILY_ZH, tyre
from hazardwatch.streams.vehicles.state import VehicleState, VideoState


class VideoAI(VehicleRule):
    """A moment at the type's level, one more severe when fast or repeated within the
    window; cleared after the clear delay unless it repeats; an idle type is forgotten."""

    name = "video_ai"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self.vc = vc = setup.rules.video
        self.policy = Policy(0, vc.clear_delay_s, None)
        self.window_ms = int(vc.repeat_window_s * 1000)

    def on_video(self, st: VehicleState, c: CompiledVehicle, e: VideoEventRecord,
                 out: Out) -> None:
        """One event: its type's episode."""
        vc = self.vc
        t = vc.types.get(e.family, {}).get(e.type)
        key = f"{e.family}.{e.type}"
        vs = st.video.get(key)
        if vs is None:
            vs = st.video[key] = VideoState()
        st.drill = e.drill
        # a repeat is another moment: the tyres of one 0x66 item (one event each, one time)
        # or a terminal's duplicate count once
        vs.recent = [x for x in vs.recent if e.ts - x <= vc.repeat_window_s * 1000 and x != e.ts
                     ] + [e.ts]
        level = t.level if t else vc.default_level
        fast = (e.terminal_level == 2 if e.terminal_level is not None
                else (e.speed_kmh or 0) >= vc.fast_kmh)
        level -= int(fast) + int(len(vs.recent) >= vc.repeat_count)
        level = Level(max(1, min(level, vs.ep.level if vs.ep.active else level)))
        vs.evidence = [(m.kind, m.uri) for m in e.media] or vs.evidence
        change = step(self.policy, vs.ep, level, e.ts)
        vs.ep.normal_since = e.ts  # a moment: cleared after the delay unless it repeats
        if change:
            speed = f"，车速{e.speed_kmh:.0f}km/h" if e.speed_kmh is not None else ""
            times = (f"，{vc.repeat_window_s / 60:.0f}分钟内第{len(vs.recent)}次"
                     if len(vs.recent) > 1 else "")
            warn(change, e.ts, rule_ids.vehicle_video(key), "video", c,
                 f"{c.who} {self._name(key)}{tyre(e.tyre)}{speed}{times}", st.drill, out,
                 e.speed_kmh, None, "km/h", tuple(vs.evidence))

    def _name(self, key: str) -> str:
        family, typ = key.split(".", 1)
        t = self.vc.types.get(family, {}).get(typ)
        return f"{FAMILY_ZH.get(family, family)}报警：{t.name if t else typ}"

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int | None:
        """A clear delay; an idle type is forgotten after the repeat window."""
        at = None
        for vs in st.video.values():
            due = (next_due(self.policy, vs.ep) if vs.ep.active
                   else max(vs.recent, default=now) + self.window_ms + 1)
            if due is not None and (at is None or due < at):
                at = due
        return at

    def on_clear(self, st: VehicleState, c: CompiledVehicle, w: Wake, out: Out) -> None:
        """Clear delays; forget the types with nothing open or recent."""
        for key in list(st.video):
            self._clear(st, c, key, w.now, out)

    def _clear(self, st: VehicleState, c: CompiledVehicle, key: str, now: int,
               out: Out) -> None:
        vs = st.video[key]
        timers(vs.ep, self.policy, now, lambda ch, t: warn(
            ch, t, rule_ids.vehicle_video(key), "video", c, f"{c.who} {self._name(key)}",
            st.drill, out, None, None, None, tuple(vs.evidence)))
        window = self.vc.repeat_window_s * 1000
        vs.recent = [x for x in vs.recent if now - x <= window]
        if not vs.ep.active and not vs.recent:
            del st.video[key]
