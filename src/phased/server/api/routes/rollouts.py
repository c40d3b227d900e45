"""Plans and rollouts: apply a plan, status, history, approve, check, advance, pause,
resume, roll back.

Approvals follow the plan: the calling token's role must be one the stage's
approval names (admin always may), its owner must hold that role as a member
(`phased member add`), and four-eyes applies: whoever applied or advanced the
rollout cannot approve it alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from phased.core.decide import Decision
from phased.server.api.deps import Approver, PlanRunner, Reader, Stopper, StoreDep
from phased.server.api.schemas import AuditEntryPublic
from phased.server.tracing import TracedRoute
from phased.service import approvals, plan_rollouts, policy, rollout_controls, rollout_summary
from phased.service.approvals import Recorded
from phased.service.plan_rollouts import Applied
from phased.service.rollout_records import Rollout
from phased.service.rollout_report import build_report

router = APIRouter(tags=["rollouts"], route_class=TracedRoute)


class RolloutPublic(BaseModel):
    """Where a rollout stands (`phased rollout status --json`)."""

    id: int
    flag: str
    environment: str
    phase: str = Field(description="pending, running, paused, rolled_back or completed")
    stage: str
    stage_index: int
    stages: list[str]
    mode: str
    plan_path: str
    started_by: str
    stage_started_at: str | None = None
    reason: str = ""
    version: int
    created_at: str | None = None
    updated_at: str | None = None
    ended_at: str | None = None
    created_by: str = Field(default="", description="Who applied the plan.")
    plan: dict[str, Any] = Field(
        default_factory=dict, description="The applied plan, as validated (JSON form)."
    )
    state: dict[str, Any] = Field(
        default_factory=dict,
        description="The engine's state: stage runs, approvals, checks, incidents.",
    )

    @classmethod
    def of(cls, rollout: Rollout) -> RolloutPublic:
        """From the service layer's rollout (plan and state included)."""
        return cls.model_validate(
            {
                **rollout.to_dict(),
                "created_by": rollout.created_by,
                "plan": rollout.plan.model_dump(mode="json"),
                "state": rollout.state.model_dump(mode="json"),
            }
        )


class DecisionPublic(BaseModel):
    """What the engine concludes (or concluded) with the gate evaluations behind it."""

    kind: str = Field(description="hold, advance, complete, pause or rollback")
    stage: str
    reason: str
    evaluations: list[dict[str, Any]] = Field(description="Each gate: value, threshold, verdict.")
    waiting_for: list[dict[str, Any]] = Field(description="Approvals and checklist items due.")
    stage_index: int = Field(default=0, description="The stage in force after the decision.")
    at: datetime | None = Field(default=None, description="When it was decided.")
    dry_run: bool = False
    rollback_to: str | None = Field(default=None, description="zero, disabled, previous_stage")
    alerts: list[dict[str, Any]] = Field(default_factory=list, description="Alerts it asks for.")


class RolloutStatus(BaseModel):
    """A rollout and what the engine would decide about it now."""

    rollout: RolloutPublic
    decision: DecisionPublic
    summary: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "The rollout at a glance, in words and plain numbers: phase, stage, what it "
            "waits for and who must act, earliest next stage, exposure per arm, every gate "
            "and trigger as candidate vs control (see docs/dashboard.md)."
        ),
    )


class AppliedPublic(BaseModel):
    """What a control did: the rollout afterwards, the decision and its audit entries."""

    rollout: RolloutPublic
    decision: DecisionPublic
    changed: bool = True
    audit: list[AuditEntryPublic]
    preview: list[dict[str, Any]] = Field(
        default_factory=list,
        description="For a plan just applied: per environment, who keeps, gains and loses "
        "the flag at its first stage there.",
    )


class RecordedPublic(BaseModel):
    """An approval or a ticked item, and what the stage still awaits."""

    rollout: RolloutPublic
    stage: str
    changed: bool = Field(description="False when it had been given already.")
    still_waiting: list[str]

    @classmethod
    def of(cls, recorded: Recorded) -> RecordedPublic:
        """The API form of what :mod:`phased.service.approvals` recorded."""
        return cls(
            rollout=RolloutPublic.of(recorded.rollout),
            stage=recorded.stage,
            changed=recorded.changed,
            still_waiting=list(recorded.still_waiting),
        )


