"""核查反馈 with the 处置: the verdict is kept on the alert, emitted on hw.alert-actions, written
by the sink and read back by the figures (误报占比); an unknown verdict is a precise 400."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from hazardwatch.alerting import apiinput
from hazardwatch.streams.sinks.line_protocol import alert_action
from tests.unit.alerting.test_service import T0, feed, service, warning


@pytest.mark.parametrize("verdict", ["false_alarm", "sensor_fault", "real", ""])
def test_verdict_travels_with_the_handling(tmp_path: Path, verdict: str) -> None:
    svc, _ = service(tmp_path)
    events: list[dict[str, Any]] = []
    svc.emit = events.append
    w = warning(2)
    feed(svc, w, T0)
    a = svc.act("resolve", w.warning_id, "张三", T0 + 60_000, "探头进水", "更换探头", verdict)
    assert a is not None and a.verdict == (verdict or None)
    (ev,) = [e for e in events if e["action"] == "resolve"]
    assert ev["verdict"] == (verdict or None)
    line = alert_action(ev)
    assert (f'verdict="{verdict}"' in line) is bool(verdict)


def test_resolve_body_takes_only_known_verdicts() -> None:
    ok = apiinput.decode(b'{"cause": "a", "action": "b", "verdict": "false_alarm"}',
                         apiinput.ResolveBody)
    assert ok.verdict == "false_alarm"
    assert apiinput.decode(b'{"cause": "a", "action": "b"}', apiinput.ResolveBody).verdict is None
    with pytest.raises((apiinput.BadRequest, msgspec.ValidationError)):
        apiinput.decode(b'{"cause": "a", "action": "b", "verdict": "maybe"}',
                        apiinput.ResolveBody)
