"""Rule state of one vehicle: serialisable, held in the worker's table like a site's."""

from __future__ import annotations

import msgspec

from hazardwatch.streams.rules.episode import Episode


class DayFigures(msgspec.Struct, omit_defaults=True):
    """Counters of one local day (联网联控 figures, standards.md §5.1)."""

    positions: int = 0
    online_ms: int = 0
    fatigue_ms: int = 0  # time driven beyond the continuous-driving limit
    gaps: int = 0  # GNSS gaps longer than driving.gap_s (track incomplete)
    drift: int = 0
    complete_m: float = 0.0  # mileage between good fixes within gap_s and gap_km (轨迹完整率)
    incomplete_m: float = 0.0  # mileage of the longer stretches
    overspeed: int = 0  # overspeed warnings raised
    day: int = 0  # local day number (clock.LocalClock.day)


class ZoneState(msgspec.Struct, omit_defaults=True):
    """A restricted zone or route corridor for one vehicle."""

    ep: Episode = msgspec.field(default_factory=Episode)
    inside: bool = False
    since: int = 0


class VideoState(msgspec.Struct, omit_defaults=True):
    """One video-AI alarm type of one vehicle."""

    ep: Episode = msgspec.field(default_factory=Episode)
    recent: list[int] = msgspec.field(default_factory=list)
    evidence: list[tuple[str, str]] = msgspec.field(default_factory=list)


class VehicleState(msgspec.Struct, omit_defaults=True):
    """Everything the engine remembers about one vehicle.

    Fields that every position reads come first, so they share cache lines (the order is
    free: the state is encoded as a map)."""

    last_ts: int = 0  # last position (any) event time
    fix_ts: int = 0  # last good (non-drift) fix: time and place
    lat: float | None = None
    lon: float | None = None
    day_ends_at: int = 0  # UTC ms of the next local midnight (when `day` closes)
    day: DayFigures = msgspec.field(default_factory=DayFigures)
    drill: bool = False
    wake_at: int = 0  # the next tick that can change anything (VehicleEngine.wake_at)
    offline: Episode = msgspec.field(default_factory=Episode)
    status_offline_at: int | None = None
    never: Episode = msgspec.field(default_factory=Episode)  # 未接入 (never any record)
    connect_by: int = 0  # when 未接入 is due, while nothing was ever heard (0: not pending)
    clock: Episode = msgspec.field(default_factory=Episode)  # terminal clock fast
    clock_fast_ms: int = 0
    drift_run: int = 0  # consecutive impossible jumps (3 in a row: the old fix was wrong)
    stop_since: int | None = None  # stopped since (None: moving)
    cont_ms: int = 0  # continuous driving since the last effective rest
    window_ms: int = 0  # driving in the last 24 h: the closed buckets and the open one
    bucket_at: int = -1  # the open 5-minute bucket (index) …
    bucket_ms: int = 0  # … and its driving ms
    window: bytes = b""  # the closed buckets, oldest first, packed (kinds/daily.py)
    cont: Episode = msgspec.field(default_factory=Episode)
    daily: Episode = msgspec.field(default_factory=Episode)
    night_ban: Episode = msgspec.field(default_factory=Episode)
    speed: Episode = msgspec.field(default_factory=Episode)
    bits: dict[int, Episode] = msgspec.field(default_factory=dict)
    zones: dict[str, ZoneState] = msgspec.field(default_factory=dict)
    speed_kmh: float = 0.0
    limit_kmh: float = 0.0
    limit_where: str = ""
    lower_since: int | None = None  # an overspeed episode wants a lower level since
    higher_since: int | None = None  # … or a more severe level since
    video: dict[str, VideoState] = msgspec.field(default_factory=dict)
    moved: Episode = msgspec.field(default_factory=Episode)  # 离线位移 (a moment)
    moved_m: float = 0.0
    closed: list[DayFigures] = msgspec.field(default_factory=list)  # for the caller to emit
    hour_ends_at: int = 0  # the open hour's end (0: none); its figures: day − hour_base
    hour_base: DayFigures | None = None  # the day's counters when the open hour began
    closed_hours: list[tuple[int, DayFigures]] = msgspec.field(default_factory=list)  # (start,
    # figures) of closed hours for the caller to emit
    buckets: dict[int, int] = msgspec.field(default_factory=dict)  # (a state of before `window`)


_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(VehicleState)


def dump_vehicle(state: VehicleState) -> bytes:
    """Compact bytes for the worker's table."""
    return _enc.encode(state)


def load_vehicle(data: bytes) -> VehicleState:
    """The inverse of dump_vehicle."""
    state: VehicleState = _dec.decode(data)
    return state
