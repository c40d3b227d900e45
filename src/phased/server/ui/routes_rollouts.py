"""Rollouts: the stage timeline, gate charts, decision history and the people's controls.

A control is shown only to roles the API would let use it (approve: the
stage's approval roles or admin; tick, advance, resume: plan runners; pause,
roll back: anyone who may stop; forced advance: admin), and every control
calls the ``/api/v1`` operation itself, so the checks are the API's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from phased.core.decide import Decision
from phased.core.durations import format_duration
from phased.core.plans.audience import describe_audience
from phased.core.rollout_state import RolloutPhase
from phased.core.summary import RolloutSummary
from phased.server.auth import Permission
from phased.server.tracing import TracedRoute
from phased.server.ui.charts import Series, gate_series, render_exposure, render_svg
from phased.server.ui.history_view import Line, story_lines
from phased.server.ui.plan_view import plan_view
from phased.server.ui.render import act, form_of, page
from phased.server.ui.session import Session, SessionDep, state_of
from phased.service import (
    approvals,
    members,
    plan_rollouts,
    policy,
    rollout_controls,
    rollout_summary,
)
from phased.service import audit as audit_service
from phased.service import compare as compare_service
from phased.service.rollout_records import HistoryEntry, Rollout
from phased.service.tokens import Role
from phased.store.engine import Store

router = APIRouter(prefix="/ui/rollouts", route_class=TracedRoute)

HISTORY_READ = 400
"""Recorded decisions read for the charts."""
HISTORY_LISTED = 40
"""Lines of the story listed on the page (the API serves every decision)."""
AUDIT_READ = 1000
"""Audit entries of the rollout and its flag read to link the story's lines."""


@dataclass(frozen=True, slots=True)
class StageView:
    """One stage on the timeline."""

    index: int
    name: str
    description: str
    audience: str
    environment: str
    status: str
    """done, current, paused, rolled_back, next or ahead."""
    soak: str
    approval_roles: tuple[str, ...]
    approval_count: int
    approved_by: tuple[str, ...]
    checklist: tuple[tuple[str, str | None], ...]
    """Each item and who ticked it (None: not yet)."""
    gates: tuple[str, ...]
    started_at: datetime | None
    ended_at: datetime | None
    can_approve: bool
    can_tick: bool


def _status(rollout: Rollout, index: int) -> str:
    phase, at = rollout.state.phase, rollout.state.stage
    if phase is RolloutPhase.COMPLETED:
        return "done"
    if phase is RolloutPhase.PENDING or (phase is RolloutPhase.PAUSED and not rollout.state.runs):
        return "next" if index == at else "ahead"
    if index < at:
        return "done"
    if index > at:
        return "next" if index == at + 1 and phase is RolloutPhase.RUNNING else "ahead"
    return {
        RolloutPhase.PAUSED: "paused",
        RolloutPhase.ROLLED_BACK: "rolled_back",
    }.get(phase, "current")


