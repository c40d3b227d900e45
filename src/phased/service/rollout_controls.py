"""Manual controls of a running rollout: advance (or force it), pause, resume, roll back.

Each is a decision made by a person, applied exactly like the engine's
(:func:`phased.service.plan_rollouts.apply_in`): flag state, rollout state,
history, alert and audit entry in one transaction. Anyone may pull the brake
(pause, roll back); ``advance --force`` needs the admin role and skips the
measurements, never the approvals.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from phased.core.decide import AlertNote, Decision, DecisionKind, RollbackTo, decide
from phased.core.gates import GateResult, Verdict
from phased.core.hook_gate import awaiting_hooks
from phased.core.plans.audience import describe_audience
from phased.core.plans.model import Mode
from phased.core.rollout_state import (
    RolloutPhase,
    RolloutState,
    advanced_by_hand,
    close_run,
    enter_stage,
    pause,
    resume,
    rolled_back,
)
from phased.core.stage_entry import entry_waiting
from phased.errors import ConflictError, PermissionDeniedError, ValidationError
from phased.service import outcomes
from phased.service import rollout_records as records
from phased.service.base import Mutation, mutation
from phased.service.members import ADMIN, require_role
from phased.service.plan_rollouts import Applied, apply_in, check_environment_of, failing
from phased.service.rollout_records import Rollout
from phased.store.engine import Store


def _going(rollout: Rollout, doing: str) -> None:
    if not rollout.active:
        raise ConflictError(
            f"the rollout of {rollout.flag!r} is over ({rollout.phase}); cannot {doing}",
            field="flag",
        )


def _manual(
    rollout: Rollout,
    kind: DecisionKind,
    reason: str,
    *,
    state: RolloutState,
    at: datetime,
    alerts: tuple[AlertNote, ...] = (),
    evaluations: tuple[GateResult, ...] = (),
    rollback_to: RollbackTo | None = None,
) -> Decision:
    """A person's decision, shaped like the engine's so it is applied the same way."""
    return Decision(
        kind=kind,
        stage=rollout.plan.stages[min(state.stage, len(rollout.plan.stages) - 1)].name,
        stage_index=state.stage,
        reason=reason,
        at=at,
        dry_run=rollout.plan.mode is Mode.DRY_RUN,
        rollback_to=rollback_to,
        evaluations=evaluations,
        alerts=alerts,
        state=state,
    )


manual_decision = _manual
"""A person's decision (for :mod:`phased.service.guard`)."""


def advance(
    store: Store,
    *,
    actor: str | None,
    flag: str,
    force: bool = False,
    environment: str | None = None,
) -> Applied:
    """Move the rollout on now.

    Without ``force`` the engine's own decision is taken at once, and refused
    unless it is to advance or complete. With ``force`` (admin only) the
    soak time, sample counts and gates are skipped and the skip is audited;
    approvals and checklist items are still required.

    Raises:
        ConflictError: not ready (the message lists what blocks), paused, or over.
        PermissionDeniedError: ``force`` by someone without the admin role.
    """
    with mutation(store, actor) as m:
        rollout = records.require(m.conn, flag)
        check_environment_of(rollout, environment)
        _going(rollout, "advance it")
        if force:
            require_role(m.conn, m.actor, (ADMIN,), "force an advance")
        metrics = outcomes.observations(
            m.conn, rollout.flag, rollout.state.runs, m.now, rollout_id=rollout.id
        )
        decision = decide(rollout.plan, rollout.state, metrics, m.now)
        if not force:
            if decision.kind not in (DecisionKind.ADVANCE, DecisionKind.COMPLETE):
                raise ConflictError(
                    f"stage {rollout.stage.name} cannot advance yet: {decision.reason}; the "
                    "engine advances it once ready, or an admin can pass --force",
                    field="flag",
                )
            hooks = awaiting_hooks(rollout.plan, rollout.state, decision)
            if hooks is not None:
                raise ConflictError(
                    f"stage {rollout.stage.name} may advance, but {hooks} run in the engine; "
                    "it advances at its next pass (an admin's --force skips hooks)",
                    field="flag",
                )
            by_hand = decision.model_copy(
                update={"state": advanced_by_hand(decision.state, m.actor)}
            )
            applied = apply_in(m, rollout, by_hand, source="manual", details={"forced": False})
        else:
            applied = _forced(m, rollout, decision)
    return replace(applied, entries=tuple(m.entries))