class PlanApply(BaseModel):
    """A plan file to start a rollout with."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The plan (YAML).")
    path: str = Field(default="<request>", description="Named in errors and the audit entry.")
    environment: str | None = Field(default=None, description="Refuse a plan for another env.")
    allow_shrink: bool = Field(
        default=False,
        description="Let the stages' audiences be exact, even where people lose the flag "
        "(like the plan's start.allow_shrink).",
    )


class PlanPreviewRequest(BaseModel):
    """A plan file to preview against today's flag."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The plan (YAML).")
    path: str = Field(default="<request>", description="Named in errors.")
    allow_shrink: bool = False


class PlanPreviewPublic(BaseModel):
    """What the plan's first stage in each environment does to today's audience."""

    preview: list[dict[str, Any]]
    shrinks: bool = Field(description="Someone would lose the flag (plan apply refuses).")


class ApproveRequest(BaseModel):
    """Approve one stage ahead."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    environment: str | None = None
    note: str = Field(
        default="", max_length=1000, description="Kept with the approval (the sign-off table)."
    )


class CheckRequest(BaseModel):
    """Tick one checklist item."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1)
    stage: str | None = None
    environment: str | None = None


class AdvanceRequest(BaseModel):
    """Move on now; `force` (admin) skips soak, samples and gates, and is audited so."""

    model_config = ConfigDict(extra="forbid")

    force: bool = False
    environment: str | None = None


class ReasonRequest(BaseModel):
    """A control that records why."""

    model_config = ConfigDict(extra="forbid")

    reason: str = ""
    environment: str | None = None


def decision_public(decision: Decision) -> DecisionPublic:
    """The API form of a decision (everything but the next state)."""
    return DecisionPublic.model_validate(decision.model_dump(mode="json", exclude={"state"}))


def _applied(applied: Applied | None, store: Any, flag: str) -> AppliedPublic:
    if applied is None:
        rollout, decision = plan_rollouts.preview(store, flag)
        return AppliedPublic(
            rollout=RolloutPublic.of(rollout),
            decision=decision_public(decision),
            changed=False,
            audit=[],
        )
    return AppliedPublic(
        rollout=RolloutPublic.of(applied.rollout),
        decision=decision_public(applied.decision),
        audit=[AuditEntryPublic.of(e) for e in applied.entries],
        preview=[p.to_dict() for p in applied.preview],
    )


@router.post("/plans/preview", operation_id="preview_plan")
def preview_plan(body: PlanPreviewRequest, store: StoreDep, _who: Reader) -> PlanPreviewPublic:
    """What applying a plan would do to today's audience, per environment; nothing is written."""
    previews = plan_rollouts.plan_preview(
        store, text=body.text, path=body.path, allow_shrink=body.allow_shrink
    )
    return PlanPreviewPublic(
        preview=[p.to_dict() for p in previews], shrinks=any(p.change.shrinks for p in previews)
    )


@router.post("/plans/apply", operation_id="apply_plan", status_code=status.HTTP_201_CREATED)
def apply_plan(body: PlanApply, store: StoreDep, who: PlanRunner) -> AppliedPublic:
    """Start a rollout from a plan file; its first stage applies at once unless awaited.

    A plan keeps today's audience and only widens it; one that would take the
    flag from anyone is refused (422, field `start.allow_shrink`) unless it
    says `start: {allow_shrink: true}` or `allow_shrink` is true.
    """
    applied = plan_rollouts.apply_plan(
        store,
        actor=who.name,
        text=body.text,
        path=body.path,
        environment=body.environment,
        allow_shrink=body.allow_shrink,
    )
    return _applied(applied, store, applied.rollout.flag)


@router.get("/rollouts", operation_id="list_rollouts")
def list_rollouts(
    store: StoreDep, _who: Reader, active_only: bool = Query(default=False)
) -> list[RolloutPublic]:
    """Rollouts, going ones and finished ones."""
    return [
        RolloutPublic.of(r) for r in plan_rollouts.list_rollouts(store, active_only=active_only)
    ]


