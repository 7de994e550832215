"""Plays a scenario: the messages every device and vehicle publishes, step by step.

Pure and seeded: the same scenario, catalog and start time give the same bytes. The drill
runner publishes them over MQTT; unit tests run them through the replay engine instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from hazardwatch.clock import LocalClock, in_window, minutes
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.topics import MQTT_ROOT
from hazardwatch.ingest.acl import device_username, vehicle_username
from hazardwatch.ingest.jt808.active_safety import TPMS_BITS
from hazardwatch.simulators.motion import ROADS, Route, VehicleMotion
from hazardwatch.simulators.scenario import Incident, Scenario
from hazardwatch.simulators.signals import SensorSignal, Signal, normal_band
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.vehicles.config import VehicleRules

MEDIA = "https://media.drill.invalid"  # drill evidence never points at real storage
NIGHT_PARK = ("01:45", "05:15")  # long-distance coaches stop around the 02:00–05:00 ban


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One MQTT message: the account that publishes it, topic, payload, event time."""

    user: str
    topic: str
    payload: bytes
    ts: int


def as_received(msgs: Iterable[Outgoing]) -> Iterator[Outgoing]:
    """The messages as the pipeline receives them: a JT/T 808 blind-area upload (0x0704 补传)
    becomes one position per fix, as the gateway produces them (offline replays)."""
    for m in msgs:
        if not m.topic.endswith("/blind-area"):
            yield m
            continue
        topic = m.topic.removesuffix("/blind-area") + "/position"
        for fix in json.loads(m.payload):
            yield Outgoing(m.user, topic, _body(fix), m.ts)


def start_ms(scenario: Scenario, now_ms: int) -> int:
    """The latest local `start_local` whose whole drill lies before now (event times are past)."""
    tz = ZoneInfo(scenario.timezone)
    h, m = map(int, scenario.start_local.split(":"))
    now = datetime.fromtimestamp(now_ms / 1000, tz)
    start = now.replace(hour=h, minute=m, second=0, microsecond=0)
    while start + timedelta(minutes=scenario.duration_min) > now:
        start -= timedelta(days=1)
    return int(start.timestamp() * 1000)


def run_start(scenario: Scenario, now_ms: int) -> int:
    """A drill run's scenario start: `start_ms` plus the wall clock's second of the minute, so
    that two runs of a scenario on the same day do not share event times, hence warning ids
    (`warning_id` hashes the episode's start); the whole drill still lies before now."""
    return start_ms(scenario, now_ms - 60_000) + now_ms // 1000 % 60 * 1000


def incident_end_min(i: Incident) -> float:
    """When an incident's injection stops (minutes since the drill started)."""
    if i.kind == "ramp":
        return i.at_min + 2 * i.over_min + i.hold_min
    if i.kind == "video":
        return i.at_min + (i.count - 1) * i.every_min
    return i.at_min + (0 if i.kind == "camera" else i.duration_min)


def _active(i: Incident, t_min: float) -> bool:
    return i.at_min <= t_min < incident_end_min(i)


# a drill's TPMS incident: its tyre's readings by alarm type (kPa, °C, battery %)
TPMS_READINGS = {"pressure_high": (1050, 45, 80), "pressure_low": (420, 38, 80),
                 "temperature_high": (900, 95, 80), "slow_leak": (610, 40, 80),
                 "pressure_unbalanced": (700, 40, 80), "sensor_fault": (0, 0, 80),
                 "battery_low": (850, 40, 5)}
CAMERA_HEARTBEAT_S = 60  # a camera without detections says it is online (its offline timer)


def _body(d: dict[str, object]) -> bytes:
    return json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode()


