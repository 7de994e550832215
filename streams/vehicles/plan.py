"""The kinds' hooks compiled for one vehicle: only the kinds that apply to it, as bound methods."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hazardwatch.streams.vehicles.classes import CompiledVehicle
from hazardwatch.streams.vehicles.kinds.base import Fix, Out, VehicleRule, Wake, overrides
from hazardwatch.streams.vehicles.state import VehicleState

OnPosition = Callable[[VehicleState, CompiledVehicle, Fix, Out], None]
OnWake = Callable[[VehicleState, CompiledVehicle, Wake, Out], None]


@dataclass(frozen=True, slots=True)
class Plan:
    """What the engine calls for one vehicle, in the table's order."""

    positions: tuple[OnPosition, ...]
    after_jump: tuple[tuple[OnPosition, ...], ...]  # per position hook: the on_jump ones after
    timers: tuple[Callable[[VehicleState, CompiledVehicle, int], int | None], ...]
    every: tuple[Callable[[VehicleState], bool], ...]
    wakes: tuple[OnWake, ...]
    clears: tuple[OnWake, ...]


def plan_for(kinds: Sequence[VehicleRule], c: CompiledVehicle) -> Plan:
    """The plan of vehicle c: the kinds that apply to it, each hook it implements."""
    mine = [k for k in kinds if k.applies(c)]

    def having(hook: str) -> list[VehicleRule]:
        return [k for k in mine if overrides(k, hook)]

    positions = having("on_position")
    return Plan(
        positions=tuple(k.on_position for k in positions),
        after_jump=tuple(tuple(k.on_position for k in positions[i + 1:] if k.on_jump)
                         for i in range(len(positions))),
        timers=tuple(k.wake_at for k in having("wake_at")),
        every=tuple(k.every_tick for k in having("every_tick")),
        wakes=tuple(k.on_wake for k in having("on_wake")),
        clears=tuple(k.on_clear for k in having("on_clear")))
