"""Drill scenarios as validated data (deploy/scenarios/*.yaml, format in its README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from hazardwatch.alerting.accounts import Role
from hazardwatch.alerting.workflow.config import load_workflow
from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.rules import known as known_rule
from hazardwatch.contracts.yamlfile import load_yaml
from hazardwatch.resources import packaged

SCENARIOS = packaged("scenarios")
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Minutes = Annotated[float, msgspec.Meta(ge=0)]


class _S(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class Expect(_S, frozen=True):
    """A warning an incident must cause: rule, subject, level, and how soon after its start."""

    rule: str
    level: Annotated[int, msgspec.Meta(ge=1, le=4)]
    within_s: Annotated[float, msgspec.Meta(gt=0)]
    subject: str | None = None  # default: the incident's sensor, unit or vehicle


class Incident(_S, frozen=True):
    """Something injected at `at_min` into the simulated fleet.

    kinds and their fields:
      ramp      site, sensor, to, over_min, hold_min  (rise to `to`, hold, fall back)
      frozen    site, sensor, duration_min             (stuck at its current value)
      offline   site + device, or vehicle; duration_min (stops publishing; a JT/T 808
                vehicle with `backfill: true` buffers its fixes and uploads them as a
                0x0704 blind-area batch when it is back)
      camera    site, device, family                    (one fixed-camera event)
      speeding  vehicle, speed_kmh, duration_min
      long_drive vehicle, duration_min                  (drives on without any rest)
      night_drive vehicle, duration_min                 (drives when it would be parked)
      alarm     vehicle, bit, duration_min              (a JT/T 808 alarm bit held)
      video     vehicle, family, type, count, every_min, terminal_level
    """

    id: str
    kind: Literal["ramp", "frozen", "offline", "camera", "speeding", "long_drive",
                  "night_drive", "alarm", "video"]
    at_min: Minutes
    title: str
    expect: list[Expect] = msgspec.field(default_factory=list)
    site: str | None = None
    device: str | None = None
    sensor: str | None = None
    vehicle: str | None = None
    to: float | None = None
    over_min: Minutes = 5
    hold_min: Minutes = 10
    duration_min: Minutes = 10
    family: str | None = None
    type: str | None = None
    speed_kmh: float | None = None
    bit: Annotated[int, msgspec.Meta(ge=0, le=31)] | None = None
    count: int = 1
    every_min: Minutes = 1
    terminal_level: int | None = None
    backfill: bool = False


class Participant(_S, frozen=True):
    """A person played in the drill through the real API (a stand-in, with scripted delays
    after the notification; None: never does it); scored against the workflow deadlines."""

    name: str
    role: str  # 岗位, e.g. 值班员 or 企业安全管理员
    ack_after_s: Annotated[float, msgspec.Meta(ge=0)] | None = None  # 签收
    handle_after_s: Annotated[float, msgspec.Meta(ge=0)] | None = None  # 处置 (cause, action)
    rules: list[str] | None = None  # the warnings they take (default: every one notified)
    verify_after_s: Annotated[float, msgspec.Meta(ge=0)] | None = None  # 核查反馈
    verdict: Literal["real", "false_alarm", "sensor_fault"] = "real"  # their 核查 verdict
    close_after_s: Annotated[float, msgspec.Meta(ge=0)] | None = None  # 销号 (retried until
    # the warning has cleared)
    access: Role = Role.DUTY  # the console account's role they act with (值班员 may not 销号)


class Fleet(_S, frozen=True):
    """Which sites and vehicles of the catalog are simulated (default: all)."""

    sites: list[str] | None = None
    vehicles: list[str] | None = None


class Scenario(_S, frozen=True):
    """A drill: a fleet, a local start time, a duration and a timeline of incidents."""

    name: str
    title: str
    start_local: HHMM
    duration_min: Annotated[float, msgspec.Meta(gt=0, le=24 * 60)]
    incidents: list[Incident]
    fleet: Fleet = msgspec.field(default_factory=Fleet)
    step_s: Annotated[int, msgspec.Meta(ge=1, le=60)] = 10
    position_every_s: Annotated[int, msgspec.Meta(ge=1, le=300)] = 30
    seed: int = 7
    timezone: str = "Asia/Shanghai"
    # how the vehicles report: MQTT, or JT/T 808 terminals through the drill's own gateway
    transport: Literal["mqtt", "jt808"] = "mqtt"
    # per vehicle, overriding `transport` (e.g. one vehicle a JT/T 808 terminal, the rest MQTT)
    vehicle_transport: dict[str, Literal["mqtt", "jt808"]] = msgspec.field(default_factory=dict)
    participants: list[Participant] = msgspec.field(default_factory=list)
    # the handling workflow's deadlines for the drill's alerting (a file, relative to the
    # scenario's; default: the built-in deadlines)
    workflow: str | None = None


def load_scenario(path: str | Path, catalog: Catalog) -> Scenario:
    """Load a scenario by path or built-in name; raise ValueError naming every problem."""
    p = Path(path)
    if not p.exists() and (SCENARIOS / f"{path}.yaml").exists():
        p = SCENARIOS / f"{path}.yaml"
    sc = load_yaml(p, Scenario)
    problems = [f"{p}: incident {i.id}: {msg}" for i in sc.incidents for msg in _check(i, catalog)]
    problems += [f"{p}: incident {i.id}: starts after the drill ends ({sc.duration_min} min)"
                 for i in sc.incidents if i.at_min >= sc.duration_min]
    problems += [f"{p}: incident {i.id}: unknown rule {e.rule!r} (hazardwatch/contracts/rules.py)"
                 for i in sc.incidents for e in i.expect if not known_rule(e.rule)]
    ids = [i.id for i in sc.incidents]
    problems += [f"{p}: incident id {x!r} repeated" for x in sorted(set(ids)) if ids.count(x) > 1]
    for name, ids_, known in (("sites", sc.fleet.sites, catalog.sites),
                              ("vehicles", sc.fleet.vehicles, catalog.vehicles)):
        problems += [f"{p}: fleet.{name}: unknown {x!r}" for x in ids_ or [] if x not in known]
    problems += [f"{p}: vehicle_transport: unknown vehicle {v!r}" for v in sc.vehicle_transport
                 if v not in catalog.vehicles]
    if jt808_vehicles(sc, catalog):
        problems += _check_jt808(sc, catalog, p)
    problems += _check_backfill(sc, catalog, p)
    names = [x.name for x in sc.participants]
    problems += [f"{p}: participant {x!r} repeated" for x in sorted(set(names))
                 if names.count(x) > 1]
    problems += [f"{p}: participant {x.name}: 处置 before 签收" for x in sc.participants
                 if x.handle_after_s is not None and (x.ack_after_s is None
                                                     or x.handle_after_s < x.ack_after_s)]
    problems += [f"{p}: participant {x.name}: 核查 outside 签收 … 处置" for x in sc.participants
                 if x.verify_after_s is not None and (
                     x.ack_after_s is None or x.verify_after_s < x.ack_after_s
                     or (x.handle_after_s is not None and x.verify_after_s > x.handle_after_s))]
    if sc.workflow is not None:
        wf = (p.parent / sc.workflow).resolve()
        try:
            load_workflow(wf)
            sc = msgspec.structs.replace(sc, workflow=str(wf))
        except (OSError, ValueError, msgspec.ValidationError) as exc:
            problems.append(f"{p}: workflow {sc.workflow}: {exc}")
    if problems:
        raise ValueError("\n".join(problems))
    return sc


def jt808_vehicles(sc: Scenario, cat: Catalog) -> set[str]:
    """The scenario's vehicles played as JT/T 808 terminals (`transport`, then per vehicle)."""
    vehicles = sc.fleet.vehicles if sc.fleet.vehicles is not None else list(cat.vehicles)
    return {v for v in vehicles if sc.vehicle_transport.get(v, sc.transport) == "jt808"}


