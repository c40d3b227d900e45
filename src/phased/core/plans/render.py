"""A plan as a rollout document a PM can read and sign (``phased plan render --format md``)."""

from __future__ import annotations

from phased.core.durations import format_duration
from phased.core.plans.audience import describe_audience
from phased.core.plans.check import OPERATORS, Check, Trigger
from phased.core.plans.model import Plan, Stage

_ACTIONS = {
    "rollback": "roll back to 0 %",
    "disable": "roll back and disable the flag",
    "step_back": "step back one stage and pause",
    "pause": "pause for a person",
    "alert": "alert only",
}


def _condition(check: Check) -> str:
    if check.compare is not None:
        return f"not worse than control{_tolerance(check)} (sequential test)"
    return f"{OPERATORS[check.operator or 'below']} {check.threshold:g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _triggers_table(triggers: tuple[Trigger, ...]) -> list[str]:
    lines = ["| Metric | Fires when | Severity | Action |", "|---|---|---|---|"]
    for t in triggers:
        when = _condition(t) if t.compare is None else f"worse than control{_tolerance(t)}"
        if t.name and not t.name.startswith("budget:"):
            when = f"{t.name}: {when}"
        if t.compare is None and t.after:
            when += f" (once the stage has run {format_duration(t.after)})"
        elif t.compare is None and t.min_samples > 1:
            when += f" (after {t.min_samples:,} candidate requests)"
        lines.append(
            f"| {t.metric} | {_cell(when)} | {t.severity.value} | "
            f"{_ACTIONS[t.effective_action.value]} |"
        )
    return lines


def _tolerance(check: Check) -> str:
    parts = []
    if check.max_increase is not None:
        parts.append(f"+{check.max_increase:g}")
    if check.max_increase_pct is not None:
        parts.append(f"+{check.max_increase_pct:g} %")
    return f", {' or '.join(parts)} tolerated" if parts else ""


def _stage(plan: Plan, index: int, stage: Stage) -> list[str]:
    title = f"### {index + 1}. {stage.name}"
    lines = [title, ""]
    if stage.description:
        lines += [stage.description.strip(), ""]
    lines.append(f"- **Audience:** {describe_audience(plan, index)}")
    before = []
    if stage.approval is not None:
        who = " or ".join(stage.approval.roles)
        people = "person" if stage.approval.count == 1 else "people"
        before.append(
            f"approval by {stage.approval.count} {who} {people} "
            "(not only the person who applied or advanced the plan)"
        )
    before += [f"checklist: {item}" for item in stage.checklist]
    if before:
        lines.append("- **Before it starts:** " + "; ".join(before))
    soak = f"at least {format_duration(stage.min_duration)}" if stage.min_duration else "no minimum"
    if stage.max_duration is not None:
        soak += f", at most {format_duration(stage.max_duration)} (then hold and alert)"
    lines.append(f"- **Duration:** {soak}")
    if stage.min_samples or stage.min_successes:
        parts = []
        if stage.min_samples:
            parts.append(f"{stage.min_samples:,} candidate requests")
        if stage.min_successes:
            parts.append(f"{stage.min_successes:,} successful ones")
        lines.append("- **Minimum samples:** " + ", ".join(parts))
    if stage.gates:
        lines += ["- **Success criteria:**", "", "  | Metric | Target | Actual | Status |"]
        lines.append("  |---|---|---|---|")
        for gate in stage.gates:
            lines.append(f"  | {gate.metric} | {_cell(_condition(gate))} | ___ | ⏳ |")
    if stage.rollback:
        lines += ["- **Rollback triggers for this stage:**", ""]
        lines += ["  " + row for row in _triggers_table(stage.rollback)]
    return [*lines, ""]


def render_markdown(plan: Plan) -> str:
    """The plan as a Markdown rollout document with a sign-off table."""
    environments = list(dict.fromkeys(plan.stage_environment(i) for i in range(len(plan.stages))))
    lines = [f"# Rollout plan: {plan.title or plan.flag}", ""]
    if plan.description:
        lines += [plan.description.strip(), ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| Flag | `{plan.flag}` |",
        f"| Environments | {' → '.join(environments)} |",
        f"| Mode | {plan.mode.value}"
        + (" (decisions are recorded, nothing is changed)" if plan.mode.value == "dry_run" else "")
        + " |",
        f"| Sticky on | {plan.stickiness} |",
        "| Today's audience | "
        + (
            "**may shrink**: the stages' audiences are exact, even where people lose the "
            "flag (`start.allow_shrink`)"
            if plan.start.allow_shrink
            else "kept: the plan starts from who has the flag today and only widens it"
        )
        + " |",
        f"| False-rollback budget | {plan.analysis.false_rollback_rate:.2%} of healthy releases |",
    ]
    if plan.owner:
        lines.append(f"| Owner | {plan.owner} |")
    lines += ["", "## Stages", ""]
    lines.append(
        "Each stage adds to the audience of the stages before it in the same environment. "
        "A stage advances when its soak time has passed, its minimum samples are in, every "
        "success criterion holds, and the next stage's approvals and checklist are done.",
    )
    lines.append("")
    for i, stage in enumerate(plan.stages):
        lines += _stage(plan, i, stage)
    lines += ["## Rollback triggers (every stage)", ""]
    if plan.rollback:
        lines += [*_triggers_table(plan.rollback), ""]
    else:
        lines += ["None besides the stage triggers above.", ""]
    if plan.budget is not None:
        lines += ["## Budget", "", *_triggers_table(plan.budget.triggers()), ""]
        lines.append(
            f"Cost projections count once a stage has run {format_duration(plan.budget.window)}."
        )
        lines.append("")
    lines += ["## Incidents", "", "| Severity | Action |", "|---|---|"]
    lines += [f"| {sev} | {_ACTIONS[action.value]} |" for sev, action in plan.incidents.items()]
    lines += ["", "## Approval sign-off", ""]
    lines += ["| Stage | Approver role | Approved by | Date | Notes |", "|---|---|---|---|---|"]
    for stage in plan.stages:
        if stage.approval is None:
            continue
        roles = " or ".join(stage.approval.roles)
        count = f" ×{stage.approval.count}" if stage.approval.count > 1 else ""
        note = _cell(stage.approval.note)
        lines.append(f"| {stage.name} | {roles}{count} | ____________ | ______ | {note} |")
    if not any(s.approval for s in plan.stages):
        lines.append("| (no stage needs an approval) | | | | |")
    return "\n".join(lines) + "\n"
