"""Workflow deadlines as validated configuration; every default is the project's own.

No official time limit was retrievable (docs/kpis.md): 签收/核查/处置 deadlines per warning
level, the 销号 deadline (from the moment it became possible), the 督办 deadline per
administrative level that receives it, and the roles that may 销号 are configuration.
Defaults below are ours, chosen from the recalled ladder (about 30 min → county, 1 h → city,
2 h → province).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

from hazardwatch.alerting.accounts import Role
from hazardwatch.contracts.yamlfile import load_yaml

Seconds = Annotated[int, msgspec.Meta(gt=0, le=7 * 86400)]


class StepDeadlines(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Seconds from the push of a warning to each step (each ≥ the one before), and to the
    销号 from the moment it became possible (the later of the clear and the 处置)."""

    ack_s: Seconds
    verify_s: Seconds
    handle_s: Seconds
    close_s: Seconds | None = None  # 销号 from the push: accepted, no longer used (drill
    # reports score close_after_s, from when the 销号 became possible)
    close_after_s: Seconds = 24 * 3600  # 销号 after the clear and the 处置: else a 督办


class WorkflowConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Deadlines per warning level (1..4), 督办 deadlines per administrative level, 销号 roles."""

    steps: dict[int, StepDeadlines] = msgspec.field(default_factory=lambda: {
        1: StepDeadlines(5 * 60, 15 * 60, 30 * 60, close_after_s=3600),
        2: StepDeadlines(10 * 60, 30 * 60, 60 * 60, close_after_s=2 * 3600),
        3: StepDeadlines(30 * 60, 60 * 60, 4 * 3600, close_after_s=8 * 3600),
        4: StepDeadlines(60 * 60, 4 * 3600, 24 * 3600, close_after_s=24 * 3600)})
    supervision_s: dict[str, Seconds] = msgspec.field(default_factory=lambda: {
        "county": 30 * 60, "city": 60 * 60, "province": 120 * 60})
    close_roles: list[Role] = msgspec.field(
        default_factory=lambda: [Role.COMMANDER, Role.ADMIN])

    def __post_init__(self) -> None:
        if sorted(self.steps) != [1, 2, 3, 4]:
            raise msgspec.ValidationError("workflow.steps: one entry for each level 1..4")
        for level, s in self.steps.items():
            if not s.ack_s <= s.verify_s <= s.handle_s:
                raise msgspec.ValidationError(
                    f"workflow.steps.{level}: need ack_s ≤ verify_s ≤ handle_s")
            if s.close_s is not None and s.close_s < s.handle_s:
                raise msgspec.ValidationError(f"workflow.steps.{level}: need handle_s ≤ close_s")
        if set(self.supervision_s) != {"county", "city", "province"}:
            raise msgspec.ValidationError("workflow.supervision_s: county, city and province")
        if not self.close_roles:
            raise msgspec.ValidationError("workflow.close_roles: at least one role")


def load_workflow(path: Path | None = None) -> WorkflowConfig:
    """Defaults, or a YAML file validated field by field."""
    if path is None:
        return WorkflowConfig()
    return load_yaml(path, WorkflowConfig)