def _check_jt808(sc: Scenario, cat: Catalog, p: Path) -> list[str]:
    """Vehicles played as JT/T 808 terminals need a terminal; their video events, a 苏标 code."""
    from hazardwatch.simulators.drill_terminals import representable

    jt = jt808_vehicles(sc, cat)
    out = [f"{p}: transport jt808: vehicle {v!r} has no terminal in the catalog"
           for v in sorted(jt) if v in cat.vehicles and cat.vehicles[v].terminal is None]
    out += [f"{p}: incident {i.id}: transport jt808: {why}"
            for i in sc.incidents if i.kind == "video" and i.vehicle in jt
            and (why := representable(str(i.family), str(i.type))) is not None]
    return out


def _check_backfill(sc: Scenario, cat: Catalog, p: Path) -> list[str]:
    """Blind-area uploads (补传) are 0x0704 batches: offline incidents of JT/T 808 vehicles."""
    jt = jt808_vehicles(sc, cat)
    return [f"{p}: incident {i.id}: backfill needs an offline incident of a vehicle played as a "
            f"JT/T 808 terminal (transport / vehicle_transport: jt808)"
            for i in sc.incidents if i.backfill
            and (i.kind != "offline" or i.vehicle is None or i.vehicle not in jt)]


_NEEDS = {"ramp": ("site", "sensor", "to"), "frozen": ("site", "sensor"),
          "camera": ("site", "device", "family"), "speeding": ("vehicle", "speed_kmh"),
          "long_drive": ("vehicle",), "night_drive": ("vehicle",), "alarm": ("vehicle", "bit"),
          "video": ("vehicle", "family", "type")}


def _check(i: Incident, cat: Catalog) -> list[str]:
    out = [f"{i.kind} needs {f!r}" for f in _NEEDS.get(i.kind, ()) if getattr(i, f) is None]
    if i.kind == "offline" and not (i.vehicle or (i.site and i.device)):
        out.append("offline needs a vehicle, or a site and a device")
    if i.site is not None and i.site not in cat.sites:
        out.append(f"unknown site {i.site!r}")
    elif i.site is not None and i.sensor is not None and (i.site, i.sensor) not in cat.sensors:
        out.append(f"unknown sensor {i.sensor!r} at {i.site}")
    elif i.site is not None and i.device is not None and (i.site, i.device) not in cat.devices:
        out.append(f"unknown device {i.device!r} at {i.site}")
    if i.vehicle is not None and i.vehicle not in cat.vehicles:
        out.append(f"unknown vehicle {i.vehicle!r}")
    return out


def subject_of(i: Incident, e: Expect) -> str:
    """The warning subject an expectation is about (contracts/warnings.subject_key form)."""
    if e.subject is not None:
        return e.subject
    if i.vehicle:
        return f"vehicle:{i.vehicle}"
    if i.sensor:
        return f"sensor:{i.site}/{i.sensor}"
    return f"device:{i.site}/{i.device}"
