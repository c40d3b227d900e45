"""From a stage's audience to the flag's state in its environment.

Audiences are cumulative within an environment: stage ``i`` serves the flag
to everyone any stage ``<= i`` of that environment named (segments and
conditions become rules, the largest percentage becomes the rollout). A
stage therefore never takes the flag away from someone who had it. Rules the
plan did not write (and overrides) are kept as they are.

A plan also starts from today's audience (its *baseline*: the environment's
state when the plan was applied): the baseline's rules stay and its
percentage is a floor, so a 5 % first stage on a flag at 25 % keeps 25 %
until a stage asks for more. Only a plan that says ``start: {allow_shrink:
true}`` (or ``plan apply --allow-shrink``) runs without a baseline.
"""

from __future__ import annotations

from phased.core.conditions import render
from phased.core.flags import FlagState, Rule
from phased.core.plans.model import Plan


def _stage_rules(plan: Plan, index: int) -> list[Rule]:
    audience = plan.stages[index].audience
    rules = [Rule(segment=name) for name in audience.segments]
    if audience.where is not None:
        rules.append(Rule(where=audience.where))
    return rules


def plan_rules(plan: Plan, environment: str) -> list[Rule]:
    """Every rule any stage of the plan writes in ``environment``."""
    out: list[Rule] = []
    for i in range(len(plan.stages)):
        if plan.stage_environment(i) == environment:
            out += [r for r in _stage_rules(plan, i) if r not in out]
    return out


def stage_flag_state(
    plan: Plan, stage_index: int, current: FlagState, baseline: FlagState | None = None
) -> FlagState:
    """The flag's state in the stage's environment once stage ``stage_index`` is applied.

    The kill switch is turned on (a stage means "serve it"), the plan's rules
    of this and earlier stages in the environment come first, other rules and
    the overrides stay.

    Args:
        baseline: the environment's state when the plan was applied; its rules
            stay and its percentage is the least the stage serves (a killed
            baseline served nobody and keeps nothing).
    """
    env = plan.stage_environment(stage_index)
    ours: list[Rule] = []
    for i in range(stage_index + 1):
        if plan.stage_environment(i) == env:
            ours += [r for r in _stage_rules(plan, i) if r not in ours]
    base = baseline if baseline is not None and baseline.enabled else None
    kept = base.rules if base is not None else ()
    owned = [r for r in plan_rules(plan, env) if r not in kept]
    others = [r for r in current.rules if r not in owned and r not in ours]
    percent = plan.cumulative_percent(stage_index)
    if base is not None:
        percent = max(percent, base.rollout)
    return current.with_changes(enabled=True, rollout=percent, rules=tuple(ours + others))


def rolled_back_flag_state(
    plan: Plan, environment: str, current: FlagState, *, disable: bool = False
) -> FlagState:
    """The flag's state in ``environment`` with everything the plan added removed (0 %)."""
    owned = plan_rules(plan, environment)
    changes: dict[str, object] = {
        "rollout": 0.0,
        "rules": tuple(r for r in current.rules if r not in owned),
    }
    if disable:
        changes["enabled"] = False
    return current.with_changes(**changes)


def describe_audience(plan: Plan, index: int) -> str:
    """``5 %``, ``segment beta + role in [admin, pm]``: what stage ``index`` serves, in words."""
    env = plan.stage_environment(index)
    parts: list[str] = []
    for rule in [
        r
        for i in range(index + 1)
        if plan.stage_environment(i) == env
        for r in _stage_rules(plan, i)
    ]:
        text = (
            f"segment {rule.segment}"
            if rule.segment
            else str(render(rule.where))
            if rule.where
            else ""
        )
        if text and text not in parts:
            parts.append(text)
    percent = plan.cumulative_percent(index)
    if percent >= 100:
        return f"everyone in {env}"
    if percent or not parts:
        parts.append(f"{percent:g} % of users")
    return " + ".join(parts) + f" in {env}"
