"""A player's traffic replayed through the engine, and the raw set-point crossings in it (the
quiet-day benchmark and its tests)."""

from __future__ import annotations

import json

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.warnings import WarningRecord
from hazardwatch.ingest.decode import MessageDecoder
from hazardwatch.simulators.player import ScenarioPlayer, as_received
from hazardwatch.simulators.quiet import QuietDayPlayer
from hazardwatch.simulators.scenario import Scenario
from hazardwatch.streams.replay import Replayer, ReplaySummary
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.rules.setpoints import resolve
from hazardwatch.streams.vehicles.config import VehicleRules
from hazardwatch.streams.vehicles.engine import VehicleEngine


def replay_player(sc: Scenario, cat: Catalog, rules: RulesConfig, vrules: VehicleRules,
                  start: int, quiet: bool = True
                  ) -> tuple[list[str], list[WarningRecord], ReplaySummary]:
    """(replay lines, warnings, summary) of a scenario on the quiet day (or the drills'
    always-moving signals when quiet is False)."""
    player = (QuietDayPlayer if quiet else ScenarioPlayer)(sc, cat, rules, vrules, start)
    lines = [json.dumps({"topic": o.topic, "payload": o.payload.decode(), "received_at": o.ts})
             for _, msgs in player.steps() for o in as_received(msgs)]
    rp = Replayer(MessageDecoder(cat), Engine(cat, rules), VehicleEngine(cat, vrules))
    warnings = list(rp.run(lines))
    return lines, warnings, rp.summary


def crossings(lines: list[str], cat: Catalog, rules: RulesConfig,
              vrules: VehicleRules) -> tuple[int, int]:
    """Raw alarms before any rule logic (persistence, hysteresis, episodes, combinations):
    (how often a reading enters the far side of a set-point, any stage, or a vehicle's speed
    rises above its class limit; how many readings and positions are past one at all)."""
    stages = {(site.id, s.id): resolve(rules, site, s).stages
              for site in cat.sites.values() for d in site.devices for s in d.sensors}
    beyond: dict[tuple[str, str], bool] = {}
    n = past = 0
    for line in lines:
        msg = json.loads(line)
        payload = json.loads(msg["payload"])
        parts = msg["topic"].split("/")
        if parts[-1] == "telemetry":
            for p in payload["points"]:
                key = (parts[3], p["sensor"])
                v = p["value"]
                now = v is not None and any(
                    v >= s.value if s.high else v <= s.value for s in stages.get(key, ()))
                n += now and not beyond.get(key, False)
                past += now
                beyond[key] = now
        elif parts[-1] == "position":
            vid = parts[3]
            limit = vrules.speed.limits_kmh[cat.vehicles[vid].vehicle_class]
            now = payload["speed_kmh"] > limit
            n += now and not beyond.get(("vehicle", vid), False)
            past += now
            beyond[("vehicle", vid)] = now
    return n, past
