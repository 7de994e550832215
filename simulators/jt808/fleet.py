"""Many simulated JT/T 808 terminals: a catalog for them and a driver that survives faults."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from hazardwatch.simulators.jt808.messages import SimFix, location_body
from hazardwatch.simulators.jt808.terminal import Terminal


def phone_of(i: int) -> str:
    """The SIM number of fleet terminal i (12 digits, as a 2013 terminal sends it)."""
    return f"0147{i:08d}"


def vehicle_of(i: int) -> str:
    """The vehicle id of fleet terminal i."""
    return f"jt-{i:05d}"


def fleet_catalog(n: int, company: str = "jt-fleet") -> str:
    """A catalog YAML of n hazmat trucks with terminals (for tests, drills and benchmarks)."""
    lines = ["version: 1", "companies:",
             f'  - {{id: {company}, name: 模拟运输公司, region: "150102"}}', "vehicles:"]
    for i in range(n):
        lines.append(f"  - {{id: {vehicle_of(i)}, plate: 蒙A·J{i:05d}, class: hazmat, "
                     f'company: {company}, terminal: {{phone: "{phone_of(i)}", '
                     f"terminal_id: S{i:06d}}}}}")
    return "\n".join(lines) + "\n"


@dataclass
class Tally:
    """What a fleet run saw: acknowledged fixes by (phone, ts), sends, reconnects, latencies."""

    acked: set[tuple[str, int]] = field(default_factory=set)
    sent: int = 0
    reconnects: int = 0
    timeouts: int = 0
    ack_ms: list[float] = field(default_factory=list)


async def drive(i: int, host: str, port: int, start_ts: int, stop: asyncio.Event, tally: Tally,
                interval_s: float = 0.0, timeout_s: float = 5.0, retries: int = 3) -> None:
    """Terminal i: register, authenticate, then one fix after another, each awaited; on a lost
    connection reconnect and send the unacknowledged fix again (same serial), as terminals do."""
    t = Terminal(phone_of(i), f"S{i:06d}", f"蒙A·J{i:05d}", timeout_s=timeout_s)
    seq = 0
    misses = 0
    connected = False
    serial: int | None = None
    while not stop.is_set():
        try:
            if not connected:
                await t.close()
                t = Terminal(phone_of(i), f"S{i:06d}", f"蒙A·J{i:05d}", timeout_s=timeout_s)
                await t.connect(host, port)
                if await t.register() != 0 or await t.authenticate() != 0:
                    raise ConnectionError("refused")
                connected = True
                serial = None
            ts = start_ts + seq * 1000
            fix = SimFix(ts, 40.0 + i / 10000, 111.0 + seq / 100000, 50.0, 90)
            if serial is None:
                serial = t.next_serial()
            began = time.perf_counter()
            tally.sent += 1
            reply = await t.request(0x0200, location_body(fix), serial=serial)
            if reply.body[4] == 0:
                tally.acked.add((phone_of(i), ts))
                tally.ack_ms.append((time.perf_counter() - began) * 1000)
                seq += 1
                serial = None
                misses = 0
            if interval_s:
                await asyncio.sleep(interval_s)
        except TimeoutError:
            tally.timeouts += 1  # no answer: retransmit the same fix with the same serial
            misses += 1
            if misses >= retries:  # as terminals do after parameter 0x0003 retransmissions
                connected = False
            continue
        except (ConnectionError, OSError):
            tally.reconnects += 1
            connected = False
            await asyncio.sleep(0.2)
    await t.close()
