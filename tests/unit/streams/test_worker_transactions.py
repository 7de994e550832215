"""An event's outputs, state and offset commit together (streams/worker/app.py, handover.py).

A real Faust app of the worker, not started (no Kafka): its consumer and its table."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer

from hazardwatch.contracts.catalog import load_catalog
from hazardwatch.streams.rules.config import load_rules
from hazardwatch.streams.rules.engine import Engine
from hazardwatch.streams.vehicles.config import load_vehicle_rules
from hazardwatch.streams.vehicles.engine import VehicleEngine
from hazardwatch.streams.worker.app import RawTable, WorkerSettings, create_app
from hazardwatch.streams.worker.handover import ConcurrentCommitProducer, HandoverConsumer

pytestmark = pytest.mark.unit
CAT = load_catalog("deploy/catalog/demo.yaml")


def app() -> Any:
    return create_app(WorkerSettings(kafka_bootstrap="127.0.0.1:1"),
                      Engine(CAT, load_rules()), VehicleEngine(CAT, load_vehicle_rules()))


def test_a_commit_waits_for_the_event_in_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    committed: list[float] = []

    async def faust_commit(self: Any, topics: Any = None,
                           start_new_transaction: bool = True) -> bool:
        committed.append(asyncio.get_running_loop().time())
        return True

    monkeypatch.setattr(AIOKafkaConsumer, "commit", faust_commit)

    async def run() -> None:
        consumer = app().consumer
        assert isinstance(consumer, HandoverConsumer)
        async with consumer.processing:  # the agent handles an event
            commit = asyncio.ensure_future(consumer.commit())
            await asyncio.sleep(0.05)
            assert committed == [] and not commit.done()  # its offsets wait for the event
        assert await commit is True
        assert len(committed) == 1

    asyncio.run(run())


def test_a_state_write_reaches_the_changelog_when_the_agent_publishes_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[bytes, bytes, int | None]] = []

    async def publish_message(fut: Any, wait: bool = False) -> None:
        m = fut.message
        sent.append((m.key, m.value, m.partition))

    async def run() -> None:
        table = app().tables["site-state"]
        assert isinstance(table, RawTable)
        monkeypatch.setattr(table.changelog_topic, "publish_message", publish_message)
        table.send_changelog(2, b"site-a", b"state-1")
        table.send_changelog(2, b"site-a", b"state-2")
        assert sent == []  # not to Faust's buffer, drained by a task of its own
        await table.publish_changelog()
        assert sent == [(b"site-a", b"state-1", 2), (b"site-a", b"state-2", 2)]
        await table.publish_changelog()
        assert len(sent) == 2  # each record once

    asyncio.run(run())


def test_the_partitions_transactions_commit_at_once() -> None:
    steps: list[str] = []

    class FakeTransactionalProducer:
        def __init__(self, tid: str, gate: asyncio.Event) -> None:
            self.tid, self.gate = tid, gate

        async def send_offsets_to_transaction(self, offsets: Any, group_id: str) -> None:
            steps.append(f"offsets {self.tid}")
            await self.gate.wait()  # a round trip to the broker

        async def commit_transaction(self) -> None:
            steps.append(f"commit {self.tid}")

        async def begin_transaction(self) -> None:
            steps.append(f"begin {self.tid}")

    async def run() -> None:
        gate = asyncio.Event()
        producer = ConcurrentCommitProducer.__new__(ConcurrentCommitProducer)
        producer._trn_locks = {t: asyncio.Lock() for t in ("app-0-0", "app-0-1")}
        producer._transaction_producers = {
            t: FakeTransactionalProducer(t, gate) for t in ("app-0-0", "app-0-1")}
        commit = asyncio.ensure_future(producer.commit_transactions(
            {"app-0-0": {}, "app-0-1": {}}, "app"))
        await asyncio.sleep(0.01)
        assert steps == ["offsets app-0-0", "offsets app-0-1"]  # both in flight at once
        gate.set()
        await commit
        assert sorted(steps[2:]) == ["begin app-0-0", "begin app-0-1", "commit app-0-0",
                                     "commit app-0-1"]

    asyncio.run(run())


def test_after_an_event_fails_half_way_nothing_commits_and_the_worker_restarts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    committed: list[bool] = []
    crashed: list[BaseException] = []

    async def faust_commit(self: Any, topics: Any = None,
                           start_new_transaction: bool = True) -> bool:
        committed.append(True)
        return True

    monkeypatch.setattr(AIOKafkaConsumer, "commit", faust_commit)

    async def run() -> None:
        worker = app()

        async def crash(reason: BaseException) -> None:
            crashed.append(reason)

        monkeypatch.setattr(worker, "crash", crash)
        consumer = worker.consumer
        assert await consumer.commit() is True  # before: commits as usual
        with pytest.raises(RuntimeError):
            async with consumer.handling():  # a warning sent, then the next send fails
                raise RuntimeError("no transaction producer")
        await asyncio.sleep(0)
        assert await consumer.commit() is False  # its offset (acked by Faust) never commits
        assert committed == [True] and [str(r) for r in crashed] == ["no transaction producer"]

    asyncio.run(run())
