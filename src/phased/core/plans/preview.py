"""What applying a plan does to today's audience, per environment (pure).

``plan validate`` and ``plan apply`` print it; ``plan apply`` refuses a plan
whose first stage in an environment would take the flag away from anyone
who has it, unless the plan says ``start: {allow_shrink: true}`` or the
command is given ``--allow-shrink``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from phased.core.audience_change import AudienceChange, audience_change
from phased.core.flags import Flag, FlagState
from phased.core.plans.audience import stage_flag_state
from phased.core.plans.model import Plan


@dataclass(frozen=True, slots=True)
class StagePreview:
    """The first stage of a plan in one environment, against that environment today."""

    stage: str
    change: AudienceChange

    def lines(self) -> list[str]:
        """``stage canary-5: awf_bundle in prod: keeps 25 % of users`` ..."""
        return [f"stage {self.stage}: {line}" for line in self.change.lines()]

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``--json`` and the API."""
        return {"stage": self.stage, **self.change.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StagePreview:
        """The inverse of :meth:`to_dict`."""
        return cls(stage=data["stage"], change=AudienceChange.from_dict(data))


def baseline_of(plan: Plan, flag: Flag, allow_shrink: bool) -> dict[str, FlagState]:
    """The states a rollout of ``plan`` keeps: every live environment it runs in (or none)."""
    if allow_shrink or plan.start.allow_shrink:
        return {}
    envs = dict.fromkeys(plan.stage_environment(i) for i in range(len(plan.stages)))
    return {env: flag.state(env) for env in envs if flag.state(env).enabled}


def preview_plan(plan: Plan, flag: Flag, *, allow_shrink: bool = False) -> list[StagePreview]:
    """For each environment the plan runs in, what its first stage there does to today.

    Args:
        flag: the flag as it is now.
        allow_shrink: as if ``--allow-shrink`` were given (the stages are exact).
    """
    baseline = baseline_of(plan, flag, allow_shrink)
    out: list[StagePreview] = []
    seen: set[str] = set()
    for index, stage in enumerate(plan.stages):
        env = plan.stage_environment(index)
        if env in seen:
            continue
        seen.add(env)
        today = flag.state(env)
        after = stage_flag_state(plan, index, today, baseline.get(env))
        change = audience_change(flag, env, today, after)
        asked = plan.cumulative_percent(index)
        if after.rollout > asked:
            note = (
                f"stage {stage.name} asks for {asked:g} % but {after.rollout:g} % have it "
                f"today: it stays at {after.rollout:g} % until a stage asks for more"
            )
            change = _with_note(change, note)
        out.append(StagePreview(stage.name, change))
    return out


def _with_note(change: AudienceChange, note: str) -> AudienceChange:
    return replace(change, notes=(*change.notes, note))


def shrinking(previews: list[StagePreview]) -> list[StagePreview]:
    """The previews in which someone loses the flag."""
    return [p for p in previews if p.change.shrinks]
