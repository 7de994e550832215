"""JT/T 808 gateway faults: kill -9, Kafka away 30 s, bad input, 10,000 silent connections."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Message

from hazardwatch import kafka_tail
from hazardwatch.simulators.jt808.fleet import Tally, drive, fleet_catalog, phone_of, vehicle_of
from hazardwatch.simulators.jt808.messages import SimFix
from hazardwatch.simulators.jt808.terminal import Terminal
from hazardwatch.stack import process
from hazardwatch.stack.manager import Stack
from tests.helpers import free_port
from tests.integration.test_jt808 import gateway

POSITIONS = "hw.vehicle.positions"


def in_kafka(stack: Stack, offsets: kafka_tail.Offsets, want: set[tuple[str, int]],
             timeout: float = 120) -> set[tuple[str, int]]:
    """(phone, ts) of the positions found, reading until all wanted ones are there."""
    phone = {vehicle_of(i): phone_of(i) for i in range(1000)}
    seen: set[tuple[str, int]] = set()
    read = [0]

    def done(msgs: list[Message]) -> bool:
        for m in msgs[read[0]:]:
            p = json.loads(m.value() or b"")
            seen.add((phone[p["vehicle_id"]], p["ts"]))
        read[0] = len(msgs)
        return want <= seen

    kafka_tail.read_since(stack.settings.kafka_bootstrap, offsets, done=done, timeout=timeout)
    return seen


async def fleet(n: int, port: int, start_ts: int, stop: asyncio.Event, tally: Tally,
                interval_s: float) -> None:
    await asyncio.gather(*(drive(i, "127.0.0.1", port, start_ts, stop, tally, interval_s)
                           for i in range(n)))


def test_kill_9_under_200_terminals_loses_no_acknowledged_position(
        stack: Stack, services: Any, unique: str, tmp_path: Path) -> None:
    prefix = f"t-{unique}."
    cat = tmp_path / "fleet.yaml"
    cat.write_text(fleet_catalog(200), encoding="utf-8")
    offsets = kafka_tail.mark(stack.settings.kafka_bootstrap, [prefix + POSITIONS])
    port = free_port()
    first = gateway(services, prefix, port, "jt808-a", ["--catalog", str(cat)])
    first.start()
    second = gateway(services, prefix, port, "jt808-b", ["--catalog", str(cat)])
    tally = Tally()
    start_ts = int(time.time()) * 1000 - 3_600_000

    async def scenario() -> None:
        stop = asyncio.Event()
        run = asyncio.create_task(fleet(200, port, start_ts, stop, tally, 0.05))
        await asyncio.sleep(4)
        before = len(tally.acked)
        first.kill()
        killed_at = len(tally.acked)
        await asyncio.to_thread(second.start)
        await asyncio.sleep(5)
        stop.set()
        await run
        assert before > 200 and len(tally.acked) > killed_at + 200, (
            before, killed_at, len(tally.acked), tally.reconnects, tally.timeouts)

    asyncio.run(scenario())
    assert tally.reconnects >= 200  # every terminal lost its connection and came back
    seen = in_kafka(stack, offsets, tally.acked)
    missing = tally.acked - seen
    assert not missing, f"{len(missing)} of {len(tally.acked)} acknowledged positions missing"
    assert second.stop() == 0


def test_kafka_away_30_s_no_ack_while_away_none_missing(
        stack: Stack, services: Any, unique: str, tmp_path: Path) -> None:
    prefix = f"t-{unique}."
    cat = tmp_path / "fleet.yaml"
    cat.write_text(fleet_catalog(20), encoding="utf-8")
    offsets = kafka_tail.mark(stack.settings.kafka_bootstrap, [prefix + POSITIONS])
    port = free_port()
    gw = gateway(services, prefix, port, "jt808", ["--catalog", str(cat)])
    gw.start()
    tally = Tally()
    start_ts = int(time.time()) * 1000 - 3_600_000
    kafka = stack.service("kafka")

    async def scenario() -> None:
        stop = asyncio.Event()
        run = asyncio.create_task(fleet(20, port, start_ts, stop, tally, 0.1))
        await asyncio.sleep(3)
        pid = stack.pid(kafka)
        assert pid is not None
        await asyncio.to_thread(process.terminate, pid, timeout=kafka.stop_timeout_s)
        try:
            await asyncio.sleep(2)  # acks confirmed just before the stop may still arrive
            acked_while_away = len(tally.acked)
            await asyncio.sleep(28)
            assert len(tally.acked) == acked_while_away, "acknowledged while Kafka was away"
            assert tally.timeouts >= 20  # terminals retransmitted meanwhile
        finally:
            await asyncio.to_thread(stack.up, say=lambda _m: None)
        await asyncio.sleep(8)
        stop.set()
        await run
        assert len(tally.acked) > acked_while_away + 20

    asyncio.run(scenario())
    seen = in_kafka(stack, offsets, tally.acked)
    missing = tally.acked - seen
    assert not missing, f"{len(missing)} of {len(tally.acked)} acknowledged positions missing"
    assert gw.proc is not None and gw.proc.poll() is None


def test_bad_input_and_10000_silent_connections_do_not_stop_registered_terminals(
        stack: Stack, services: Any, unique: str, tmp_path: Path) -> None:
    prefix = f"t-{unique}."
    port = free_port()
    gw = gateway(services, prefix, port, "jt808", ["--auth-timeout", "8"])
    gw.start()
    assert gw.proc is not None
    got: dict[str, Any] = {}

    async def scenario() -> None:
        truck = Terminal("013900000001", "T0001", "蒙A·D1234", timeout_s=10)
        await truck.connect("127.0.0.1", port)
        assert await truck.register() == 0 and await truck.authenticate() == 0
        acks: list[int] = []
        stop = asyncio.Event()

        async def report() -> None:
            i = 0
            while not stop.is_set():
                acks.append(await truck.location(SimFix(int(time.time()) * 1000 - 60_000 + i,
                                                        40.0, 111.0, 30.0)))
                i += 1000
                await asyncio.sleep(0.2)

        reporting = asyncio.create_task(report())
        writers = []
        for _ in range(100):  # 10,000 connections that never register
            opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port)
                                            for _ in range(100)))
            writers += [w for _, w in opened]
        noise = [await asyncio.open_connection("127.0.0.1", port) for _ in range(4)]
        noise[0][1].write(os.urandom(65536))
        noise[1][1].write(bytes(b for b in os.urandom(1 << 20) if b != 0x7E))  # 1 MB, no flag
        stranger = Terminal("013812345678", "X1", "京A00000")
        await stranger.connect("127.0.0.1", port)
        got["stranger"] = await stranger.register()
        slow = noise[2][1]
        frame = truck.encode(0x0002, b"")[1]
        for b in frame:  # a slow sender: a heartbeat one byte at a time
            slow.write(bytes((b,)))
            await asyncio.sleep(0.05)
        got["rss_kb"] = rss_kb(gw.proc.pid)
        await asyncio.sleep(10)  # the silent ones are closed after --auth-timeout
        stop.set()
        await reporting
        got["acks"] = acks
        for w in writers + [n[1] for n in noise]:
            w.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    assert got["stranger"] == 4
    assert len(got["acks"]) >= 20 and set(got["acks"]) == {0}  # served throughout
    assert got["rss_kb"] < 300 * 1024, got["rss_kb"]  # the stated bound: 300 MiB
    time.sleep(2.5)  # one more summary line
    log = gw.log.read_text()
    for reason in ("garbage", "too_long", "unknown_terminal", "closed_unauthenticated"):
        assert log.count(f"jt808 {reason} (first case") == 1, reason
    summary = [ln for ln in log.splitlines() if " jt808: " in ln][-1]
    closed = int(summary.split("closed_unauthenticated=")[1].split()[0])
    assert closed >= 10_000
    assert gw.stop() == 0


def rss_kb(pid: int) -> int:
    """Resident memory of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
