"""A drill's vehicles as JT/T 808 terminals: the scenario's vehicle messages go over TCP to the
drill's own gateway (register, authenticate, 0x0200 positions, 苏标 ADAS / DSM / BSD / TPMS alarms
with their attachments, heartbeats), each awaited until its 0x8001 (sent once Kafka has the
records)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.topics import MQTT_ROOT
from hazardwatch.ingest.jt808.active_safety import EVENT_TYPES, TPMS_BITS, TYPES
from hazardwatch.simulators.jt808.messages import (
    SimFix,
    adas_item,
    bsd_item,
    dsm_item,
    tpms_item,
)
from hazardwatch.simulators.jt808.terminal import Terminal
from hazardwatch.simulators.player import Outgoing

T = TypeVar("T")
BATCH = 20  # fixes per 0x0704 (a body holds at most 1023 bytes; a fix here takes 34 + 2)
VEHICLES = f"{MQTT_ROOT}/vehicles/"
# 苏标 alarm type codes by family and rule-pack type name (snapshots and driver changes are not
# alarms: a drill's video incident is one)
CODES = {family: {name: code for code, name in types.items()
                  if (family, code) not in EVENT_TYPES}
         for family, types in TYPES.items()}
CODES["tpms"] = {name: bit for bit, name in TPMS_BITS.items()}  # a tyre alarm's bit


def representable(family: str, type_name: str) -> str | None:
    """Why a vehicle video event cannot be sent as a 苏标 alarm (None: it can)."""
    if family not in CODES:
        return (f"JT/T 808 drill terminals send 苏标 ADAS / DSM / BSD / TPMS alarms, not "
                f"{family!r}")
    if type_name not in CODES[family]:
        return f"no 苏标 {family.upper()} type code for {type_name!r}"
    return None


def alarm_item(n: int, family: str, type_name: str, level: int, at: SimFix,
               terminal_id: str, tyre: dict[str, Any] | None = None) -> bytes:
    """The 苏标 item of a drill's video event (alarm number `n`, one attachment; TPMS: the
    event's tyre, its alarm bit set with the timed-report bit)."""
    code = CODES[family][type_name]
    if family == "adas":
        return adas_item(n, code, level, at, terminal_id, serial=n & 0xFF, attachments=1)
    if family == "bsd":
        return bsd_item(n, code, at, terminal_id, serial=n & 0xFF, attachments=1)
    if family == "tpms":
        t = tyre or {}
        reading = (int(t.get("position") or 0), 1 << code | 1, int(t.get("pressure_kpa") or 0),
                   int(t.get("temperature_c") or 0), int(t.get("battery_pct") or 0))
        return tpms_item(n, [reading], at, terminal_id, serial=n & 0xFF, attachments=1)
    return dsm_item(n, code, level, at, terminal_id, serial=n & 0xFF, attachments=1)


