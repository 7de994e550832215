"""Shared fixtures: markers by folder, and the running local stack for integration tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hazardwatch.stack.errors import StackError
from hazardwatch.stack.manager import Stack
from hazardwatch.stack.settings import StackSettings

TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder: unit, integration, acceptance or faults."""
    for item in items:
        rel = Path(str(item.fspath)).relative_to(TESTS).parts[0]
        if rel in ("unit", "integration", "acceptance", "faults"):
            item.add_marker(getattr(pytest.mark, rel))


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The local real stack: reuse the one that is up, else start it; fail (never skip)."""
    s = Stack(StackSettings.from_env())
    if not s.is_up():
        try:
            s.up(say=lambda _msg: None)
        except StackError as exc:
            pytest.fail(f"the local stack is not available: {exc}", pytrace=False)
    yield s


@pytest.fixture(scope="session")
def mqtt_credentials(stack: Stack) -> dict[str, str]:
    """Platform MQTT accounts {username: password} of the running broker."""
    path = stack.service("mosquitto").dir / "credentials.json"
    creds: dict[str, str] = json.loads(path.read_text())
    return creds


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic, group and database names of one test."""
    return uuid.uuid4().hex[:10]