@router.get("/rollouts/{flag}", operation_id="rollout_status")
def rollout_status(flag: str, store: StoreDep, _who: Reader) -> RolloutStatus:
    """The flag's rollout, the engine's decision now and the summary (nothing is written)."""
    seen = rollout_summary.glance(store, flag)
    return RolloutStatus(
        rollout=RolloutPublic.of(seen.rollout),
        decision=decision_public(seen.live),
        summary=seen.summary.to_dict(),
    )


@router.get("/rollouts/{flag}/history", operation_id="rollout_history")
def rollout_history(
    flag: str,
    store: StoreDep,
    _who: Reader,
    limit: int = Query(default=50, ge=1, le=10_000),
    rollout: int | None = Query(default=None, ge=1, description="An older rollout's id."),
) -> list[dict[str, Any]]:
    """Recorded decisions about the rollout, newest first, with every gate evaluation."""
    entries = plan_rollouts.rollout_history(store, flag, limit=limit, rollout_id=rollout)
    return [e.to_dict() for e in entries]


@router.get(
    "/rollouts/{flag}/report",
    operation_id="rollout_report",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/markdown": {}}, "description": "The report (Markdown)."}},
)
def rollout_report(
    flag: str,
    store: StoreDep,
    _who: Reader,
    rollout: int | None = Query(default=None, ge=1, description="An older rollout's id."),
) -> PlainTextResponse:
    """The rollout as a document, Actual / Status filled from what was measured."""
    text = build_report(store, flag, rollout_id=rollout)
    return PlainTextResponse(text, media_type="text/markdown")


@router.post("/rollouts/{flag}/approve", operation_id="approve_stage")
def approve(flag: str, body: ApproveRequest, store: StoreDep, who: Approver) -> RecordedPublic:
    """Approve a stage ahead (the plan's roles and four-eyes apply)."""
    policy.check_stage_approver(
        plan_rollouts.get_rollout(store, flag, going=True), body.stage, who.role
    )
    recorded = approvals.approve(
        store,
        actor=who.name,
        flag=flag,
        stage=body.stage,
        environment=body.environment,
        note=body.note,
    )
    return RecordedPublic.of(recorded)


@router.post("/rollouts/{flag}/check", operation_id="check_item")
def check(flag: str, body: CheckRequest, store: StoreDep, who: PlanRunner) -> RecordedPublic:
    """Tick a checklist item of a stage ahead."""
    recorded = approvals.check(
        store,
        actor=who.name,
        flag=flag,
        item=body.item,
        stage=body.stage,
        environment=body.environment,
    )
    return RecordedPublic.of(recorded)


@router.post("/rollouts/{flag}/advance", operation_id="advance_rollout")
def advance(flag: str, body: AdvanceRequest, store: StoreDep, who: PlanRunner) -> AppliedPublic:
    """Advance now if the engine agrees (409 lists what blocks); `force` needs an admin."""
    if body.force:
        policy.check_force(who.role)
    applied = rollout_controls.advance(
        store, actor=who.name, flag=flag, force=body.force, environment=body.environment
    )
    return _applied(applied, store, flag)


@router.post("/rollouts/{flag}/pause", operation_id="pause_rollout")
def pause(flag: str, body: ReasonRequest, store: StoreDep, who: Stopper) -> AppliedPublic:
    """Hold the rollout where it is (`changed: false` if it was paused already)."""
    applied = rollout_controls.pause_rollout(
        store, actor=who.name, flag=flag, reason=body.reason, environment=body.environment
    )
    return _applied(applied, store, flag)


@router.post("/rollouts/{flag}/resume", operation_id="resume_rollout")
def resume(flag: str, body: ReasonRequest, store: StoreDep, who: PlanRunner) -> AppliedPublic:
    """Let a paused rollout go on (`changed: false` if it was not paused)."""
    applied = rollout_controls.resume_rollout(
        store, actor=who.name, flag=flag, environment=body.environment
    )
    return _applied(applied, store, flag)


@router.post("/rollouts/{flag}/rollback", operation_id="rollback_rollout")
def rollback(flag: str, body: ReasonRequest, store: StoreDep, who: Stopper) -> AppliedPublic:
    """Take the flag back to 0 % and end the rollout; `reason` is required."""
    applied = rollout_controls.rollback_rollout(
        store, actor=who.name, flag=flag, reason=body.reason, environment=body.environment
    )
    return _applied(applied, store, flag)
