"""The JT/T 808 gateway on the real stack: simulated terminals over TCP → Kafka records."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from typing import Any

from confluent_kafka import Message

from hazardwatch import kafka_tail
from hazardwatch.simulators.jt808.messages import SimFix, dsm_item, tpms_item
from hazardwatch.simulators.jt808.terminal import Terminal
from hazardwatch.stack.manager import Stack
from tests.helpers import free_port

TOPICS = ("hw.vehicle.positions", "hw.video-events", "hw.device-status", "hw.rejected")
SECRET = "jt808-integration-test-secret-0123456789"


def gateway(services: Any, prefix: str, port: int, name: str = "jt808",
            extra: list[str] | None = None) -> Any:
    """A real `hazardwatch jt808` process on its own port and topic prefix."""
    os.environ["HW_JT808_AUTH_SECRET"] = SECRET
    return services(["jt808", "--port", str(port), "--topic-prefix", prefix,
                     "--client-id", f"hw-{name}", "--log-interval", "2", *(extra or [])],
                    "jt808 gateway listening", name)


def by_topic(msgs: list[Message], prefix: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TOPICS}
    for m in msgs:
        out[str(m.topic())[len(prefix):]].append(json.loads(m.value() or b""))
    return out


def test_terminals_register_authenticate_and_report_into_kafka(
        stack: Stack, services: Any, unique: str) -> None:
    prefix = f"t-{unique}."
    boot = stack.settings.kafka_bootstrap
    offsets = kafka_tail.mark(boot, [prefix + t for t in TOPICS])
    port = free_port()
    gw = gateway(services, prefix, port)
    gw.start()
    now = int(time.time() * 1000)
    got: dict[str, Any] = {}

    async def drive() -> None:
        truck = Terminal("013900000002", "T0002", "蒙A·D2345")
        await truck.connect("127.0.0.1", port)
        got["register"] = await truck.register()
        got["auth"] = await truck.authenticate()
        got["pos"] = [await truck.location(SimFix(now - 20_000 + i * 5000, 40.8 + i / 1000,
                                                  111.6, 55.0, 10)) for i in range(4)]
        blind = [SimFix(now - 3_600_000 + i * 60_000, 40.7, 111.5 + i / 1000, 40.0)
                 for i in range(10)]
        got["batch"] = await truck.batch(blind, blind=True)
        f = SimFix(now, 40.81, 111.61, 66.0)
        got["dsm"] = await truck.location(SimFix(
            f.ts, f.lat, f.lon, f.speed_kmh, items=[dsm_item(1, 0x01, 2, f, "T0002")]))
        g = SimFix(now + 1000, 40.81, 111.61, 64.0)  # 苏标 0x66: tyre 03's pressure is low
        got["tpms"] = await truck.location(SimFix(g.ts, g.lat, g.lon, g.speed_kmh, items=[
            tpms_item(2, [(0, 0x01, 820, 35, 90), (3, 0x05, 410, 36, 85)], g, "T0002")]))
        coach = Terminal("013900000011", "T0011", "蒙A·K1001")
        await coach.connect("127.0.0.1", port)
        got["coach"] = [await coach.register(), await coach.authenticate(),
                        await coach.heartbeat()]
        stranger = Terminal("013812340000", "X", "京A00000")
        await stranger.connect("127.0.0.1", port)
        got["stranger"] = await stranger.register()
        got["received"] = {hex(k): len(v) for k, v in truck.received.by_id.items()}
        await truck.logout()
        await asyncio.sleep(0.5)
        for t in (coach, stranger):
            await t.close()

    asyncio.run(asyncio.wait_for(drive(), 60))
    assert got["register"] == 0 and got["auth"] == 0
    assert got["pos"] == [0] * 4 and got["batch"] == 0 and got["dsm"] == 0 and got["tpms"] == 0
    assert got["coach"] == [0, 0, 0]
    assert got["stranger"] == 4  # 数据库中无该终端
    assert got["received"] == {"0x8100": 1, "0x8001": 8}

    def complete(msgs: list[Message]) -> bool:
        t = by_topic(msgs, prefix)
        return (len(t["hw.vehicle.positions"]) >= 16 and len(t["hw.video-events"]) >= 2
                and len(t["hw.device-status"]) >= 4)

    recs = by_topic(kafka_tail.read_since(boot, offsets, done=complete, timeout=30), prefix)
    pos = [p for p in recs["hw.vehicle.positions"] if p["vehicle_id"] == "hz-0002"]
    assert len(pos) == 16
    assert sorted(p["ts"] for p in pos)[:10] == [now - now % 1000 - 3_600_000 + i * 60_000
                                                 for i in range(10)]
    assert {p["speed_kmh"] for p in pos} == {55.0, 40.0, 66.0, 64.0}
    video, tyre = recs["hw.video-events"]
    assert (video["vehicle_id"], video["family"], video["type"], video["terminal_level"]) == \
        ("hz-0002", "dsm", "fatigue", 2)
    assert (tyre["vehicle_id"], tyre["family"], tyre["type"], tyre["terminal_level"],
            tyre["speed_kmh"], tyre["v"]) == ("hz-0002", "tpms", "pressure_low", None, 64.0, 2)
    assert tyre["tyre"] == {"position": 3, "alarm_bits": 5, "pressure_kpa": 410.0,
                            "temperature_c": 36.0, "battery_pct": 85.0}
    statuses = [(s["vehicle_id"], s["status"]) for s in recs["hw.device-status"]]
    assert statuses.count(("hz-0002", "online")) == 1
    assert ("hz-0002", "offline") in statuses and ("co-0001", "online") in statuses
    assert gw.stop() == 0
    log = gw.log.read_text()
    assert "unknown_terminal (first case" in log


def test_dsm_alarm_warning_carries_the_attachment_and_the_driver_is_reminded(
        stack: Stack, services: Any, unique: str) -> None:
    prefix = f"t-{unique}."
    boot = stack.settings.kafka_bootstrap
    kafka_tail.ensure_topics(boot, [prefix + t for t in (
        "hw.telemetry", "hw.device-status", "hw.video-events", "hw.ticks", "hw.warnings",
        "hw.vehicle.positions", "hw.vehicle-daily")])
    offsets = kafka_tail.mark(boot, [prefix + "hw.warnings"])
    services(["worker", "--topic-prefix", prefix, "--app-id", f"app-{unique}", "--web-port",
              str(free_port()), "--grace", "0", "--guarantee",
              os.environ.get("HW_TEST_GUARANTEE", "exactly_once")],
             "[^Worker]: Ready", "worker").start()
    port, files_port = free_port(), free_port()
    gateway(services, prefix, port, "jt808", ["--attachment-port", str(free_port()),
                                              "--files-port", str(files_port)]).start()
    clip = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
    got: dict[str, Any] = {}

    async def drive() -> None:
        t = Terminal("013900000003", "T0003", "蒙A·D3456")
        await t.connect("127.0.0.1", port)
        assert await t.register() == 0 and await t.authenticate() == 0
        now = int(time.time()) * 1000
        f = SimFix(now, 40.9, 111.7, 75.0, 90)
        assert await t.location(SimFix(now - 5000, 40.9, 111.69, 75.0, 90)) == 0
        assert await t.location(SimFix(now, f.lat, f.lon, f.speed_kmh, 90, items=[
            dsm_item(3, 0x01, 2, f, "T0003", attachments=1)])) == 0
        g = SimFix(now + 1000, f.lat, f.lon, f.speed_kmh, 90)  # tyre 02 runs hot (no files)
        assert await t.location(SimFix(g.ts, g.lat, g.lon, g.speed_kmh, 90, items=[
            tpms_item(4, [(2, 0x09, 900, 96, 70)], g, "T0003")])) == 0
        for _ in range(100):
            if t.received.count(0x9208):
                break
            await asyncio.sleep(0.1)
        got["upload"] = await t.upload_attachments(t.received.by_id[0x9208][0],
                                                   {"dsm-fatigue.mp4": clip})
        for _ in range(900):  # the worker raises the warning, the gateway reminds the driver
            if t.received.count(0x8300):
                break
            await asyncio.sleep(0.1)
        got["8300"] = [m.body for m in t.received.by_id.get(0x8300, [])]
        await asyncio.sleep(0.3)  # the terminal's 0x0001 reaches the gateway
        await t.close()

    asyncio.run(asyncio.wait_for(drive(), 150))
    assert got["upload"] == [0]
    assert got["8300"], "no 0x8300 reminder reached the terminal"
    assert got["8300"][0][1:].decode("gbk") == "平台提醒：检测到疲劳驾驶，请尽快停车休息"

    def fatigue(msgs: list[Message]) -> list[dict[str, Any]]:
        return [w for w in (json.loads(m.value() or b"") for m in msgs)
                if w["rule"] == "vehicle.video.dsm.fatigue" and w["vehicle_id"] == "hz-0003"]

    def tpms(msgs: list[Message]) -> list[dict[str, Any]]:
        return [w for w in (json.loads(m.value() or b"") for m in msgs)
                if w["rule"] == "vehicle.video.tpms.temperature_high"]

    msgs = kafka_tail.read_since(boot, offsets, done=lambda m: bool(fatigue(m) and tpms(m)),
                                 timeout=30)
    (w,) = fatigue(msgs)
    (hot,) = tpms(msgs)
    assert (hot["transition"], hot["level"], hot["vehicle_id"]) == ("raised", 2, "hz-0003")
    assert "胎温过高，02号轮胎（左前轮为00），胎压900kPa，胎温96℃，车速75km/h" in hot["message"]
    assert w["transition"] == "raised"
    (evidence,) = w["evidence"]
    assert evidence["uri"].startswith(f"http://127.0.0.1:{files_port}/jt808/attachments/")
    index = json.loads(urllib.request.urlopen(evidence["uri"], timeout=5).read())
    assert [(i["name"], i["size"]) for i in index] == [("dsm-fatigue.mp4", len(clip))]
    stored = urllib.request.urlopen(evidence["uri"] + index[0]["file"], timeout=5).read()
    assert stored == clip