def _stages(rollout: Rollout, session: Session, held: tuple[str, ...]) -> list[StageView]:
    """The timeline; ``held`` are the roles the session's owner holds as a member."""
    state, plan = rollout.state, rollout.plan
    role = session.principal.role
    out = []
    for i, stage in enumerate(plan.stages):
        status = _status(rollout, i)
        ahead = status in ("next", "ahead") and rollout.active
        approval = stage.approval
        approved = tuple(a.actor for a in state.approvals if a.stage == stage.name)
        ticked = {c.item: c.actor for c in state.checks if c.stage == stage.name}
        runs = [r for r in state.runs if r.stage == stage.name]
        # The API's checks, so a button is never offered only to be refused: the
        # token's role (admin always), the member's roles, and four-eyes.
        may_approve = (
            approval is not None
            and (role is Role.ADMIN or role.value in approval.roles)
            and bool(set(approval.roles) & set(held))
            and not (session.name in state.requesters and approval.count == 1)
        )
        out.append(
            StageView(
                index=i,
                name=stage.name,
                description=stage.description or "",
                audience=describe_audience(plan, i),
                environment=plan.stage_environment(i),
                status=status,
                soak=format_duration(stage.min_duration) if stage.min_duration else "",
                approval_roles=approval.roles if approval else (),
                approval_count=approval.count if approval else 0,
                approved_by=approved,
                checklist=tuple((item, ticked.get(item)) for item in stage.checklist),
                gates=tuple(g.label for g in stage.gates),
                started_at=runs[-1].started_at if runs else None,
                ended_at=runs[-1].ended_at if runs else None,
                can_approve=(
                    ahead
                    and may_approve
                    and session.can(Permission.APPROVE)
                    and session.name not in approved
                ),
                can_tick=ahead and bool(stage.checklist) and session.can(Permission.RUN_PLANS),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class RolloutPage:
    """Everything the rollout page shows."""

    rollout: Rollout
    decision: Decision
    history: list[HistoryEntry]
    charts: list[tuple[Series, str]]
    held: tuple[str, ...]
    """The roles the viewer holds as a member (approvals need them)."""
    summary: RolloutSummary
    exposure_svg: str
    story: list[Line]


def _load(store: Store, flag: str, viewer: str) -> RolloutPage:
    seen = rollout_summary.glance(store, flag)
    rollout, decision = seen.rollout, seen.live
    history = plan_rollouts.rollout_history(store, flag, limit=HISTORY_READ)
    charts = [(s, str(render_svg(s))) for s in gate_series(history)]
    with store.read() as conn:
        member = members.load_member(conn, viewer)
    held = member.roles if member is not None else ()
    exposure = str(render_exposure(seen.summary.steps, store.clock()))
    recorded = audit_service.recent(store, limit=AUDIT_READ, entity=rollout.flag)
    story = story_lines(rollout, history, recorded)
    return RolloutPage(rollout, decision, history, charts, held, seen.summary, exposure, story)


@router.get("", include_in_schema=False)
async def rollout_list(request: Request, session: SessionDep) -> Response:
    """Every rollout, going ones first."""
    store = state_of(request).store
    seen = await run_in_threadpool(rollout_summary.glance_all, store)
    return page(
        request,
        "rollouts.html",
        session,
        title="Rollouts",
        nav="rollouts",
        rollouts=[g.rollout for g in seen],
        glances=seen,
    )


@router.get("/{flag}", include_in_schema=False)
async def rollout_detail(request: Request, session: SessionDep, flag: str) -> Response:
    """One rollout: timeline, what the engine would decide now, charts, history, controls."""
    data = await run_in_threadpool(_load, state_of(request).store, flag, session.name)
    mismatches = await run_in_threadpool(
        compare_service.list_mismatches, state_of(request).store, flag, limit=20
    )
    rollout = data.rollout
    phase = rollout.state.phase
    return page(
        request,
        "rollout.html",
        session,
        title=f"Rollout {flag}",
        nav="rollouts",
        r=rollout,
        stages=_stages(rollout, session, data.held),
        decision=data.decision,
        summary=data.summary,
        exposure_svg=data.exposure_svg,
        plan=plan_view(rollout.plan),
        history=data.story,
        history_shown=HISTORY_LISTED,
        charts=data.charts,
        can_advance=rollout.active
        and phase is not RolloutPhase.PAUSED
        and session.can(Permission.RUN_PLANS),
        can_force=rollout.active and session.can(Permission.ADMIN),
        can_pause=rollout.active
        and phase is not RolloutPhase.PAUSED
        and session.can(Permission.STOP),
        can_resume=phase is RolloutPhase.PAUSED and session.can(Permission.RUN_PLANS),
        can_rollback=rollout.active and session.can(Permission.STOP),
        mismatches=mismatches,
        can_resolve=session.can(Permission.RUN_PLANS),
    )


def _back(flag: str) -> str:
    return f"/ui/rollouts/{flag}"


@router.post("/{flag}/approve", include_in_schema=False)
async def approve(request: Request, session: SessionDep, flag: str) -> Response:
    """Approve a stage ahead."""
    form = await form_of(request)
    stage = form.get("stage", "")
    note = form.get("note", "").strip()
    store = state_of(request).store

    def run() -> str:
        who = session.principal
        policy.check_stage_approver(
            plan_rollouts.get_rollout(store, flag, going=True), stage, who.role
        )
        done = approvals.approve(store, actor=who.name, flag=flag, stage=stage, note=note)
        if not done.changed:
            return f"You had already approved stage {stage}."
        rest = "; ".join(done.still_waiting)
        return f"Approved stage {stage} of {flag}." + (f" Still needed: {rest}." if rest else "")

    return await act(
        request,
        session,
        form,
        permission=Permission.APPROVE,
        confirm=f"Approve stage {stage} of {flag} as {session.name}?"
        + (f" Note: {note}" if note else ""),
        back=_back(flag),
        run=run,
    )


@router.post("/{flag}/check", include_in_schema=False)
async def check(request: Request, session: SessionDep, flag: str) -> Response:
    """Tick a checklist item of a stage ahead."""
    form = await form_of(request)
    item, stage = form.get("item", ""), form.get("stage") or None
    store = state_of(request).store

    def run() -> str:
        done = approvals.check(
            store, actor=session.principal.name, flag=flag, item=item, stage=stage
        )
        return f"Ticked {item!r} for stage {done.stage}." if done.changed else "Already ticked."

    return await act(
        request,
        session,
        form,
        permission=Permission.RUN_PLANS,
        confirm=f"Tick {item!r} for stage {stage} of {flag} as {session.name}?",
        back=_back(flag),
        run=run,
    )


@router.post("/{flag}/advance", include_in_schema=False)
async def advance(request: Request, session: SessionDep, flag: str) -> Response:
    """Advance now if the engine agrees; forced (admin) skips soak, samples and gates."""
    form = await form_of(request)
    force = form.get("force") == "yes"
    store = state_of(request).store

    def run() -> str:
        if force:
            policy.check_force(session.principal.role)
        done = rollout_controls.advance(store, actor=session.principal.name, flag=flag, force=force)
        return f"{done.decision.kind}: {done.decision.reason}"

    verb = "Force the advance of" if force else "Advance"
    return await act(
        request,
        session,
        form,
        permission=Permission.ADMIN if force else Permission.RUN_PLANS,
        confirm=f"{verb} {flag} to its next stage?",
        back=_back(flag),
        run=run,
    )


@router.post("/{flag}/pause", include_in_schema=False)
async def pause(request: Request, session: SessionDep, flag: str) -> Response:
    """Hold the rollout where it is."""
    form = await form_of(request)
    reason = form.get("reason", "").strip()
    store = state_of(request).store

    def run() -> str:
        done = rollout_controls.pause_rollout(
            store, actor=session.principal.name, flag=flag, reason=reason
        )
        return f"Paused {flag}." if done is not None else f"{flag} was paused already."

    return await act(
        request,
        session,
        form,
        permission=Permission.STOP,
        confirm=f"Pause {flag} where it is?",
        back=_back(flag),
        run=run,
    )


@router.post("/{flag}/resume", include_in_schema=False)
async def resume(request: Request, session: SessionDep, flag: str) -> Response:
    """Let a paused rollout go on."""
    form = await form_of(request)
    store = state_of(request).store

    def run() -> str:
        done = rollout_controls.resume_rollout(store, actor=session.principal.name, flag=flag)
        return f"Resumed {flag}." if done is not None else f"{flag} was not paused."

    return await act(
        request,
        session,
        form,
        permission=Permission.RUN_PLANS,
        confirm=f"Resume {flag}?",
        back=_back(flag),
        run=run,
    )


@router.post("/{flag}/rollback", include_in_schema=False)
async def rollback(request: Request, session: SessionDep, flag: str) -> Response:
    """Take the flag back to 0 % and end the rollout."""
    form = await form_of(request)
    reason = form.get("reason", "").strip()
    store = state_of(request).store

    def run() -> str:
        done = rollout_controls.rollback_rollout(
            store, actor=session.principal.name, flag=flag, reason=reason
        )
        return f"Rolled back {flag}: {done.decision.reason}"

    return await act(
        request,
        session,
        form,
        permission=Permission.STOP,
        confirm=f"Roll back {flag} to 0 % and end the rollout? Reason: {reason or '(none)'}",
        back=_back(flag),
        run=run,
    )
