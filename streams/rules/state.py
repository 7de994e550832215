"""Rule state of one site: serialisable, so a Faust table (or a dict in tests) can hold it."""

from __future__ import annotations

import msgspec

from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules.episode import Episode
from hazardwatch.streams.seen import Ledger


class SensorState(msgspec.Struct, omit_defaults=True):
    """Threshold, fault and rate-of-change state of one sensor."""

    th: Episode = msgspec.field(default_factory=Episode)
    fault: Episode = msgspec.field(default_factory=Episode)
    rate: Episode = msgspec.field(default_factory=Episode)
    stages: int = 0  # bit i set: stage i active (hysteresis memory)
    want: Level | None = None  # level the threshold condition asks for now
    stage: str = ""  # the worst active stage
    fault_reason: str = ""
    rate_active: bool = False
    last_v: float | None = None
    last_ts: int = 0
    same_since: int | None = None
    drill: bool = False
    moved_at_v: float | None = None  # level sensors: the value when the level last moved


class UnitState(msgspec.Struct, omit_defaults=True):
    """Whether a unit of plant is in transfer: since when, and its last movement, by the
    kind of evidence (a flow, a moving level)."""

    flow_since: int | None = None
    flow_last: int = 0
    level_since: int | None = None
    level_last: int = 0


class DeviceState(msgspec.Struct, omit_defaults=True):
    """Liveness of one device."""

    offline: Episode = msgspec.field(default_factory=Episode)
    last_seen: int = 0
    status_offline_at: int | None = None
    drill: bool = False
    heard: bool = False  # any record at all (a camera may send only events)
    never: Episode = msgspec.field(default_factory=Episode)  # 未接入: silent since start
    clock: Episode = msgspec.field(default_factory=Episode)  # clock fast beyond tolerance
    clock_fast_ms: int = 0

    @property
    def spoke(self) -> bool:
        """Whether the device has ever sent anything (a state from before `heard` existed
        counts its last_seen)."""
        return self.heard or self.last_seen > 0


class RuleState(msgspec.Struct, omit_defaults=True):
    """The state of one compiled rule of a kind in streams/rules/kinds/ (its own fields)."""

    ep: Episode = msgspec.field(default_factory=Episode)
    over: dict[str, float] = msgspec.field(default_factory=dict)  # power_feed: CH4 beyond cut
    on: dict[str, bool] = msgspec.field(default_factory=dict)  # power_feed: feed powered
    drill: bool = False
    want: Level | None = None  # combination, counting: the level the condition asks for
    value: float | None = None  # counting: the points warning
    evidence: list[tuple[str, str]] = msgspec.field(default_factory=list)  # camera: media


class SiteState(msgspec.Struct, omit_defaults=True):
    """Everything the engine remembers about one site."""

    sensors: dict[str, SensorState] = msgspec.field(default_factory=dict)
    devices: dict[str, DeviceState] = msgspec.field(default_factory=dict)
    timed: set[str] = msgspec.field(default_factory=set)  # sensors with a pending/open episode
    units: dict[str, UnitState] = msgspec.field(default_factory=dict)  # transfer, by plant unit
    rules: dict[str, RuleState] = msgspec.field(default_factory=dict)  # kinds/, by rule key
    # (a state from before issue 20's kinds kept groups in `groups`: ignored when decoded)
    wake_at: int = 0  # the next tick that can change anything (Engine.on_tick; 0: the next)
    seen: Ledger | None = None  # hourly tallies of valid values (the figures' input)


_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(SiteState)


def dump_state(state: SiteState) -> bytes:
    """Compact bytes for a changelog-backed table."""
    return _enc.encode(state)


def load_state(data: bytes) -> SiteState:
    """The inverse of dump_state."""
    state: SiteState = _dec.decode(data)
    return state
