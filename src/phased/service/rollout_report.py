"""``phased rollout report KEY --format md``: the plan document with its blanks filled in.

The seeds' rollout documents leave "Actual" and "Status" columns for people
to fill in. This report fills them from what was measured: every stage that
ran is judged again on its own outcomes, at the moment it ended (or now, for
the stage in force), with the same ``decide`` the engine uses; approvals,
checklist ticks, incidents and the decision timeline come from the store.
"""

from __future__ import annotations

from datetime import datetime

from phased.core.decide import decide
from phased.core.durations import format_duration
from phased.core.gates import GateResult, Observations, StageOutcomes, Verdict
from phased.core.metric_format import fmt_metric
from phased.core.outcomes import metric_value
from phased.core.plans.audience import describe_audience
from phased.core.plans.check import OPERATORS, Check
from phased.core.plans.model import Plan
from phased.core.rollout_state import RolloutPhase, StageRun
from phased.service import outcomes
from phased.service import rollout_records as records
from phased.service.incidents import IncidentRecord, list_incidents
from phased.service.rollout_records import HistoryEntry, Rollout
from phased.store.engine import Store

STATUS = {
    Verdict.PASS: "✅",
    Verdict.FAIL: "❌",
    Verdict.WAITING: "⏳",
    Verdict.ERROR: "⚠️",
    Verdict.INCONCLUSIVE: "❔",
}
PHASES = {
    RolloutPhase.PENDING: "⏳ pending",
    RolloutPhase.RUNNING: "🔍 running",
    RolloutPhase.PAUSED: "⚠️ paused",
    RolloutPhase.ROLLED_BACK: "❌ rolled back",
    RolloutPhase.COMPLETED: "✅ completed",
}


def format_duration_seconds(seconds: float) -> str:
    """``3600`` -> ``1h``."""
    from datetime import timedelta

    return format_duration(timedelta(seconds=seconds))


