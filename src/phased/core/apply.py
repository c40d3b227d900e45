"""What a decision does to the flag: the environment states the service layer writes."""

from __future__ import annotations

from collections.abc import Mapping

from phased.core.decide import Decision, DecisionKind, RollbackTo
from phased.core.flags import FlagState
from phased.core.plans.audience import rolled_back_flag_state, stage_flag_state
from phased.core.plans.model import Plan


def flag_states_after(
    plan: Plan, before_index: int, decision: Decision, current: Mapping[str, FlagState]
) -> dict[str, FlagState]:
    """The flag states to write (environment -> state) to apply ``decision``; empty for none.

    Args:
        plan: the rollout's plan.
        before_index: the stage index the rollout was at before the decision.
        decision: the decision to apply (a dry-run decision changes nothing).
        current: the flag's present state per environment (missing: the default state).
    """
    if decision.dry_run:
        return {}

    def now_in(env: str) -> FlagState:
        return current.get(env) or FlagState()

    baseline = decision.state.baseline
    if decision.kind is DecisionKind.ADVANCE:
        env = plan.stage_environment(decision.stage_index)
        return {env: stage_flag_state(plan, decision.stage_index, now_in(env), baseline.get(env))}
    if decision.kind is DecisionKind.ROLLBACK:
        env = plan.stage_environment(before_index)
        if decision.rollback_to is RollbackTo.PREVIOUS_STAGE:
            back_env = plan.stage_environment(decision.stage_index)
            if back_env == env:
                index = decision.stage_index
                return {env: stage_flag_state(plan, index, now_in(env), baseline.get(env))}
            return {env: rolled_back_flag_state(plan, env, now_in(env))}
        disable = decision.rollback_to is RollbackTo.DISABLED
        return {env: rolled_back_flag_state(plan, env, now_in(env), disable=disable)}
    return {}