class ScenarioPlayer:
    """Generates the drill's traffic; every payload carries "drill": true."""

    def __init__(self, scenario: Scenario, catalog: Catalog, rules: RulesConfig,
                 vrules: VehicleRules, start: int) -> None:
        self.sc, self.cat, self.vrules, self.start = scenario, catalog, vrules, start
        rng = np.random.default_rng(scenario.seed)
        self.clock = LocalClock(scenario.timezone)
        self.night = (minutes(vrules.speed.night[0]), minutes(vrules.speed.night[1]))
        self.park = (minutes(NIGHT_PARK[0]), minutes(NIGHT_PARK[1]))
        site_ids = scenario.fleet.sites if scenario.fleet.sites is not None else sorted(
            catalog.sites)
        self.signals: dict[tuple[str, str], Signal] = {}
        self.gateways: list[tuple[str, str, list[str]]] = []
        self.cameras: list[tuple[str, str]] = []
        for sid in site_ids:
            site = catalog.sites[sid]
            for dev in site.devices:
                if dev.kind == "camera":
                    self.cameras.append((sid, dev.id))
                    continue
                self.gateways.append((sid, dev.id, [s.id for s in dev.sensors]))
                for s in dev.sensors:
                    lo, hi = normal_band(rules, site, s)
                    self.signals[(sid, s.id)] = SensorSignal(s, lo, hi, rng)
        vids = scenario.fleet.vehicles if scenario.fleet.vehicles is not None else sorted(
            catalog.vehicles)
        approved = {v: r.line for r in vrules.routes for v in r.vehicles}
        self.motion: dict[str, VehicleMotion] = {}
        for k, vid in enumerate(vids):
            v = catalog.vehicles[vid]
            line = approved.get(vid) or ROADS[1 if v.vehicle_class == "hazmat" else 0]
            cruise = 0.8 * vrules.speed.limits_kmh[v.vehicle_class]
            self.motion[vid] = VehicleMotion(Route(list(line)), cruise, rng,
                                             offset_min=float(k * 17 % 60), s=k * 3000.0)
        steps = int(scenario.duration_min * 60 / scenario.step_s)
        self.end = start + steps * scenario.step_s * 1000  # the last step's event time
        self.frozen: dict[str, float] = {}
        self.seq: dict[tuple[str, str], int] = {}
        self.blind: dict[str, list[dict[str, object]]] = {}  # fixes buffered while offline

    def steps(self) -> Iterator[tuple[int, list[Outgoing]]]:
        """(event time, messages of that step) from the start to the end of the drill."""
        step, every = self.sc.step_s, self.sc.position_every_s
        for k in range(int(self.sc.duration_min * 60 / step) + 1):
            t_s = k * step
            ts = self.start + t_s * 1000
            out = self._telemetry(t_s, ts)
            if t_s % every < step:
                out += self._positions(t_s, ts, every if k else 0)
            out += self._events(t_s, ts, step)
            yield ts, out

    def _incidents(self, t_min: float, **match: str) -> list[Incident]:
        return [i for i in self.sc.incidents if _active(i, t_min)
                and all(getattr(i, f) == v for f, v in match.items())]

    def _telemetry(self, t_s: float, ts: int) -> list[Outgoing]:
        out, t_min = [], t_s / 60
        for sid, did, sensors in self.gateways:
            if self._incidents(t_min, kind="offline", site=sid, device=did):
                continue
            points = self._points(sid, did, sensors, t_s)
            if not points:
                continue
            n = self.seq[(sid, did)] = self.seq.get((sid, did), 0) + 1
            out.append(Outgoing(device_username(sid, did),
                                f"{MQTT_ROOT}/sites/{sid}/devices/{did}/telemetry",
                                _body({"ts": ts, "seq": n, "points": points, "drill": True}), ts))
        return out

    def _points(self, sid: str, did: str, sensors: list[str],
                t_s: float) -> list[dict[str, object]]:
        """The points a gateway sends at t_s (here: all of them, every step)."""
        return [{"sensor": s, "value": self._value(sid, s, t_s)} for s in sensors]

    def _parked(self, vid: str, mo: VehicleMotion, t_s: float, minute: int,
                inc: dict[str, Incident]) -> bool:
        """Whether a vehicle stands still at t_s: a scheduled rest, or a coach's night stop."""
        v = self.cat.vehicles[vid]
        return (mo.resting(t_s) and "long_drive" not in inc) or (
            v.vehicle_class in self.vrules.driving.night_ban.classes
            and in_window(minute, self.park) and "night_drive" not in inc)

    def _heartbeats(self, t_s: float, ts: int, step: int) -> list[Outgoing]:
        """Cameras of the played sites say they are online every CAMERA_HEARTBEAT_S."""
        if t_s % CAMERA_HEARTBEAT_S >= step:
            return []
        return [Outgoing(device_username(sid, did),
                         f"{MQTT_ROOT}/sites/{sid}/devices/{did}/status",
                         _body({"status": "online", "ts": ts, "drill": True}), ts)
                for sid, did in self.cameras]

    def _value(self, sid: str, sensor: str, t_s: float) -> float:
        sig, t_min = self.signals[(sid, sensor)], t_s / 60
        v = sig.value(t_s)
        for i in self._incidents(t_min, site=sid, sensor=sensor):
            if i.kind == "frozen":
                return self.frozen.setdefault(i.id, v)
            if i.kind == "ramp" and i.to is not None:
                r = t_min - i.at_min
                f = (r / i.over_min if r < i.over_min else 1.0 if r < i.over_min + i.hold_min
                     else 1 - (r - i.over_min - i.hold_min) / i.over_min)
                v = round(v + f * (i.to - v), 4)
        return v

    def _positions(self, t_s: float, ts: int, dt_s: float) -> list[Outgoing]:
        out, t_min = [], t_s / 60
        minute = self.clock.minute_of_day(ts)
        for vid, mo in self.motion.items():
            inc: dict[str, Incident] = {i.kind: i for i in self._incidents(t_min, vehicle=vid)}
            parked = self._parked(vid, mo, t_s, minute, inc)
            night = in_window(minute, self.night)
            speed = 0.0 if parked else mo.cruise_kmh * (
                self.vrules.speed.night_factor if night else 1.0) + float(mo.rng.normal(0, 2))
            if "speeding" in inc and inc["speeding"].speed_kmh is not None:
                speed = inc["speeding"].speed_kmh + float(mo.rng.normal(0, 1))
            lat, lon, heading = mo.advance(dt_s, speed)
            flags = 1 << inc["alarm"].bit if "alarm" in inc and inc["alarm"].bit is not None else 0
            body: dict[str, object] = {"ts": ts, "lat": round(lat, 6), "lon": round(lon, 6),
                    "speed_kmh": round(max(speed, 0.0), 1), "heading": round(heading),
                    "alarm_flags": flags, "status_flags": 3, "drill": True}
            if "offline" in inc:
                if inc["offline"].backfill:  # the terminal keeps the fix for its 补传
                    self.blind.setdefault(vid, []).append(body)
                continue
            out.append(Outgoing(vehicle_username(vid), f"{MQTT_ROOT}/vehicles/{vid}/position",
                                _body(body), ts))
            if vid in self.blind:  # back: the live fix first, then the blind-area upload
                out.append(Outgoing(vehicle_username(vid),
                                    f"{MQTT_ROOT}/vehicles/{vid}/blind-area",
                                    json.dumps(self.blind.pop(vid), separators=(",", ":"))
                                    .encode(), ts))
        return out

    def _events(self, t_s: float, ts: int, step: int) -> list[Outgoing]:
        out = self._heartbeats(t_s, ts, step)
        for i in self.sc.incidents:
            due = [i.at_min * 60 + n * i.every_min * 60 for n in range(
                i.count if i.kind == "video" else 1)]
            if i.kind not in ("camera", "video") or not any(t_s <= d < t_s + step for d in due):
                continue
            eid = f"DRILL-{i.id}-{ts}"
            media = [{"kind": "image", "uri": f"{MEDIA}/{eid}/1.jpg"},
                     {"kind": "video", "uri": f"{MEDIA}/{eid}/1.mp4"}]
            if i.kind == "camera":
                out.append(Outgoing(device_username(str(i.site), str(i.device)),
                                    f"{MQTT_ROOT}/sites/{i.site}/devices/{i.device}/video-event",
                                    _body({"ts": ts, "event_id": eid, "family": i.family,
                                           "type": i.family, "media": media, "drill": True}), ts))
            else:
                mo = self.motion[str(i.vehicle)]
                lat, lon, _ = mo.route.at(mo.s)
                body = {"ts": ts, "event_id": eid, "family": i.family, "type": i.type,
                        "speed_kmh": round(mo.cruise_kmh, 1), "lat": round(lat, 6),
                        "lon": round(lon, 6), "media": media, "drill": True}
                if i.terminal_level is not None:
                    body["terminal_level"] = i.terminal_level
                if i.family == "tpms":  # the left front tyre, its readings fitting the alarm
                    kpa, temp, batt = TPMS_READINGS.get(str(i.type), (800, 40, 80))
                    bit = {n: b for b, n in TPMS_BITS.items()}.get(str(i.type))
                    body["tyre"] = {"position": 0, "alarm_bits": 1 | (1 << bit if bit else 0),
                                    "pressure_kpa": kpa, "temperature_c": temp,
                                    "battery_pct": batt}
                out.append(Outgoing(vehicle_username(str(i.vehicle)),
                                    f"{MQTT_ROOT}/vehicles/{i.vehicle}/video-event",
                                    _body(body), ts))
        return out
