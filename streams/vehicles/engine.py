"""The vehicle engine: (catalog, vehicle rules, prior vehicle state, record, event time) → warnings.

Pure like streams/rules/engine.py: no broker, no clock, no randomness. `on_record` evaluates a
position, video-AI event or status at its event time; `on_tick` fires timers (offline, rests,
dwell, clear delays) at `now`. Closed days' figures are left in `state.closed` for the caller.
"""

from __future__ import annotations

from collections.abc import Callable

from hazardwatch.clock import DAY_MS, LocalClock
from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.records import (
    InputRecord,
    PositionRecord,
    StatusRecord,
    VideoEventRecord,
)
from hazardwatch.contracts.rules import RuleId
from hazardwatch.contracts.warnings import COLOURS, EvidenceRecord, WarningRecord, warning_id
from hazardwatch.kpis.vehicles import stretch_complete
from hazardwatch.streams.rules.episode import Change, Episode, Policy, next_due, settled, step, tick
from hazardwatch.streams.rules.messages import transition_suffix
from hazardwatch.streams.vehicles import geo
from hazardwatch.streams.vehicles.bands import speed_level
from hazardwatch.streams.vehicles.classes import CompiledVehicle, compile_vehicles, minute_table
from hazardwatch.streams.vehicles.config import Route, VehicleRules, Zone
from hazardwatch.streams.vehicles.messages import FAMILY_ZH, duration
from hazardwatch.streams.vehicles.state import DayFigures, VehicleState, VideoState, ZoneState

BUCKET_MS = 300_000  # driving time is kept in 5-minute buckets for the 24-hour window
DAY_WINDOW_MS = DAY_MS  # the driving-time window: 24 h
Emit = Callable[[Change, int], None]