def target_of(check: Check) -> str:
    """``< 1.00 %`` or ``not worse than control (+0.5 % tolerated)``."""
    if check.compare is None:
        return f"{OPERATORS[check.operator or 'below']} {fmt_metric(check.metric, check.threshold)}"
    parts = []
    if check.max_increase is not None:
        parts.append(f"+{fmt_metric(check.metric, check.max_increase)}")
    if check.max_increase_pct is not None:
        parts.append(f"+{check.max_increase_pct:g} %")
    return "not worse than control" + (f" ({' or '.join(parts)} tolerated)" if parts else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def judge_run(
    plan: Plan, rollout: Rollout, run: StageRun, measured: StageOutcomes, now: datetime
) -> tuple[GateResult, ...]:
    """Every requirement, gate and trigger of ``run``'s stage, judged on its own outcomes."""
    index = plan.stage_index(run.stage)
    at = run.ended_at or now
    state = rollout.state.model_copy(
        update={
            "phase": RolloutPhase.RUNNING,
            "stage": index,
            "stage_started_at": run.started_at,
            "incidents": (),
        }
    )
    return decide(plan, state, Observations(current=measured), at).evaluations


def build_report(store: Store, flag: str, *, rollout_id: int | None = None) -> str:
    """The Markdown report of the flag's latest rollout (or of rollout ``rollout_id``)."""
    now = store.clock()
    with store.read() as conn:
        rollout = records.pick(conn, flag, rollout_id)
        runs = rollout.state.runs
        measured = [outcomes.run_outcomes(conn, flag, run, now) for run in runs]
        timeline = [h for h in records.history(conn, rollout.id) if h.kind not in ("hold", "apply")]
    found = [i for i in list_incidents(store, flag=flag) if i.rollout_id == rollout.id]
    plan = rollout.plan
    judged = {
        i: judge_run(plan, rollout, run, m, now)
        for i, (run, m) in enumerate(zip(runs, measured, strict=True))
    }
    lines = [f"# Rollout report: {plan.title or plan.flag}", ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| Flag | `{plan.flag}` (rollout #{rollout.id}) |",
        f"| Plan | {rollout.plan_path} ({plan.mode.value}) |",
        f"| Status | {PHASES[rollout.state.phase]}: {_cell(rollout.state.reason)} |",
        f"| Applied | {_when(rollout.created_at)} by {rollout.created_by} |",
        f"| Report generated | {_when(now)} |",
        "",
        "## Stages",
        "",
        "| # | Stage | Audience | Started | Ended | Ran | Candidate requests | Error rate | "
        "p95 latency | Status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, stage in enumerate(plan.stages):
        mine = [k for k, run in enumerate(runs) if run.stage == stage.name]
        if not mine:
            lines.append(
                f"| {i + 1} | {stage.name} | {_cell(describe_audience(plan, i))} | — | — | — | "
                "— | — | — | not reached |"
            )
            continue
        for k in mine:
            run, m = runs[k], measured[k]
            cand = m.candidate
            ran = format_duration_seconds(m.elapsed_seconds)
            lines.append(
                f"| {i + 1} | {stage.name} | {_cell(describe_audience(plan, i))} | "
                f"{_when(run.started_at)} | {_when(run.ended_at)} | {ran} | {cand.requests:,} | "
                f"{fmt_metric('error_rate', metric_value('error_rate', cand))} | "
                f"{fmt_metric('latency_p95_ms', metric_value('latency_p95_ms', cand))} | "
                f"{_run_status(rollout, k, judged[k])} |"
            )
    lines += ["", "## Success criteria", ""]
    lines += ["| Stage | Criterion | Target | Actual | Status |", "|---|---|---|---|---|"]
    for stage in plan.stages:
        mine = [k for k, run in enumerate(runs) if run.stage == stage.name]
        results = judged[mine[-1]] if mine else ()
        for result in results:
            if result.kind == "trigger":
                continue
            gate = next((g for g in stage.gates if g.label == result.label), None)
            target = target_of(gate) if gate is not None else _requirement_target(result)
            lines.append(
                f"| {stage.name} | {_cell(result.label)} | {_cell(target)} | "
                f"{fmt_metric(result.metric, result.value)} | {STATUS[result.verdict]} |"
            )
        if not mine:
            for gate in stage.gates:
                lines.append(
                    f"| {stage.name} | {_cell(gate.label)} | {_cell(target_of(gate))} | — | "
                    "not reached |"
                )
    lines += _triggers(plan, runs, judged)
    lines += _signoff(rollout)
    lines += _incidents(found)
    lines += _timeline(timeline)
    return "\n".join(lines) + "\n"


def _requirement_target(result: GateResult) -> str:
    if result.threshold is None:
        return "—"
    return f"≥ {fmt_metric(result.metric, result.threshold)}"


def _run_status(rollout: Rollout, k: int, results: tuple[GateResult, ...]) -> str:
    runs = rollout.state.runs
    last = k == len(runs) - 1
    phase = rollout.state.phase
    if last and phase is RolloutPhase.ROLLED_BACK:
        return "❌ rolled back"
    if last and phase is RolloutPhase.COMPLETED:
        return "✅ passed (complete)"
    if last and runs[k].ended_at is None:
        return "⚠️ paused" if phase is RolloutPhase.PAUSED else "🔍 in progress"
    blocking = [r for r in results if r.kind != "trigger" and r.verdict is not Verdict.PASS]
    return "✅ passed" if not blocking else "⚠️ advanced with open criteria"


def _triggers(
    plan: Plan, runs: tuple[StageRun, ...], judged: dict[int, tuple[GateResult, ...]]
) -> list[str]:
    lines = ["", "## Rollback triggers", ""]
    lines += ["| Stage | Trigger | Actual | Status |", "|---|---|---|---|"]
    any_rows = False
    for k, run in enumerate(runs):
        for result in judged[k]:
            if result.kind != "trigger":
                continue
            any_rows = True
            status = {
                Verdict.PASS: "✅ quiet",
                Verdict.FAIL: "❌ fired",
                Verdict.WAITING: "⏳ waiting for data",
                Verdict.ERROR: "⚠️ error",
                Verdict.INCONCLUSIVE: "❔ inconclusive",
            }[result.verdict]
            lines.append(
                f"| {run.stage} | {_cell(result.label)} | "
                f"{fmt_metric(result.metric, result.value)} | {status} |"
            )
    if not any_rows:
        lines.append("| — | (no triggers, or no stage ran) | — | — |")
    return lines


def _signoff(rollout: Rollout) -> list[str]:
    lines = ["", "## Approval sign-off", ""]
    lines += ["| Stage | Approver role | Approved by | Date | Note |", "|---|---|---|---|---|"]
    rows = 0
    for stage in rollout.plan.stages:
        if stage.approval is None:
            continue
        roles = " or ".join(stage.approval.roles)
        given = [a for a in rollout.state.approvals if a.stage == stage.name]
        if not given:
            lines.append(f"| {stage.name} | {roles} | ____________ | ______ | |")
        for a in given:
            lines.append(f"| {stage.name} | {roles} | {a.actor} ({', '.join(a.roles)}) | "
                         f"{_when(a.at)} | {_cell(a.note)} |")  # fmt: skip
        rows += 1
    if not rows:
        lines.append("| (no stage needs an approval) | | | | |")
    ticks = rollout.state.checks
    if ticks or any(s.checklist for s in rollout.plan.stages):
        lines += [
            "",
            "### Checklists",
            "",
            "| Stage | Item | Ticked by | Date |",
            "|---|---|---|---|",
        ]
        for stage in rollout.plan.stages:
            for item in stage.checklist:
                tick = next((c for c in ticks if c.stage == stage.name and c.item == item), None)
                who = "☐" if tick is None else f"☑ {tick.actor}"
                at = None if tick is None else tick.at
                lines.append(f"| {stage.name} | {_cell(item)} | {who} | {_when(at)} |")
    return lines


def _incidents(found: list[IncidentRecord]) -> list[str]:
    if not found:
        return []
    lines = ["", "## Incidents", "", "| Id | Severity | Title | Opened | Resolved | Effect |"]
    lines.append("|---|---|---|---|---|---|")
    for i in reversed(found):
        lines.append(
            f"| {i.key} | {i.severity} | {_cell(i.title)} | {_when(i.opened_at)} by "
            f"{i.opened_by} | {_when(i.resolved_at)} | {i.action or '—'} |"
        )
    return lines


def _timeline(entries: list[HistoryEntry]) -> list[str]:
    lines = ["", "## Timeline", "", "| When | Who | Decision | Reason |", "|---|---|---|---|"]
    for h in entries:
        kind = (
            h.kind
            + (" (dry run)" if h.dry_run else "")
            + (" (forced)" if h.source == "forced" else "")
        )
        lines.append(f"| {_when(h.at)} | {h.actor} | {kind} | {_cell(h.reason)} |")
    if not entries:
        lines.append("| — | — | — | nothing happened yet |")
    return lines