def _forced(m: Mutation, rollout: Rollout, preview: Decision) -> Applied:
    state, plan = rollout.state, rollout.plan
    pending = state.phase is RolloutPhase.PENDING
    target = 0 if pending else state.stage + 1
    skipped = failing(preview) + [
        e.reason for e in preview.evaluations if e.verdict is Verdict.WAITING
    ]
    if target < len(plan.stages):
        waiting = entry_waiting(plan, target, state)
        if waiting:
            detail = "; ".join(w.detail for w in waiting)
            raise PermissionDeniedError(
                f"--force skips measurements, not approvals: stage {plan.stages[target].name} "
                f"still needs {detail}",
                field="force",
            )
        name = plan.stages[target].name
        reason = f"forced by {m.actor} to stage {name}: {describe_audience(plan, target)}" + (
            f" (skipped: {'; '.join(skipped)})" if skipped else ""
        )
        new = enter_stage(
            state,
            target,
            environment=plan.stage_environment(target),
            name=name,
            now=m.now,
            reason=reason,
        )
        kind = DecisionKind.ADVANCE
    else:
        reason = f"completed by {m.actor} (forced)" + (
            f"; skipped: {'; '.join(skipped)}" if skipped else ""
        )
        new = state.model_copy(
            update={
                "phase": RolloutPhase.COMPLETED,
                "runs": close_run(state.runs, m.now),
                "reason": reason,
            }
        )
        kind = DecisionKind.COMPLETE
    decision = _manual(
        rollout,
        kind,
        reason,
        state=advanced_by_hand(new, m.actor),
        at=m.now,
        evaluations=preview.evaluations,
    )
    return apply_in(
        m, rollout, decision, source="forced", details={"forced": True, "skipped": skipped}
    )


def pause_rollout(
    store: Store,
    *,
    actor: str | None,
    flag: str,
    reason: str = "",
    environment: str | None = None,
) -> Applied | None:
    """Hold the rollout where it is (None: it was paused already)."""
    with mutation(store, actor) as m:
        rollout = records.require(m.conn, flag)
        check_environment_of(rollout, environment)
        if rollout.state.phase is RolloutPhase.PAUSED:
            return None
        new = pause(rollout.state, m.actor, reason.strip(), m.now)
        note = AlertNote(severity="warning", key=f"pause:{rollout.stage.name}", message=new.reason)
        decision = _manual(
            rollout, DecisionKind.PAUSE, new.reason, state=new, at=m.now, alerts=(note,)
        )
        applied = apply_in(m, rollout, decision, source="manual")
    return replace(applied, entries=tuple(m.entries))


def resume_rollout(
    store: Store, *, actor: str | None, flag: str, environment: str | None = None
) -> Applied | None:
    """Let a paused rollout go on (None: it was not paused)."""
    with mutation(store, actor) as m:
        rollout = records.require(m.conn, flag)
        check_environment_of(rollout, environment)
        if rollout.state.phase is not RolloutPhase.PAUSED:
            return None
        new = resume(rollout.state, m.actor, m.now)
        decision = _manual(rollout, DecisionKind.HOLD, new.reason, state=new, at=m.now)
        applied = apply_in(m, rollout, decision, source="manual", name="resume")
    return replace(applied, entries=tuple(m.entries))


def rollback_rollout(
    store: Store,
    *,
    actor: str | None,
    flag: str,
    reason: str,
    environment: str | None = None,
) -> Applied:
    """Take the flag back to 0 % in the current stage's environment and end the rollout.

    Raises:
        ValidationError: no reason given.
    """
    if not reason or not reason.strip():
        raise ValidationError(
            "say why: --reason 'error rate above 1 %' (it goes into the audit and the alert)",
            field="reason",
        )
    with mutation(store, actor) as m:
        rollout = records.require(m.conn, flag)
        check_environment_of(rollout, environment)
        why = f"rolled back by {m.actor} at stage {rollout.stage.name}: {reason.strip()}"
        new = rolled_back(rollout.state, why, m.now)
        note = AlertNote(severity="critical", key=f"rollback:{rollout.stage.name}", message=why)
        decision = _manual(
            rollout,
            DecisionKind.ROLLBACK,
            why,
            state=new,
            at=m.now,
            alerts=(note,),
            rollback_to=RollbackTo.ZERO,
        )
        started = rollout.state.stage_started_at is not None
        applied = apply_in(m, rollout, decision, source="manual", touch_flag=started)
    return replace(applied, entries=tuple(m.entries))
