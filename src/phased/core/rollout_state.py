"""The state of one rollout: where it is, since when, and what people have done.

It is a pydantic model so the store keeps it as JSON and ``decide`` reads it
back unchanged. Each change a person makes (approve, tick, pause, resume,
roll back, open an incident, advance by hand) is one pure function here; the
engine's own changes come from ``decide`` as ``Decision.state``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from phased.core.flags import FlagState


class RolloutPhase(StrEnum):
    """Where a rollout is in its life."""

    PENDING = "pending"  # created; the first stage is not applied yet (approval may be due)
    RUNNING = "running"  # a stage is applied and being measured
    PAUSED = "paused"  # held for a person: a trigger, the budget, an incident or by hand
    ROLLED_BACK = "rolled_back"  # the plan's audience was removed; the rollout is over
    COMPLETED = "completed"  # the last stage passed; the flag stays as the last stage set it

    @property
    def is_terminal(self) -> bool:
        """No decision changes a rollout in this phase any more."""
        return self in (RolloutPhase.ROLLED_BACK, RolloutPhase.COMPLETED)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalRecord(_Record):
    """One person's approval of one stage, with the roles they held when approving."""

    stage: str
    actor: str
    roles: tuple[str, ...]
    at: datetime
    note: str = ""
    """What the approver wrote (``rollout approve --note``), shown in the sign-off table."""


class CheckRecord(_Record):
    """One ticked checklist item of one stage."""

    stage: str
    item: str
    actor: str
    at: datetime
    evidence: str | None = None
    """What ticked it when it was not a person's word: a golden run (``golden-run:7``)."""


class Incident(_Record):
    """An incident opened against the rollout (P0 rolls back by default)."""

    id: str
    severity: str
    title: str = ""
    opened_by: str = ""
    opened_at: datetime
    resolved_at: datetime | None = None


class StageRun(_Record):
    """When one stage was in force (the service reads its outcome windows from this)."""

    stage: str
    environment: str
    started_at: datetime
    ended_at: datetime | None = None


class RolloutState(BaseModel):
    """Everything ``decide`` needs to know about a rollout besides the plan and the metrics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flag: str
    phase: RolloutPhase = RolloutPhase.PENDING
    stage: int = Field(default=0, ge=0, description="Index of the current (or first) stage.")
    started_by: str = Field(default="", description="Who applied the plan.")
    last_advanced_by: str | None = Field(default=None, description="Who last advanced by hand.")
    created_at: datetime | None = None
    stage_started_at: datetime | None = None
    approvals: tuple[ApprovalRecord, ...] = ()
    checks: tuple[CheckRecord, ...] = ()
    incidents: tuple[Incident, ...] = ()
    runs: tuple[StageRun, ...] = ()
    paused_reason: str | None = None
    reason: str = Field(default="", description="Why the last transition happened.")
    baseline: dict[str, FlagState] = Field(
        default_factory=dict,
        description="Each environment's flag state when the plan was applied: its audience "
        "is kept (empty for a plan that may shrink: start.allow_shrink).",
    )

    def open_incidents(self) -> tuple[Incident, ...]:
        """Incidents not yet resolved."""
        return tuple(i for i in self.incidents if i.resolved_at is None)

    @property
    def requesters(self) -> frozenset[str]:
        """People who cannot approve alone: who applied the plan and who last advanced it."""
        return frozenset(p for p in (self.started_by, self.last_advanced_by) if p)


def new_rollout(
    flag: str, actor: str, now: datetime, baseline: dict[str, FlagState] | None = None
) -> RolloutState:
    """A rollout of ``flag`` applied by ``actor``: pending until ``decide`` starts it.

    Args:
        baseline: the flag's state per environment now; the stages keep its audience.
    """
    return RolloutState(
        flag=flag,
        started_by=actor,
        created_at=now,
        reason=f"applied by {actor}",
        baseline=dict(baseline or {}),
    )


def approve(
    state: RolloutState,
    stage: str,
    actor: str,
    roles: tuple[str, ...],
    now: datetime,
    *,
    note: str = "",
) -> RolloutState:
    """Record ``actor``'s approval of ``stage`` (the same person twice counts once)."""
    if any(a.stage == stage and a.actor == actor for a in state.approvals):
        return state
    record = ApprovalRecord(stage=stage, actor=actor, roles=roles, at=now, note=note)
    return state.model_copy(update={"approvals": (*state.approvals, record)})


