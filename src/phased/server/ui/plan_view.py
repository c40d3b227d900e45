"""The whole plan in words, for the rollout page before (and while) anything is measured.

Pure: from a validated :class:`~phased.core.plans.model.Plan` to plain rows the
template prints (stages with audiences, soak, samples, gates, approvals with
roles, checklists; rollback triggers with their actions; the cost budget;
what open incidents do).
"""

from __future__ import annotations

from dataclasses import dataclass

from phased.core.check_lines import ACTION_WORDS
from phased.core.durations import format_duration
from phased.core.metric_format import fmt_metric
from phased.core.plans.audience import describe_audience
from phased.core.plans.check import OPERATORS, Check, Trigger
from phased.core.plans.model import Plan


def check_words(check: Check) -> str:
    """``error rate < 1.00 %`` or ``latency_p95_ms not worse than control (+10 % tolerated)``."""
    if check.compare is not None:
        return check.label
    op = OPERATORS[check.operator or "below"]
    text = f"{check.metric} {op} {fmt_metric(check.metric, check.threshold)}"
    return f"{check.name}: {text}" if check.name and not check.name.startswith("budget") else text


@dataclass(frozen=True, slots=True)
class TriggerRow:
    """One rollback trigger: its condition, when it is checked and what it does."""

    condition: str
    severity: str
    action: str
    when: str


@dataclass(frozen=True, slots=True)
class StageRow:
    """One stage of the plan in words."""

    number: int
    name: str
    description: str
    audience: str
    environment: str
    soak: str
    max_duration: str
    samples: str
    gates: tuple[str, ...]
    triggers: tuple[TriggerRow, ...]
    approval: str
    checklist: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlanView:
    """Everything the plan says, in the order a person reads it."""

    stages: tuple[StageRow, ...]
    triggers: tuple[TriggerRow, ...]
    budget: tuple[TriggerRow, ...]
    incidents: tuple[str, ...]
    false_rollback_rate: str


def _trigger(trigger: Trigger) -> TriggerRow:
    when = []
    if trigger.compare is None and trigger.min_samples:
        when.append(f"after {trigger.min_samples:,} candidate requests")
    if trigger.after:
        when.append(f"after {format_duration(trigger.after)} in the stage")
    return TriggerRow(
        condition=check_words(trigger),
        severity=trigger.severity.value,
        action=ACTION_WORDS[trigger.effective_action],
        when=", ".join(when) or "from the first request",
    )


def plan_view(plan: Plan) -> PlanView:
    """The plan in words (see the module docs)."""
    stages = []
    for i, stage in enumerate(plan.stages):
        samples = []
        if stage.min_samples:
            samples.append(f"{stage.min_samples:,} candidate requests")
        if stage.min_successes:
            samples.append(f"{stage.min_successes:,} successes")
        approval = ""
        if stage.approval is not None:
            a = stage.approval
            who = " or ".join(a.roles)
            approval = f"{a.count} × {who}" + (f" ({a.note})" if a.note else "")
        stages.append(
            StageRow(
                number=i + 1,
                name=stage.name,
                description=stage.description,
                audience=describe_audience(plan, i),
                environment=plan.stage_environment(i),
                soak=format_duration(stage.min_duration) if stage.min_duration else "",
                max_duration=format_duration(stage.max_duration) if stage.max_duration else "",
                samples=", ".join(samples),
                gates=tuple(check_words(g) for g in stage.gates),
                triggers=tuple(_trigger(t) for t in stage.rollback),
                approval=approval,
                checklist=stage.checklist,
            )
        )
    budget = tuple(_trigger(t) for t in plan.budget.triggers()) if plan.budget else ()
    incidents = tuple(
        f"an open {severity} incident {ACTION_WORDS[action]}"
        for severity, action in sorted(plan.incidents.items())
    )
    return PlanView(
        stages=tuple(stages),
        triggers=tuple(_trigger(t) for t in plan.rollback),
        budget=budget,
        incidents=incidents,
        false_rollback_rate=f"{plan.analysis.false_rollback_rate * 100:g} %",
    )