class VehicleEngine:
    """Evaluates the 两客一危 rules for the catalog's vehicles."""

    def __init__(self, catalog: Catalog, rules: VehicleRules) -> None:
        self.catalog, self.rules = catalog, rules
        self.clock = LocalClock(rules.timezone)
        sp, dr = rules.speed, rules.driving
        self.speed_policy = Policy(sp.persist_s, sp.clear_delay_s, None)
        self.instant = Policy(0, 0, None)
        self.clock_policy = Policy(0, 600, None)
        self.ban_policy = Policy(dr.night_ban.persist_s, 60, None)
        self.video_policy = Policy(0, rules.video.clear_delay_s, None)
        self.moment = Policy(0, 300, None)
        self.compiled = compile_vehicles(catalog, rules)
        self.night, self.ban = minute_table(sp.night), minute_table(dr.night_ban.window)
        self.rest_ms, self.pre_ms = int(dr.rest_min_s * 1000), int(dr.prewarn_s * 1000)
        self.gap_ms = int(dr.gap_s * 1000)
        self.gap_m = dr.gap_km * 1000
        self.moving_kmh, self.drift_kmh = rules.moving_kmh, rules.drift.max_kmh
        self.night_factor = sp.night_factor
        self.over_level, self.prewarn_level = dr.over_level, dr.prewarn_level
        self.fixed_offset_ms = self.clock.fixed_offset_ms  # no daylight saving: local = ts + this
        self.cont_day_ms, self.cont_night_ms = (int(dr.continuous_s * 1000),
                                                int(dr.continuous_night_s * 1000))
        self.daily_ms = int(dr.daily_s * 1000)
        self.daily_window_warn_ms = self.daily_ms - self.pre_ms  # (wake_at: every tick beyond)
        self.status_persist_ms = int(rules.offline.status_offline_persist_s * 1000)
        self.zone_by_id = {z.id: z for z in rules.zones}
        self.route_policies = {r.id: Policy(r.persist_s, 30, None) for r in rules.routes}

    # -- input ------------------------------------------------------------------------------

    def on_record(self, st: VehicleState, rec: InputRecord,
                  now: int | None = None) -> list[WarningRecord]:
        """Evaluate one position, video-AI event or status of a vehicle at its event time.

        now: the latest tick the caller has run (None: not known). A fix older than the
        offline timeout before it is a blind-area upload (盲区补传, JT/T 808 0x0704): it does
        not end the offline warning, or the next tick would raise it again (flapping).
        """
        out: list[WarningRecord] = []
        if st.never.active or st.connect_by:  # the first record of a vehicle (未接入)
            self._connected(st, rec, out)
        if rec.clock_fast_ms is not None or st.clock.active:
            self._clock(st, rec, out)
        if isinstance(rec, PositionRecord):
            c = self.compiled[rec.vehicle_id]
            self._position(st, c, rec, out, now)
            st.wake_at = self.wake_at(st, c, rec.ts)
            return out
        elif isinstance(rec, VideoEventRecord) and rec.vehicle_id is not None:
            self._video(st, self.compiled[rec.vehicle_id], rec, out)
        elif isinstance(rec, StatusRecord) and rec.vehicle_id is not None:
            c = self.compiled[rec.vehicle_id]
            st.drill = rec.drill
            if rec.status == "offline":
                st.status_offline_at = rec.ts
            else:
                self._back(st, c, rec.ts, None, out, now)
        if (vehicle_id := getattr(rec, "vehicle_id", None)) is not None:
            st.wake_at = self.wake_at(st, self.compiled[vehicle_id], rec.ts)
        return out

    def _position(self, st: VehicleState, c: CompiledVehicle, p: PositionRecord,
                  out: list[WarningRecord], now: int | None) -> None:
        """One fix: day figures, back online, the interval since the last good fix (drift,
        mileage, driving time), stops, driving-time rules, speed, places, terminal alarms."""
        ts, last = p.ts, st.last_ts
        if ts <= last:
            return  # a late or repeated fix changes nothing (JT/T 808 0x0704 batches re-send)
        st.drill = p.drill
        if ts >= st.day_ends_at:
            self._rollover(st, ts)
        if last:
            self._gap(st, c, ts - last)
        st.day.positions += 1
        if st.status_offline_at is not None or st.offline.active:
            self._back(st, c, ts, p, out, now)
        off = self.fixed_offset_ms
        local = ts + off if off is not None else self.clock.local_ms(ts)
        minute = local % DAY_MS // 60_000
        if st.lat is not None and st.lon is not None and self._interval(st, c, p, local, out):
            return  # an impossible jump (drift)
        moving = p.speed_kmh >= self.moving_kmh
        if moving:
            if st.stop_since is not None:
                self._drives_on(st, ts)
        elif st.stop_since is None:
            st.stop_since = ts
        self._driving_rules(st, c, ts, minute, moving, out)
        self._speed_check(st, c, p, minute, out)
        self._places(st, c, p, out)
        st.lat, st.lon, st.fix_ts, st.last_ts = p.lat, p.lon, ts, ts
        if p.alarm_flags or st.bits:
            self._bits(st, c, p.alarm_flags, ts, out)

    def _drives_on(self, st: VehicleState, ts: int) -> None:
        """Moving again after a stop: an effective rest (≥ 20 min) resets continuous driving."""
        assert st.stop_since is not None
        if ts - st.stop_since >= self.rest_ms:
            st.cont_ms = 0
        st.stop_since = None

    def _gap(self, st: VehicleState, c: CompiledVehicle, gap: int) -> None:
        """Day figures of the time since the last fix: a GNSS gap, or time online."""
        if gap > self.gap_ms:
            st.day.gaps += 1
        if gap <= c.offline_ms:
            st.day.online_ms += gap

    def _interval(self, st: VehicleState, c: CompiledVehicle, p: PositionRecord, local: int,
                  out: list[WarningRecord]) -> bool:
        """The interval since the last good fix: drift (True: this fix is one, done), mileage,
        driving time."""
        assert st.lat is not None and st.lon is not None
        ts, prev, day = p.ts, st.fix_ts, st.day
        dt = ts - prev
        dist = geo.short_distance_m(st.lat, st.lon, p.lat, p.lon)
        kmh = dist * 3600 / dt
        if kmh > self.drift_kmh and st.drift_run < 2:
            day.drift += 1  # an impossible jump: not used for speed, distance or zones
            st.drift_run += 1
            st.last_ts = ts
            self._bits(st, c, p.alarm_flags, ts, out)
            return True
        st.drift_run = 0  # (after 3 jumps that agree, the old fix was the wrong one)
        if stretch_complete(dt, dist, self.gap_ms, self.gap_m):
            day.complete_m += dist
        else:
            day.incomplete_m += dist
        # after a GNSS gap it drove only if it got somewhere; otherwise sample and hold:
        # the interval takes the state of its first fix
        if kmh >= self.moving_kmh if dt > self.gap_ms else st.stop_since is None:
            self._drove(st, c, prev, dt, local, ts)
        elif st.stop_since is None:
            st.stop_since = prev
        return False

    def _drove(self, st: VehicleState, c: CompiledVehicle, prev: int, dt: int, local: int,
               ts: int) -> None:
        """It drove from prev for dt: continuous driving, fatigue time, the 24-hour window."""
        if st.stop_since is not None:  # it drove on from a stop
            if prev - st.stop_since >= self.rest_ms:
                st.cont_ms = 0
            st.stop_since = None
        off = self.fixed_offset_ms
        night_then = c.rules.night_driving and self.night[
            (local - dt) % DAY_MS // 60_000 if off is not None
            else self.clock.minute_of_day(prev)]
        limit = self.cont_night_ms if night_then else self.cont_day_ms
        cont = st.cont_ms + dt
        if cont > limit:  # 疲劳驾驶时长: the time driven beyond the limit
            st.day.fatigue_ms += cont - (limit if limit > st.cont_ms else st.cont_ms)
        st.cont_ms = cont
        st.window_ms += dt
        b = prev // BUCKET_MS
        if b == st.bucket_at:
            st.bucket_ms += dt
        else:  # a new 5-minute bucket: the oldest may have left the 24-hour window
            self._open_bucket(st, b, dt)
            self._prune(st, ts)

    def _speed_check(self, st: VehicleState, c: CompiledVehicle, p: PositionRecord,
                     minute: int, out: list[WarningRecord]) -> None:
        """The limit where and when the fix is (class, speed zones, night); overspeed."""
        lat, lon, speed = p.lat, p.lon, p.speed_kmh
        limit_kmh, zone = c.rules.limit_kmh, None
        for a, z_limit in c.rules.speed_zones:
            if (a.south <= lat <= a.north and a.west <= lon <= a.east
                    and a.signed_m(lat, lon) > 0):
                limit_kmh, zone = z_limit, a.zone.name
        night = self.night[minute]
        if night:
            limit_kmh *= self.night_factor
        if speed > limit_kmh or st.speed.active or st.speed.pending_since is not None:
            self._speed(st, c, speed, limit_kmh, (zone or "普通道路") + ("夜间" if night else ""),
                        p.ts, out)

    def _places(self, st: VehicleState, c: CompiledVehicle, p: PositionRecord,
                out: list[WarningRecord]) -> None:
        """Restricted zones (far from every one: nothing to do) and route corridors."""
        box, lat, lon = c.rules.restricted_box, p.lat, p.lon
        if box and (st.zones or (box[0] <= lat <= box[1] and box[2] <= lon <= box[3])):
            self._zones(st, c, p, p.ts, out)
        for r in c.routes:
            self._route(st, c, r, p, p.ts, out)

    # -- speed ------------------------------------------------------------------------------

    def _speed(self, st: VehicleState, c: CompiledVehicle, speed: float, limit: float, where: str,
               ts: int, out: list[WarningRecord]) -> None:
        ep, sp = st.speed, self.rules.speed
        want = speed_level((speed - limit) * 100 / limit, sp.bands,
                           ep.base_level if ep.active else None, sp.hysteresis_pct)
        if ep.active and want is not None and want != ep.base_level:  # another level …
            severer = want < ep.base_level  # (it must hold like a raise: persist_s)
            since = (st.higher_since if severer else st.lower_since) or ts
            st.higher_since, st.lower_since = (since, None) if severer else (None, since)
            if ts - since < (sp.persist_s if severer else sp.downgrade_delay_s) * 1000:
                want = ep.base_level  # … is taken only once it has held, seen by a later fix
        else:
            st.lower_since = st.higher_since = None
        st.speed_kmh, st.limit_kmh, st.limit_where = speed, limit, where  # for the texts
        if not settled(ep, want):  # (an open overspeed at its level: most calls)
            change = step(self.speed_policy, ep, want, ts)
            if change:
                self._speed_warn(st, c, change, ts, out)

    def _speed_warn(self, st: VehicleState, c: CompiledVehicle, change: Change, ts: int,
                    out: list[WarningRecord]) -> None:
        if change.transition == "raised":
            st.day.overspeed += 1  # (also when raised by a timer after the persistence)
        speed, limit = st.speed_kmh, st.limit_kmh
        over = (speed - limit) * 100 / limit
        text = (f"{c.who} 车速 {speed:.0f}km/h，{st.limit_where}限速 {limit:.0f}km/h"
                + (f"，超速 {over:.0f}%" if over > 0 else ""))
        self._warn(change, ts, RuleId.VEHICLE_OVERSPEED, "overspeed", c, text, st.drill, out,
                   speed, limit, "km/h")

    # -- driving time -----------------------------------------------------------------------

    @staticmethod
    def _open_bucket(st: VehicleState, b: int, ms: int) -> None:
        """Close the open bucket (in st.buckets) and open bucket b with ms of driving."""
        if st.bucket_ms:
            st.buckets[st.bucket_at] = st.buckets.get(st.bucket_at, 0) + st.bucket_ms
        st.bucket_at, st.bucket_ms = b, ms

    @staticmethod
    def _prune(st: VehicleState, now: int) -> None:
        """Drop the buckets that have left the 24-hour window."""
        cutoff = (now - DAY_WINDOW_MS) // BUCKET_MS
        while st.buckets and (b := next(iter(st.buckets))) < cutoff:
            st.window_ms -= st.buckets.pop(b)
        if st.bucket_at < cutoff:  # (after a gap of a day; the next interval opens it again)
            st.window_ms -= st.bucket_ms
            st.bucket_at, st.bucket_ms = -1, 0

    def _driving_rules(self, st: VehicleState, c: CompiledVehicle, now: int, minute: int,
                       moving: bool, out: list[WarningRecord]) -> None:
        cr = c.rules
        if st.stop_since is not None and now - st.stop_since >= self.rest_ms:
            st.cont_ms = 0
        limit = self.cont_night_ms if cr.night_driving and self.night[minute] else self.cont_day_ms
        cont = st.cont_ms
        want = (self.over_level if cont > limit
                else self.prewarn_level if cont > limit - self.pre_ms else None)
        if not settled(st.cont, want):
            self._continuous(st, c, limit, want, now, out)
        if st.window_ms > self.daily_ms - self.pre_ms or st.daily.active:
            self._daily(st, c, now, out)  # (a prune only lowers the window)
        banned = bool(moving and cr.night_ban and self.ban[minute])
        if banned or st.night_ban.active or st.night_ban.pending_since is not None:
            self._night_ban(st, c, banned, now, out)

    def _continuous(self, st: VehicleState, c: CompiledVehicle, limit: int, want: int | None,
                    now: int, out: list[WarningRecord]) -> None:
        night = "夜间" if limit < self.cont_day_ms else ""
        self._episode(st.cont, self.instant, want, now, lambda ch, t: self._warn(
            ch, t, RuleId.VEHICLE_DRIVING_CONTINUOUS, "driving", c,
            f"{c.who} 连续驾驶 {duration(st.cont_ms)}，"
            + (f"{'超过' if want == self.over_level else '接近'}{night}连续驾驶限值 "
               f"{duration(limit)}" if want is not None else "已休息满20分钟"),
            st.drill, out, st.cont_ms / 3_600_000, limit / 3_600_000, "h"))

    def _night_ban(self, st: VehicleState, c: CompiledVehicle, banned: bool, now: int,
                   out: list[WarningRecord]) -> None:
        nb = self.rules.driving.night_ban
        self._episode(st.night_ban, self.ban_policy, nb.level if banned else None, now,
                      lambda ch, t: self._warn(
                          ch, t, RuleId.VEHICLE_NIGHT_BAN, "driving", c,
                          f"{c.who} 凌晨{nb.window[0]}至{nb.window[1]}仍在行驶"
                          f"（当地时间{self.clock.hhmm(t)}）", st.drill, out))

    def _daily(self, st: VehicleState, c: CompiledVehicle, now: int,
               out: list[WarningRecord]) -> None:
        dr = self.rules.driving
        self._prune(st, now)
        total = st.window_ms
        want = (dr.daily_level if total > self.daily_ms
                else dr.prewarn_level if total > self.daily_ms - self.pre_ms else None)
        if want is not None or st.daily.active:
            self._episode(st.daily, self.instant, want, now, lambda ch, t: self._warn(
                ch, t, RuleId.VEHICLE_DRIVING_DAILY, "driving", c,
                f"{c.who} 24小时内累计驾驶 {duration(total)}"
                + (f"，{'超过' if want == dr.daily_level else '接近'}限值 "
                   f"{duration(self.daily_ms)}" if want is not None else ""), st.drill, out,
                total / 3_600_000, self.daily_ms / 3_600_000, "h"))

    # -- geofences --------------------------------------------------------------------------

    def _zones(self, st: VehicleState, c: CompiledVehicle, p: PositionRecord, ts: int,
               out: list[WarningRecord]) -> None:
        for a in c.rules.restricted:
            z = a.zone
            if z.id not in st.zones and not a.near(p.lat, p.lon):
                continue
            zs = self._crossing(st, z.id, a.signed_m(p.lat, p.lon), ts)
            if zs is not None:
                self._zone_step(st, c, z, zs, ts, out)
                self._forget_idle(st, z.id)

    def _crossing(self, st: VehicleState, key: str, beyond_m: float,
                  ts: int) -> ZoneState | None:
        """Hysteresis at a border: 'inside' switches only once beyond it by the margin, so
        GNSS jitter cannot make enter/leave spam. None: far from it and nothing to remember."""
        margin = self.rules.geofence_margin_m
        zs = st.zones.get(key)
        if zs is None:
            if beyond_m < margin:
                return None
            zs = st.zones[key] = ZoneState()
        if not zs.inside and beyond_m >= margin:
            zs.inside, zs.since = True, ts
        elif zs.inside and beyond_m <= -margin:
            zs.inside = False
        return zs

    @staticmethod
    def _forget_idle(st: VehicleState, key: str) -> None:
        zs = st.zones[key]
        if not zs.inside and not zs.ep.active and zs.ep.pending_since is None:
            del st.zones[key]

    def _zone_step(self, st: VehicleState, c: CompiledVehicle, z: Zone, zs: ZoneState, now: int,
                   out: list[WarningRecord]) -> None:
        want = None
        if zs.inside:
            dwelling = z.dwell_s is not None and now - zs.since >= z.dwell_s * 1000
            want = max(1, z.level - 1) if dwelling else z.level
        self._episode(zs.ep, self.instant, want, now, lambda ch, t: self._warn(
            ch, t, rule_ids.vehicle_zone(z.id), "geofence", c,
            f"{c.who} " + (f"已驶离{z.name}" if want is None else
                                  f"在{z.name}内停留超过{duration((z.dwell_s or 0) * 1000)}"
                                  if want < z.level else f"驶入{z.name}"), st.drill, out))

    def _route(self, st: VehicleState, c: CompiledVehicle, r: Route, p: PositionRecord, ts: int,
               out: list[WarningRecord]) -> None:
        off_m = geo.polyline_distance_m(p.lat, p.lon, r.line) - r.width_m
        key = f"route:{r.id}"
        zs = self._crossing(st, key, off_m, ts)  # 'inside' here: off the corridor
        if zs is None:
            return
        self._episode(zs.ep, self.route_policies[r.id], r.level if zs.inside else None, ts,
                      lambda ch, t: self._warn(
                          ch, t, rule_ids.vehicle_route(r.id), "geofence", c,
                          f"{c.who} " + (f"偏离核定线路「{r.name}」{off_m + r.width_m:.0f}米"
                                                if zs.inside else f"已回到核定线路「{r.name}」"),
                          st.drill, out, off_m + r.width_m, r.width_m, "m"))
        self._forget_idle(st, key)

    # -- JT/T 808 alarm bits ----------------------------------------------------------------

    def _bits(self, st: VehicleState, c: CompiledVehicle, flags: int, ts: int,
              out: list[WarningRecord]) -> None:
        if not flags and not st.bits:
            return
        for bit, cfg in self.rules.jt808_bits.items():
            on = flags >> bit & 1
            ep = st.bits.get(bit)
            if not on and ep is None:
                continue
            if ep is None:
                ep = st.bits[bit] = Episode()
            hazmat = c.hazmat and cfg.hazmat_level
            level = cfg.hazmat_level if hazmat else cfg.level
            text = f"{c.who} 终端报警" + (f"：{cfg.name}" if on else f"「{cfg.name}」")
            change = step(self.instant, ep, level if on else None, ts)
            if change:
                self._warn(change, ts, rule_ids.vehicle_jt808(bit), "terminal_alarm", c, text,
                           st.drill, out, float(bit))
            if not ep.active:
                del st.bits[bit]

    # -- video AI ---------------------------------------------------------------------------

    def _video(self, st: VehicleState, c: CompiledVehicle, e: VideoEventRecord,
               out: list[WarningRecord]) -> None:
        vc = self.rules.video
        t = vc.types.get(e.family, {}).get(e.type)
        key = f"{e.family}.{e.type}"
        vs = st.video.get(key)
        if vs is None:
            vs = st.video[key] = VideoState()
        st.drill = e.drill
        vs.recent = [x for x in vs.recent if e.ts - x <= vc.repeat_window_s * 1000] + [e.ts]
        level = t.level if t else vc.default_level
        fast = (e.terminal_level == 2 if e.terminal_level is not None
                else (e.speed_kmh or 0) >= vc.fast_kmh)
        level -= int(fast) + int(len(vs.recent) >= vc.repeat_count)
        level = max(1, min(level, vs.ep.level if vs.ep.active else level))
        vs.evidence = [(m.kind, m.uri) for m in e.media] or vs.evidence
        change = step(self.video_policy, vs.ep, level, e.ts)
        vs.ep.normal_since = e.ts  # a moment: cleared after the delay unless it repeats
        if change:
            speed = f"，车速{e.speed_kmh:.0f}km/h" if e.speed_kmh is not None else ""
            times = (f"，{vc.repeat_window_s / 60:.0f}分钟内第{len(vs.recent)}次"
                     if len(vs.recent) > 1 else "")
            self._warn(change, e.ts, rule_ids.vehicle_video(key), "video", c,
                       f"{c.who} {self._video_name(key)}{speed}{times}", st.drill, out,
                       e.speed_kmh, None, "km/h", tuple(vs.evidence))

    # -- offline ----------------------------------------------------------------------------

    def _back(self, st: VehicleState, c: CompiledVehicle, ts: int, p: PositionRecord | None,
              out: list[WarningRecord], now: int | None) -> None:
        st.status_offline_at = None
        if not st.offline.active or (now is not None and ts + c.offline_ms < now):
            return  # (a blind-area upload: still offline by event time; its track is known)
        off = self.rules.offline
        if p is not None and st.lat is not None and st.lon is not None and c.hazmat:
            moved = geo.distance_m(st.lat, st.lon, p.lat, p.lon)
            if moved >= off.displacement_m:
                st.moved_m = moved
                change = step(self.moment, st.moved, off.displacement_level, ts)
                st.moved.normal_since = ts
                if change:
                    self._warn(change, ts, RuleId.VEHICLE_OFFLINE_DISPLACEMENT, "offline", c,
                               f"{c.who} 离线位移：离线期间移动 {moved / 1000:.1f}公里",
                               st.drill, out, moved, off.displacement_m, "m")
        # (after a blind-area upload the last fix is recent: the warning's own time counts)
        silent = max(ts - st.last_ts if st.last_ts else 0, ts - st.offline.started_at) / 1000
        change = step(self.instant, st.offline, None, ts)
        if change:
            self._warn(change, ts, RuleId.VEHICLE_OFFLINE, "offline", c,
                       f"{c.who} 已恢复在线（离线{duration(silent * 1000)}）", st.drill, out)

    # -- timers -----------------------------------------------------------------------------

    def never_connected(self, st: VehicleState, vehicle_id: str, since: int, now: int,
                        drill: bool = False) -> list[WarningRecord]:
        """未接入: a catalogued vehicle that has sent nothing since `since` (the worker's first
        tick, the replay's first line) for offline.never_connected_s is reported once."""
        off = self.rules.offline
        connect_by = since + int(off.never_connected_s * 1000)
        if st.last_ts or st.status_offline_at is not None or st.never.active or st.video:
            return []
        if now < connect_by:
            st.connect_by = connect_by  # (wake_at: the tick that must look again)
            st.wake_at = min(st.wake_at, connect_by)
            return []
        out: list[WarningRecord] = []
        c = self.compiled[vehicle_id]
        change = step(self.instant, st.never, off.never_connected_level, connect_by)
        if change:
            st.connect_by = 0
            self._warn(change, connect_by, RuleId.VEHICLE_NEVER_CONNECTED, "offline", c,
                       f"{c.who} 未接入（{duration(connect_by - since)}内未收到任何数据）",
                       drill, out)
        return out

    def _clock(self, st: VehicleState, rec: InputRecord, out: list[WarningRecord]) -> None:
        """A terminal clock ahead beyond its tolerance: one fault per episode, with the offset;
        cleared after 10 min of records on time (the data were kept at the receive time)."""
        fast = rec.clock_fast_ms
        if fast is not None:
            st.clock_fast_ms = fast
        level = self.rules.offline.clock_fast_level if fast is not None else None
        change = step(self.clock_policy, st.clock, level, rec.ts)
        if change:
            c = self.compiled[str(getattr(rec, "vehicle_id", ""))]
            text = (f"{c.who} 终端时钟已恢复正常" if change.transition == "cleared" else
                    f"{c.who} 终端时钟超前{st.clock_fast_ms / 1000:.0f}秒（超出允许偏差），"
                    "数据按接收时间保存")
            self._warn(change, rec.ts, RuleId.VEHICLE_CLOCK_FAST, "fault", c, text, rec.drill, out,
                       st.clock_fast_ms / 1000, None, "s")

    def _connected(self, st: VehicleState, rec: InputRecord, out: list[WarningRecord]) -> None:
        vehicle_id = str(getattr(rec, "vehicle_id", ""))
        st.connect_by = 0
        change = step(self.instant, st.never, None, rec.ts)
        if change:
            c = self.compiled[vehicle_id]
            self._warn(change, rec.ts, RuleId.VEHICLE_NEVER_CONNECTED, "offline", c,
                       f"{c.who} 已接入", rec.drill, out)

    def on_tick(self, st: VehicleState, vehicle_id: str, now: int,
                offline_not_before: int = 0) -> list[WarningRecord]:
        """Fire every timer of a vehicle due at or before `now`."""
        if now < st.wake_at:
            return []  # nothing can be due (see wake_at): most vehicles on most ticks
        c = self.compiled[vehicle_id]
        out: list[WarningRecord] = []
        if now >= st.day_ends_at:
            self._rollover(st, now)
        if st.last_ts and not st.offline.active:
            self._offline_timer(st, c, now, offline_not_before, out)
        self._driving_timers(st, c, now, out)
        self._moment_timers(st, c, now, out)
        st.wake_at = self.wake_at(st, c, now)
        return out

    def _offline_timer(self, st: VehicleState, c: CompiledVehicle, now: int,
                       offline_not_before: int, out: list[WarningRecord]) -> None:
        """No position (or a last will) for the timeout: offline, not before the grace."""
        off = self.rules.offline
        due = self._offline_due(st, c)
        at = due if due >= offline_not_before else offline_not_before
        if due < now and at <= now:
            level = off.hazmat_level if c.hazmat else off.level
            change = step(self.instant, st.offline, level, at)
            if change:
                self._warn(change, at, RuleId.VEHICLE_OFFLINE, "offline", c,
                           f"{c.who} 离线（{duration(at - st.last_ts)}无定位数据）",
                           st.drill, out)

    def _driving_timers(self, st: VehicleState, c: CompiledVehicle, now: int,
                        out: list[WarningRecord]) -> None:
        """A rest completed, the night limit, the 24-hour window, the night ban; zone dwell."""
        if st.last_ts and ((st.stop_since is not None and st.cont_ms) or st.daily.active
                           or st.night_ban.active or st.night_ban.pending_since is not None):
            # (while it moves, continuous driving changes with its fixes: no timer)
            self._driving_rules(st, c, now,
                                self.clock.minute_of_day(now),
                                st.stop_since is None and not st.offline.active, out)
        if st.zones:
            for key, zs in list(st.zones.items()):
                z = self.zone_by_id.get(key)
                if z is not None and zs.inside:
                    self._zone_step(st, c, z, zs, now, out)

    def _moment_timers(self, st: VehicleState, c: CompiledVehicle, now: int,
                       out: list[WarningRecord]) -> None:
        """Clear delays: overspeed, video-AI types, offline displacement."""
        if st.speed.active:  # the clear delay; a raise needs a fix that confirms it
            self._timers(st.speed, self.speed_policy, now,
                         lambda ch, t: self._speed_warn(st, c, ch, t, out))
        if st.video:
            for key in list(st.video):
                self._video_timer(st, c, key, now, out)
        if st.moved.active:
            self._timers(st.moved, self.moment, now, lambda ch, t: self._warn(
                ch, t, RuleId.VEHICLE_OFFLINE_DISPLACEMENT, "offline", c,
                f"{c.who} 离线位移 {st.moved_m / 1000:.1f}公里", st.drill, out,
                st.moved_m, self.rules.offline.displacement_m, "m"))

    def wake_at(self, st: VehicleState, c: CompiledVehicle, now: int) -> int:
        """The earliest tick time at which on_tick can change anything (timers as data): a
        day's end, the offline timeout, a rest completed, a clear delay; every tick while a
        24-hour, night-ban or zone episode is open (rare). Never later than the first due
        timer; an earlier time only costs one on_tick that finds nothing due."""
        at = st.day_ends_at
        if st.last_ts and not st.offline.active:
            due = (st.status_offline_at + self.status_persist_ms
                   if st.status_offline_at is not None else st.last_ts + c.offline_ms) + 1
            if due < at:
                at = due
        if st.connect_by and st.connect_by < at:  # 未接入 due (never_connected)
            at = st.connect_by
        if self._every_tick(st):
            return min(at, now + 1)
        if st.stop_since is not None and st.cont_ms:  # a rest ends; the night limit begins
            at = min(at, st.stop_since + self.rest_ms, (now // 60_000 + 1) * 60_000)
        if st.speed.active or st.moved.active or st.video:
            at = self._wake_episodes(st, now, at)
        return at

    def _every_tick(self, st: VehicleState) -> bool:
        """Whether a 24-hour, night-ban or zone episode may change on any tick (rare)."""
        return bool(st.daily.active or st.night_ban.active
                    or st.night_ban.pending_since is not None
                    or st.window_ms > self.daily_window_warn_ms
                    or (st.zones and any(zs.inside for zs in st.zones.values())))

    def _wake_episodes(self, st: VehicleState, now: int, at: int) -> int:
        """Clear delays of overspeed and offline displacement; video-AI types."""
        for ep, policy in ((st.speed, self.speed_policy), (st.moved, self.moment)):
            if ep.active and (ep_due := next_due(policy, ep)) is not None:
                at = min(at, ep_due)
        window = int(self.rules.video.repeat_window_s * 1000)
        for vs in st.video.values():  # a clear delay; an idle type is forgotten later
            due = (next_due(self.video_policy, vs.ep) if vs.ep.active
                   else max(vs.recent, default=now) + window + 1)
            if due is not None:
                at = min(at, due)
        return at

    def _offline_due(self, st: VehicleState, c: CompiledVehicle) -> int:
        """After this time without a position (or since a last will) the vehicle is offline."""
        if st.status_offline_at is not None:
            return st.status_offline_at + int(self.rules.offline.status_offline_persist_s * 1000)
        return st.last_ts + c.offline_ms

    def _video_timer(self, st: VehicleState, c: CompiledVehicle, key: str, now: int,
                     out: list[WarningRecord]) -> None:
        vs = st.video[key]
        self._timers(vs.ep, self.video_policy, now, lambda ch, t: self._warn(
            ch, t, rule_ids.vehicle_video(key), "video", c, f"{c.who} {self._video_name(key)}",
            st.drill, out, None, None, None, tuple(vs.evidence)))
        window = self.rules.video.repeat_window_s * 1000
        vs.recent = [x for x in vs.recent if now - x <= window]
        if not vs.ep.active and not vs.recent:
            del st.video[key]

    def _timers(self, ep: Episode, policy: Policy, now: int, emit: Emit) -> None:
        due = next_due(policy, ep)
        if due is not None and due <= now:
            change = tick(policy, ep, None, due)
            if change:
                emit(change, due)

    def _rollover(self, st: VehicleState, ts: int) -> None:
        if ts < st.day_ends_at:
            return
        day = self.clock.day(ts)
        if st.day.day and day > st.day.day:
            st.closed.append(st.day)
            st.day = DayFigures()
        st.day.day = day
        st.day_ends_at = self.clock.day_end(ts)

    # -- records ----------------------------------------------------------------------------

    @staticmethod
    def _episode(ep: Episode, policy: Policy, want: int | None, now: int, emit: Emit) -> None:
        if settled(ep, want):
            return
        change = step(policy, ep, want, now)
        if change:
            emit(change, now)

    def _video_name(self, key: str) -> str:
        family, typ = key.split(".", 1)
        t = self.rules.video.types.get(family, {}).get(typ)
        return f"{FAMILY_ZH.get(family, family)}报警：{t.name if t else typ}"

    @staticmethod
    def _warn(change: Change, ts: int, rule: str, kind: str, c: CompiledVehicle, text: str,
              drill: bool, out: list[WarningRecord], value: float | None = None,
              threshold: float | None = None, unit: str | None = None,
              evidence: tuple[tuple[str, str], ...] = ()) -> None:
        out.append(WarningRecord(
            warning_id=warning_id(rule, c.subject, change.started_at),
            transition=change.transition, ts=ts, level=change.level,
            colour=COLOURS[change.level], rule=rule, kind=kind, site_id=None, device_id=None,
            sensor=None, vehicle_id=c.id, value=value, threshold=threshold, unit=unit,
            started_at=change.started_at,
            message=text + transition_suffix(change.transition, change.level, change.escalated,
                                             (ts - change.started_at) / 60000),
            evidence=[EvidenceRecord(k, u) for k, u in evidence], drill=drill))

