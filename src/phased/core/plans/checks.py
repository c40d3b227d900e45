"""Cross-field rules of a plan: each failure names the field path and the fix.

Messages start with the field path (``stages[2].gates[0].metric: ...``) so
``Document.translate`` can point at the line the mistake is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from phased.core.analysis import is_comparable
from phased.core.outcomes import BUILTIN_METRICS, RATE_METRICS, latency_quantile
from phased.core.plans.hook_checks import check_hook_checklist

if TYPE_CHECKING:
    from phased.core.plans.check import Check
    from phased.core.plans.model import Plan

NON_NEGATIVE = frozenset(BUILTIN_METRICS)


def known_metric(metric: str, custom: tuple[str, ...]) -> bool:
    """A built-in metric, any ``latency_pNN_ms`` or a declared custom metric."""
    return metric in BUILTIN_METRICS or latency_quantile(metric) is not None or metric in custom


def _check_metric(check: Check, where: str, plan: Plan) -> None:
    if check.external:
        return  # a source's own metric: its name is a label, its query says what it is
    if not known_metric(check.metric, plan.metrics):
        custom = f"; declared custom metrics: {', '.join(plan.metrics)}" if plan.metrics else ""
        raise ValueError(
            f"{where}.metric: unknown metric {check.metric!r}; valid: "
            f"{', '.join(BUILTIN_METRICS)}, latency_pNN_ms{custom} "
            "(declare a custom metric under 'metrics:' first)"
        )
    if check.compare is not None:
        if not is_comparable(check.metric):
            raise ValueError(
                f"{where}.compare: {check.metric} cannot be compared with control; comparable: "
                f"{', '.join(RATE_METRICS)}, latency_pNN_ms (use a threshold for the others)"
            )
        if check.max_increase is not None and latency_quantile(check.metric) is not None:
            raise ValueError(
                f"{where}.max_increase: latency comparisons take max_increase_pct "
                f"(got max_increase {check.max_increase:g})"
            )
        return
    op, limit = check.operator, check.threshold
    assert op is not None
    assert limit is not None
    if check.metric in RATE_METRICS and check.metric != "retry_rate" and not 0 <= limit <= 1:
        raise ValueError(
            f"{where}.{op}: must be between 0 and 1 for {check.metric} (got {limit:g}); "
            f"write 1 % as 0.01"
        )
    if check.metric in NON_NEGATIVE and limit < 0:
        raise ValueError(f"{where}.{op}: {check.metric} is never negative (got {limit:g})")


def _check_environments(plan: Plan, environments: tuple[str, ...]) -> None:
    # The plan's own ``environment`` is checked by its field validator (so the
    # error points at its line); stages are checked here.
    for i, stage in enumerate(plan.stages):
        if stage.environment is not None and stage.environment not in environments:
            raise ValueError(
                f"stages[{i}].environment: {unknown_environment(stage.environment, environments)}"
            )


def unknown_environment(name: str, environments: tuple[str, ...]) -> str:
    """The message for an environment flags do not have."""
    return (
        f"unknown environment {name!r}; known: {', '.join(environments)} "
        "(PHASED_ENVIRONMENTS sets the list)"
    )


def check_plan(
    plan: Plan, roles: tuple[str, ...], environments: tuple[str, ...] | None = None
) -> None:
    """Raise ``ValueError("path: problem")`` for the first rule the plan breaks.

    Args:
        environments: the environments flags have; None skips that check (a stored plan).
    """
    if environments is not None:
        _check_environments(plan, environments)
    seen: dict[str, int] = {}
    for i, stage in enumerate(plan.stages):
        if stage.name in seen:
            raise ValueError(
                f"stages[{i}].name: {stage.name!r} is already the name of "
                f"stages[{seen[stage.name]}]; stage names are unique"
            )
        seen[stage.name] = i
        if stage.environment is None and plan.environment is None:
            raise ValueError(
                f"stages[{i}].environment: no environment; set 'environment' on the plan "
                "or on each stage"
            )
    _check_percentages(plan)
    for j, trigger in enumerate(plan.rollback):
        _check_metric(trigger, f"rollback[{j}]", plan)
    for i, stage in enumerate(plan.stages):
        full = plan.cumulative_percent(i) >= 100
        for j, gate in enumerate(stage.gates):
            _check_metric(gate, f"stages[{i}].gates[{j}]", plan)
            if gate.compare is not None and full:
                raise ValueError(
                    f"stages[{i}].gates[{j}].compare: no control arm at stage {stage.name} "
                    f"(everyone has the flag at 100 %), so this comparison can never pass; "
                    "compare at an earlier stage or use a threshold"
                )
        for j, trigger in enumerate(stage.rollback):
            _check_metric(trigger, f"stages[{i}].rollback[{j}]", plan)
        if stage.approval is not None:
            for k, role in enumerate(stage.approval.roles):
                if role not in roles:
                    raise ValueError(
                        f"stages[{i}].approval.roles[{k}]: nobody can hold the role {role!r}; "
                        f"known roles: {', '.join(roles)}"
                    )
        for k, item in enumerate(stage.checklist):
            if not item.strip():
                raise ValueError(f"stages[{i}].checklist[{k}]: an empty checklist item")
        check_hook_checklist(stage, f"stages[{i}]")
    for severity in plan.incidents:
        if severity not in ("P0", "P1", "P2", "P3"):
            raise ValueError(f"incidents.{severity}: unknown severity; use P0, P1, P2 or P3")
    for k, name in enumerate(plan.metrics):
        if name in BUILTIN_METRICS or latency_quantile(name) is not None:
            raise ValueError(f"metrics[{k}]: {name!r} is built in; list only custom metrics")


def _check_percentages(plan: Plan) -> None:
    highest: dict[str, tuple[float, int]] = {}
    for i, stage in enumerate(plan.stages):
        env = plan.stage_environment(i)
        percent = stage.audience.percent
        if percent is None:
            continue
        before = highest.get(env)
        if before is not None and percent < before[0]:
            raise ValueError(
                f"stages[{i}].audience.percent: {percent:g} % is less than the {before[0]:g} % "
                f"of stages[{before[1]}] in {env}; percentages only grow (to shrink the "
                "audience, roll back)"
            )
        highest[env] = (percent, i)
