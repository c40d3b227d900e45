"""A rollout at a glance, in words and plain numbers: one summary for the CLI, API and page.

``summarize(plan, state, decision, metrics, now)`` is pure. It says where the
rollout is (phase and stage in words), what it waits for and who must act
(approvals with their roles, checklist items, soak time left, minimum
samples, gates still short of their target), when the next stage can start
at the earliest, how many requests and users each arm has seen, and every
gate and trigger as candidate versus control in the metric's own unit with
the judge's verdict in words and how much worse the candidate would have to
get to trip each trigger.

The analysis exposes evidence (an e-value and the level it must reach), not
confidence bounds; the summary shows the observed effect and the evidence as
a fraction of what a rollback needs, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from phased.core.check_lines import CheckLine, check_line, gate_words
from phased.core.decide import Decision, DecisionKind
from phased.core.durations import format_duration
from phased.core.gates import Observations, StageOutcomes, Verdict
from phased.core.plans.audience import describe_audience
from phased.core.plans.model import Plan
from phased.core.rollout_state import RolloutPhase, RolloutState
from phased.core.stage_entry import entry_waiting

RUNNERS = ("developer", "pm", "admin")
"""Roles that may tick checklist items, resume and advance (the API's ``run_plans``)."""

WaitKind = Literal["approval", "checklist", "soak", "samples", "gate", "paused", "incident"]

PHASE_WORDS = {
    RolloutPhase.PENDING: "pending",
    RolloutPhase.RUNNING: "running",
    RolloutPhase.PAUSED: "paused",
    RolloutPhase.ROLLED_BACK: "rolled back",
    RolloutPhase.COMPLETED: "completed",
}


@dataclass(frozen=True, slots=True)
class Wait:
    """One thing the rollout waits for before it can move on."""

    kind: WaitKind
    stage: str
    detail: str
    """In words: ``approval by pm (0 of 1 given)``, ``soak: 12h left``."""
    who: tuple[str, ...] = ()
    """Roles that must act; empty when only time or traffic can help."""
    until: datetime | None = None
    """For a soak: when it ends."""


@dataclass(frozen=True, slots=True)
class ArmExposure:
    """What one arm has seen."""

    requests: int
    users: int


@dataclass(frozen=True, slots=True)
class Exposure:
    """Requests and users per arm: in the stage in force (or the last one) and in all stages."""

    stage: str
    candidate: ArmExposure
    control: ArmExposure
    total_candidate_requests: int
    total_control_requests: int


@dataclass(frozen=True, slots=True)
class StepPoint:
    """The exposure step chart: from ``at`` on, ``percent`` of users in ``stage``."""

    at: datetime
    percent: float
    stage: str
    audience: str


@dataclass(frozen=True, slots=True)
class RolloutSummary:
    """Everything the at-a-glance view says (see the module docs)."""

    flag: str
    phase: str
    """The phase in words: pending, running, paused, rolled back, completed."""
    status: str
    """One short line for lists: what the rollout waits for, or how it ended."""
    stage: str
    stage_number: int
    stage_count: int
    stage_words: str
    """``stage 2 of 5 (admin-canary): segment admins in prod``."""
    environment: str
    waits: tuple[Wait, ...]
    who_must_act: tuple[str, ...]
    earliest_next: datetime | None
    """The earliest moment the next stage (or completion) can happen; None: not time-bound."""
    next_words: str
    exposure: Exposure | None
    checks: tuple[CheckLine, ...]
    steps: tuple[StepPoint, ...] = field(default=())
    decision: str = ""
    """What the engine would do now (hold, advance, ...) and why."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (datetimes as ISO text)."""

        def fix(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: fix(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [fix(v) for v in value]
            return value

        out: dict[str, Any] = fix(asdict(self))
        return out


def _waits(plan: Plan, state: RolloutState, decision: Decision, now: datetime) -> list[Wait]:
    phase = state.phase
    if phase.is_terminal:
        return []
    stage = plan.stages[min(state.stage, len(plan.stages) - 1)]
    out: list[Wait] = []
    for incident in state.open_incidents():
        out.append(
            Wait(
                "incident",
                stage.name,
                f"incident {incident.id} ({incident.severity}) is open",
                who=RUNNERS,
            )
        )
    if phase is RolloutPhase.PAUSED:
        out.append(
            Wait(
                "paused",
                stage.name,
                f"{state.paused_reason or 'paused'}; resume or roll back",
                who=RUNNERS,
            )
        )
    for result in decision.evaluations:
        if result.verdict is Verdict.PASS or result.kind == "trigger":
            continue
        if result.metric == "soak" and result.value is not None and result.threshold is not None:
            # Whole minutes, rounded up: "1m left" until the soak is really over.
            left = timedelta(minutes=math.ceil(max(result.threshold - result.value, 0) / 60))
            until = (state.stage_started_at or now) + timedelta(seconds=result.threshold)
            out.append(Wait("soak", stage.name, f"soak: {format_duration(left)} left", until=until))
        elif result.kind == "requirement":
            have = int(result.value or 0)
            need = int(result.threshold or 0)
            out.append(
                Wait(
                    "samples",
                    stage.name,
                    f"minimum sample: {have:,} of {need:,} candidate {result.metric}",
                )
            )
        else:
            out.append(Wait("gate", stage.name, f"gate {result.label}: {gate_words(result)}"))
    ahead = list(decision.waiting_for)
    index = min(state.stage, len(plan.stages) - 1)
    if phase is RolloutPhase.RUNNING and not ahead and index + 1 < len(plan.stages):
        # What the next stage will need: a PM can approve while this one still soaks.
        ahead = entry_waiting(plan, index + 1, state)
    for waiting in ahead:
        if waiting.kind == "approval":
            out.append(Wait("approval", waiting.stage, waiting.detail, who=waiting.roles))
        else:
            out.append(Wait("checklist", waiting.stage, waiting.detail, who=RUNNERS))
    return out


def _exposure(metrics: Observations) -> Exposure | None:
    stages: list[StageOutcomes] = [*metrics.earlier]
    if metrics.current is not None:
        stages.append(metrics.current)
    if not stages:
        return None
    last = stages[-1]
    return Exposure(
        stage=last.stage,
        candidate=ArmExposure(last.candidate.requests, last.candidate.users.estimate()),
        control=ArmExposure(last.control.requests, last.control.users.estimate()),
        total_candidate_requests=sum(s.candidate.requests for s in stages),
        total_control_requests=sum(s.control.requests for s in stages),
    )


def exposure_steps(plan: Plan, state: RolloutState, now: datetime) -> tuple[StepPoint, ...]:
    """The share of users over time: one point per stage run, and 0 % after a rollback."""
    out: list[StepPoint] = []
    for run in state.runs:
        try:
            index = plan.stage_index(run.stage)
        except KeyError:
            continue
        out.append(
            StepPoint(
                run.started_at,
                plan.cumulative_percent(index),
                run.stage,
                describe_audience(plan, index),
            )
        )
    if state.phase is RolloutPhase.ROLLED_BACK and state.runs:
        end = state.runs[-1].ended_at or now
        out.append(StepPoint(end, 0.0, "rolled back", "nobody"))
    return tuple(out)


def _earliest(
    plan: Plan, state: RolloutState, decision: Decision, waits: list[Wait], now: datetime
) -> tuple[datetime | None, str]:
    phase = state.phase
    if phase is RolloutPhase.COMPLETED:
        return None, "nothing: the rollout is complete"
    if phase is RolloutPhase.ROLLED_BACK:
        return None, "nothing: the rollout was rolled back (apply the plan again to restart)"
    last = state.stage >= len(plan.stages) - 1 and phase is not RolloutPhase.PENDING
    what = (
        "completion"
        if last
        else "the first stage"
        if phase is RolloutPhase.PENDING
        else "the next stage"
    )
    if decision.kind in (DecisionKind.ADVANCE, DecisionKind.COMPLETE):
        return now, f"{what}: now (the engine's next pass)"
    soak = next((w for w in waits if w.kind == "soak"), None)
    people = [w for w in waits if w.who]
    when = soak.until if soak is not None else None
    parts = []
    if when is not None:
        parts.append(f"not before {when:%Y-%m-%d %H:%M} UTC")
    if people:
        roles = sorted({r for w in people for r in w.who})
        verb = "acts" if len(roles) == 1 else "act"
        parts.append(f"once {' or '.join(roles)} {verb}")
    if any(w.kind in ("samples", "gate") for w in waits):
        parts.append("once enough traffic has been measured")
    if not parts:
        return when, f"{what}: when the engine next passes"
    return when, f"{what}: " + ", ".join(parts)


def _status(
    plan: Plan,
    state: RolloutState,
    waits: list[Wait],
    decision: Decision,
    index: int,
    *,
    checks: list[CheckLine],
) -> str:
    phase = state.phase
    name = plan.stages[index].name
    if phase is RolloutPhase.COMPLETED:
        return f"completed after stage {name}"
    if phase is RolloutPhase.ROLLED_BACK:
        fired = [c for c in checks if c.kind == "trigger" and c.verdict == "fail"]
        if fired and state.reason.startswith(("rolled back at", "disabled at")):
            c = fired[0]
            value = c.candidate + (f" vs control {c.control}" if c.control else "")
            return f"rolled back at stage {name}: {c.label} ({value}; {c.target})"
        return state.reason or f"rolled back at stage {name}"
    held = [w for w in waits if w.kind in ("paused", "incident")]
    measuring = [w for w in waits if w.kind in ("soak", "samples", "gate")]
    people = [w for w in waits if w.kind in ("approval", "checklist")]
    if measuring and not held:
        text = "measuring: " + "; ".join(w.detail for w in measuring[:2])
        if people:
            text += f"; then stage {people[0].stage} needs {people[0].detail}"
        return text
    people = held + people
    if people:
        first = people[0]
        more = f" (+{len(people) - 1} more)" if len(people) > 1 else ""
        stage = f" for stage {first.stage}" if first.kind in ("approval", "checklist") else ""
        return f"waits{stage}: {first.detail}{more}"
    if decision.kind is not DecisionKind.HOLD:
        return f"ready: would {decision.kind.value} now"
    return decision.reason


def summarize(
    plan: Plan, state: RolloutState, decision: Decision, metrics: Observations, now: datetime
) -> RolloutSummary:
    """The rollout at a glance (see the module docs); ``decision`` is ``decide``'s for ``now``."""
    index = min(state.stage, len(plan.stages) - 1)
    stage = plan.stages[index]
    waits = _waits(plan, state, decision, now)
    who: list[str] = []
    for w in waits:
        who += [r for r in w.who if r not in who]
    earliest, next_words = _earliest(plan, state, decision, waits, now)
    checks = []
    for result in decision.evaluations:
        line = check_line(plan, index, result, state.phase)
        if line is not None:
            checks.append(line)
    if state.phase is RolloutPhase.PENDING:
        where = f"not started; stage 1 of {len(plan.stages)} ({stage.name}) comes first"
    else:
        where = f"stage {index + 1} of {len(plan.stages)} ({stage.name})"
    return RolloutSummary(
        flag=plan.flag,
        phase=PHASE_WORDS[state.phase],
        status=_status(plan, state, waits, decision, index, checks=checks),
        stage=stage.name,
        stage_number=index + 1,
        stage_count=len(plan.stages),
        stage_words=f"{where}: {describe_audience(plan, index)}",
        environment=plan.stage_environment(index),
        waits=tuple(waits),
        who_must_act=tuple(who),
        earliest_next=earliest,
        next_words=next_words,
        exposure=_exposure(metrics),
        checks=tuple(checks),
        steps=exposure_steps(plan, state, now),
        decision=f"{decision.kind.value}: {decision.reason}",
    )


def describe(summary: Mapping[str, Any]) -> list[str]:
    """The summary (its ``to_dict`` form, local or from the API) as plain lines of text."""
    lines = [f"{summary['phase']}: {summary['stage_words']}"]
    for wait in summary["waits"]:
        who = f" (who: {', '.join(wait['who'])})" if wait["who"] else ""
        lines.append(f"  waits for {wait['detail']}{who}")
    lines.append(f"  next: {summary['next_words']}")
    exposure = summary.get("exposure")
    if exposure:
        cand, ctrl = exposure["candidate"], exposure["control"]
        lines.append(
            f"  exposure in {exposure['stage']}: candidate {cand['requests']:,} requests, "
            f"{cand['users']:,} users; control {ctrl['requests']:,} requests, "
            f"{ctrl['users']:,} users"
        )
    for check in summary["checks"]:
        value = check["candidate"]
        if check["control"] is not None:
            value += f" vs control {check['control']}"
            if check["effect"]:
                value += f" ({check['effect']})"
        line = f"  {check['kind']} {check['label']}: {value}, target {check['target']}: "
        line += check["words"]
        if check["headroom"]:
            line += f"; {check['headroom']}"
        if check["action"]:
            line += f"; then it {check['action']}"
        lines.append(line)
    return lines
