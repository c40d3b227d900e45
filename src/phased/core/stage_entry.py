"""What must happen before a stage starts: approvals (four-eyes) and checklist items."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from phased.core.plans.model import Plan
from phased.core.rollout_state import RolloutState


class Waiting(BaseModel):
    """One thing a person still has to do before a stage may start."""

    model_config = ConfigDict(frozen=True)

    stage: str
    kind: Literal["approval", "checklist"]
    roles: tuple[str, ...] = ()
    """For an approval: any of these roles may approve."""
    missing: int = 0
    """For an approval: how many more people must approve."""
    item: str | None = None
    """For a checklist entry: its text."""
    detail: str


def qualified_approvers(plan: Plan, index: int, state: RolloutState) -> list[str]:
    """Distinct people who approved stage ``index`` holding one of its roles."""
    stage = plan.stages[index]
    if stage.approval is None:
        return []
    roles = set(stage.approval.roles)
    out: list[str] = []
    for record in state.approvals:
        if record.stage == stage.name and roles & set(record.roles) and record.actor not in out:
            out.append(record.actor)
    return out


def entry_waiting(plan: Plan, index: int, state: RolloutState) -> list[Waiting]:
    """What is still missing before stage ``index`` may start (empty: nothing)."""
    stage = plan.stages[index]
    out: list[Waiting] = []
    approval = stage.approval
    if approval is not None:
        approvers = qualified_approvers(plan, index, state)
        independent = [a for a in approvers if a not in state.requesters]
        missing = max(approval.count - len(approvers), 0)
        if missing == 0 and not independent:
            missing = 1  # four-eyes: the requester cannot approve alone
        if missing:
            roles = " or ".join(approval.roles)
            exclude = ", ".join(sorted(state.requesters))
            four_eyes = f"; not {exclude} alone (four-eyes)" if exclude else ""
            out.append(
                Waiting(
                    stage=stage.name,
                    kind="approval",
                    roles=approval.roles,
                    missing=missing,
                    detail=(
                        f"approval by {roles} ({len(approvers)} of {approval.count} given"
                        f"{four_eyes})"
                    ),
                )
            )
    ticked = {c.item for c in state.checks if c.stage == stage.name}
    for item in stage.checklist:
        if item not in ticked:
            out.append(
                Waiting(
                    stage=stage.name, kind="checklist", item=item, detail=f"checklist: {item!r}"
                )
            )
    for suite in stage.golden:
        item = golden_item(suite)
        if item not in ticked:
            out.append(
                Waiting(
                    stage=stage.name,
                    kind="checklist",
                    item=item,
                    detail=f"golden run of {suite!r} passing (phased golden test ... --report "
                    f"{suite})",
                )
            )
    return out


def golden_item(suite: str) -> str:
    """The checklist item a passing golden run of ``suite`` ticks."""
    return f"golden: {suite}"
