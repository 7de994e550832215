"""Fixed-camera video-AI events: a moment, raised at the family's level, cleared when the
camera has not seen it again for the camera policy's clear delay.

One rule per camera device of a site and camera family (rule pack `camera_levels`, level 3
when a family has none); the evidence (media links) of the latest event is carried.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazardwatch.contracts import rules as rule_ids
from hazardwatch.contracts.catalog.model import Site
from hazardwatch.contracts.payloads import CAMERA_FAMILIES
from hazardwatch.contracts.records import VideoEventRecord
from hazardwatch.contracts.rules import Level
from hazardwatch.streams.rules import messages as zh
from hazardwatch.streams.rules.config import RulesConfig
from hazardwatch.streams.rules.episode import Change, Policy, due_changes, next_due, step
from hazardwatch.streams.rules.kinds.base import CompiledRule, Fired, Inputs
from hazardwatch.streams.rules.state import RuleState


@dataclass(frozen=True, slots=True)
class CameraFamily(Inputs):
    """One family of one fixed camera."""

    key: str
    events: tuple[tuple[str, str], ...]
    device: str
    family: str
    text: str
    policy: Policy
    level: Level
    sensors: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()

    def on_event(self, st: RuleState, rec: VideoEventRecord) -> list[Fired]:
        """Seen now: raised (or held); absent from now on unless seen again."""
        st.drill = rec.drill
        st.evidence = [(m.kind, m.uri) for m in rec.media] or st.evidence
        change = step(self.policy, st.ep, self.level, rec.ts)
        st.ep.normal_since = rec.ts
        return self._fire(change, st, rec.ts)

    def wake_at(self, st: RuleState) -> int | None:
        """The clear delay (or an escalation)."""
        return next_due(self.policy, st.ep)

    def on_wake(self, st: RuleState, now: int) -> list[Fired]:
        """Clear once unseen for the delay (a moment: no level wanted between events)."""
        return [f for change, at in due_changes(self.policy, st.ep, None, now)
                for f in self._fire(change, st, at)]

    def _fire(self, change: Change | None, st: RuleState, ts: int) -> list[Fired]:
        if change is None:
            return []
        return [Fired(change, ts, rule_ids.camera(self.family), "video", None, None, None,
                      None, self.text, st.drill, self.device, tuple(st.evidence))]


def compile_cameras(site: Site, rules: RulesConfig) -> list[CompiledRule]:
    """One rule per camera device of the site and camera family."""
    policy = rules.policy("camera")
    return [CameraFamily(f"camera:{d.id}:{family}", ((d.id, family),), d.id, family,
                         f"{site.name} 摄像机{d.id} 视频AI识别：{zh.CAMERA_ZH.get(family, family)}",
                         policy, rules.camera_levels.get(family, Level.YELLOW))
            for d in site.devices if d.kind == "camera" for family in sorted(CAMERA_FAMILIES)]
