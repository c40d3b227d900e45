"""Which decisions must wait for the engine because hooks belong to the transition.

Only the engine runs hooks (it claims each run so none runs twice). A
decision made elsewhere — applying a plan, a person's ``rollout advance``, an
incident — that would move traffic past a ``confirm_advance`` or into a stage
with ``pre_stage`` hooks is held instead; the engine makes the move at its
next pass, hooks first.
"""

from __future__ import annotations

from phased.core.decide import Decision, DecisionKind
from phased.core.plans.model import Plan
from phased.core.rollout_state import RolloutPhase, RolloutState


def awaiting_hooks(plan: Plan, state: RolloutState, decision: Decision) -> str | None:
    """Which hooks the move needs (None: it needs none)."""
    if decision.kind not in (DecisionKind.ADVANCE, DecisionKind.COMPLETE):
        return None
    needs = []
    if state.phase is not RolloutPhase.PENDING:
        current = plan.stages[min(state.stage, len(plan.stages) - 1)]
        if current.hooks.confirm_advance:
            needs.append(f"the confirm_advance hooks of stage {current.name}")
    if decision.kind is DecisionKind.ADVANCE:
        target = plan.stages[decision.stage_index]
        if target.hooks.pre_stage:
            needs.append(f"the pre_stage hooks of stage {target.name}")
    return " and ".join(needs) or None


def hold_for_hooks(plan: Plan, state: RolloutState, decision: Decision) -> Decision:
    """``decision``, or a hold until the engine has run the hooks it needs."""
    why = awaiting_hooks(plan, state, decision)
    if why is None:
        return decision
    index = min(state.stage, len(plan.stages) - 1)
    return decision.model_copy(
        update={
            "kind": DecisionKind.HOLD,
            "stage": plan.stages[index].name,
            "stage_index": state.stage,
            "reason": f"{decision.reason}; waiting for the engine to run {why}",
            "state": state,
            "alerts": (),
        }
    )
