"""What a worker does with one event: decode, load state, call the engine, return state + output.

No Faust here, so it is unit-tested directly. Ticks (one per site and second, from the leader)
carry wall-clock time through the stream: timers then run where the site's state lives, in
order with its data, and a replay of the input topics reproduces them.
"""

from __future__ import annotations

import msgspec

from contracts.records import decode_input
from contracts.warnings import WarningRecord
from streams.rules.engine import Engine
from streams.rules.state import SiteState, dump_state, load_state

TICK_TOPIC = "hw.ticks"


class Tick(msgspec.Struct, frozen=True):
    """A timer event for one site at wall-clock time `now` (epoch ms)."""

    site_id: str
    now: int


_tick_dec = msgspec.json.Decoder(Tick)
_enc = msgspec.json.Encoder()


def encode_tick(tick: Tick) -> bytes:
    """JSON bytes of a tick."""
    return _enc.encode(tick)


class WorkerCore:
    """Evaluates one event against one site's state."""

    def __init__(self, engine: Engine, *, started_at: int, grace_ms: int) -> None:
        self.engine = engine
        self.offline_not_before = started_at + grace_ms  # no offline storm after a restart

    def handle(self, state: bytes | None, topic: str, value: bytes) -> tuple[bytes, list[
            WarningRecord]]:
        """New state bytes and the warning records caused by one event."""
        st = load_state(state) if state else SiteState()
        if topic.endswith(TICK_TOPIC):
            tick = _tick_dec.decode(value)
            if tick.site_id not in self.engine.catalog.sites:
                return dump_state(st), []
            out = self.engine.on_tick(st, tick.site_id, tick.now, self.offline_not_before)
        else:
            out = self.engine.on_record(st, decode_input(value))
        return dump_state(st), out