class DrillTerminals:
    """One simulated terminal per vehicle, driven from a loop of its own (a thread)."""

    def __init__(self, port: int, catalog: Catalog, vehicles: set[str] | None = None,
                 timeout_s: float = 60.0) -> None:
        self.port, self.catalog, self.timeout_s = port, catalog, timeout_s
        self.vehicles = vehicles  # None: every vehicle
        self.terminals: dict[str, Terminal] = {}
        self.alarms = 0
        self.uploads = 0
        self.backfilled = 0  # fixes uploaded in 0x0704 blind-area batches
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="drill-jt808",
                                        daemon=True)
        self._thread.start()

    def handles(self, m: Outgoing) -> bool:
        """Whether a message is one of these vehicles' (sent by its terminal)."""
        if not m.topic.startswith(VEHICLES):
            return False
        return self.vehicles is None or m.topic[len(VEHICLES):].split("/")[0] in self.vehicles

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout_s * 3)

    def send(self, msgs: list[Outgoing]) -> None:
        """Send the vehicles' messages (each vehicle's in order); return once all are acked."""
        by_vehicle: dict[str, list[Outgoing]] = {}
        for m in msgs:
            by_vehicle.setdefault(m.topic[len(VEHICLES):].split("/")[0], []).append(m)
        if by_vehicle:
            self._run(self._send(by_vehicle))

    def heartbeat(self) -> None:
        """0x0002 from every connected terminal (answered at once)."""
        async def beat() -> None:
            await asyncio.gather(*(self._ok(t.heartbeat(), "0x0002")
                                   for t in self.terminals.values()))

        self._run(beat())

    def close(self) -> None:
        """Close every connection and stop the loop."""
        async def close() -> None:
            for t in self.terminals.values():
                await t.close()

        self._run(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    async def _send(self, by_vehicle: dict[str, list[Outgoing]]) -> None:
        await asyncio.gather(*(self._vehicle(vid, ms) for vid, ms in by_vehicle.items()))

    async def _vehicle(self, vid: str, msgs: list[Outgoing]) -> None:
        t = await self._terminal(vid)
        for m in msgs:
            body = json.loads(m.payload)
            if m.topic.endswith("/position"):
                await self._ok(t.location(self._fix(body)), f"{vid} 0x0200")
            elif m.topic.endswith("/video-event"):
                await self._alarm(vid, t, body)
            elif m.topic.endswith("/blind-area"):  # back after an offline incident: 补传
                fixes = [self._fix(b) for b in body]
                for k in range(0, len(fixes), BATCH):
                    await self._ok(t.batch(fixes[k:k + BATCH], blind=True), f"{vid} 0x0704")
                self.backfilled += len(fixes)

    @staticmethod
    def _fix(body: dict[str, Any]) -> SimFix:
        return SimFix(int(body["ts"]), float(body["lat"]), float(body["lon"]),
                      float(body["speed_kmh"]), int(body.get("heading") or 0),
                      alarm=int(body.get("alarm_flags") or 0),
                      status=int(body.get("status_flags") or 3))

    async def _alarm(self, vid: str, t: Terminal, body: dict[str, Any]) -> None:
        why = representable(str(body["family"]), str(body["type"]))
        if why is not None:
            raise ValueError(f"{vid}: {why}")
        self.alarms += 1
        at = SimFix(int(body["ts"]), float(body["lat"]), float(body["lon"]),
                    float(body.get("speed_kmh") or 0))
        family = str(body["family"])
        item = alarm_item(self.alarms, family, str(body["type"]),
                          int(body.get("terminal_level") or 0), at, t.terminal_id,
                          body.get("tyre"))
        asked = t.received.count(0x9208)
        fix = SimFix(at.ts, at.lat, at.lon, at.speed_kmh, items=[item])
        await self._ok(t.location(fix), f"{vid} 苏标 {family.upper()} {body['type']}")
        if t.received.count(0x9208) > asked:  # the gateway asks for the alarm's attachments
            request = t.received.by_id[0x9208][-1]
            clip = f"drill {body['event_id']}".encode() * 64
            results = await t.upload_attachments(request, {f"drill-{family}.mp4": clip})
            if results[-1:] != [0]:
                raise RuntimeError(f"{vid}: attachment upload not complete: {results}")
            self.uploads += 1

    async def _terminal(self, vid: str) -> Terminal:
        t = self.terminals.get(vid)
        if t is not None and t.alive:
            return t
        v = self.catalog.vehicles[vid]
        if v.terminal is None:
            raise ValueError(f"vehicle {vid} has no terminal in the catalog")
        t = Terminal(v.terminal.phone, v.terminal.terminal_id or "DRILL01", v.plate,
                     timeout_s=self.timeout_s)
        await t.connect("127.0.0.1", self.port)
        if (r := await t.register(v.terminal.plate_color)) != 0:
            raise RuntimeError(f"{vid}: the drill gateway refused registration ({r})")
        if (r := await t.authenticate()) != 0:
            raise RuntimeError(f"{vid}: the drill gateway refused authentication ({r})")
        self.terminals[vid] = t
        return t

    @staticmethod
    async def _ok(result: Coroutine[Any, Any, int], what: str) -> None:
        if (r := await result) != 0:
            raise RuntimeError(f"{what}: the drill gateway answered {r}")