def tick(state: RolloutState, stage: str, item: str, actor: str, now: datetime) -> RolloutState:
    """Record that ``actor`` ticked checklist ``item`` of ``stage``."""
    if any(c.stage == stage and c.item == item for c in state.checks):
        return state
    record = CheckRecord(stage=stage, item=item, actor=actor, at=now)
    return state.model_copy(update={"checks": (*state.checks, record)})


def tick_with_evidence(
    state: RolloutState, stage: str, item: str, actor: str, now: datetime, *, evidence: str
) -> RolloutState:
    """Tick ``item`` of ``stage`` on evidence (a later passing run replaces an earlier one)."""
    kept = tuple(c for c in state.checks if not (c.stage == stage and c.item == item))
    record = CheckRecord(stage=stage, item=item, actor=actor, at=now, evidence=evidence)
    return state.model_copy(update={"checks": (*kept, record)})


def untick(state: RolloutState, stage: str, item: str) -> RolloutState:
    """Withdraw the tick of ``item`` of ``stage`` (a failing golden run blocks the stage)."""
    kept = tuple(c for c in state.checks if not (c.stage == stage and c.item == item))
    return state if len(kept) == len(state.checks) else state.model_copy(update={"checks": kept})


def pause(state: RolloutState, actor: str, reason: str, now: datetime) -> RolloutState:
    """Hold the rollout for a person (no-op once it is over)."""
    if state.phase.is_terminal:
        return state
    text = f"paused by {actor}: {reason}" if reason else f"paused by {actor}"
    return state.model_copy(
        update={"phase": RolloutPhase.PAUSED, "paused_reason": text, "reason": text}
    )


def resume(state: RolloutState, actor: str, now: datetime) -> RolloutState:
    """Let a paused rollout go on; a pending-era pause resumes into pending."""
    if state.phase is not RolloutPhase.PAUSED:
        return state
    phase = RolloutPhase.RUNNING if state.stage_started_at is not None else RolloutPhase.PENDING
    return state.model_copy(
        update={"phase": phase, "paused_reason": None, "reason": f"resumed by {actor}"}
    )


def rolled_back(state: RolloutState, reason: str, now: datetime) -> RolloutState:
    """The rollout is over: its audience was removed."""
    return state.model_copy(
        update={
            "phase": RolloutPhase.ROLLED_BACK,
            "runs": close_run(state.runs, now),
            "reason": reason,
        }
    )


def open_incident(state: RolloutState, incident: Incident) -> RolloutState:
    """Attach an incident; ``decide`` acts on it at its next call (P0: rollback)."""
    return state.model_copy(update={"incidents": (*state.incidents, incident)})


def resolve_incident(state: RolloutState, incident_id: str, now: datetime) -> RolloutState:
    """Mark an incident resolved."""
    updated = tuple(
        i.model_copy(update={"resolved_at": now}) if i.id == incident_id else i
        for i in state.incidents
    )
    return state.model_copy(update={"incidents": updated})


def enter_stage(
    state: RolloutState, index: int, *, environment: str, name: str, now: datetime, reason: str
) -> RolloutState:
    """Move to stage ``index`` (its measurement window starts at ``now``)."""
    runs = (
        *close_run(state.runs, now),
        StageRun(stage=name, environment=environment, started_at=now),
    )
    return state.model_copy(
        update={
            "phase": RolloutPhase.RUNNING,
            "stage": index,
            "stage_started_at": now,
            "runs": runs,
            "paused_reason": None,
            "reason": reason,
        }
    )


def advanced_by_hand(state: RolloutState, actor: str) -> RolloutState:
    """Remember who advanced by hand: they cannot then approve the next stage alone."""
    return state.model_copy(update={"last_advanced_by": actor})


def close_run(runs: tuple[StageRun, ...], now: datetime) -> tuple[StageRun, ...]:
    """The stage runs with the open one (if any) ended at ``now``."""
    if runs and runs[-1].ended_at is None:
        return (*runs[:-1], runs[-1].model_copy(update={"ended_at": now}))
    return runs
