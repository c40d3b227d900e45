"""Approvals and checklist ticks: what people must do before a stage may start.

An approval is given by a member holding one of the stage's approval roles.
Four-eyes: whoever applied the plan or last advanced it by hand cannot
approve alone — for a one-person approval they are refused outright; for a
several-person approval theirs counts, but someone else must approve too
(:func:`phased.core.stage_entry.entry_waiting` enforces it either way). The
engine starts the stage at its next look once everything is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phased.core import rollout_state as rs
from phased.core.plans.model import Stage
from phased.core.rollout_state import RolloutPhase
from phased.core.stage_entry import entry_waiting
from phased.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from phased.service import rollout_records as records
from phased.service.base import Mutation, mutation
from phased.service.members import require_role
from phased.service.plan_rollouts import check_environment_of
from phased.service.rollout_records import Rollout
from phased.store import approvals as repo
from phased.store.approvals import ApprovalRecord
from phased.store.engine import Store

__all__ = ["ApprovalRecord", "Recorded", "approvals_of", "approve", "check"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of an approval or a tick: the rollout and what its stage still awaits."""

    rollout: Rollout
    stage: str
    changed: bool
    """False when the same person had already approved (or the item was ticked)."""
    still_waiting: tuple[str, ...]


def _stage_index(rollout: Rollout, name: str) -> int:
    try:
        return rollout.plan.stage_index(name)
    except KeyError:
        stages = ", ".join(s.name for s in rollout.plan.stages)
        raise NotFoundError(
            f"the plan of {rollout.flag!r} has no stage {name!r} (stages: {stages})",
            field="stage",
        ) from None


def _not_started(rollout: Rollout, index: int, doing: str) -> Stage:
    stage = rollout.plan.stages[index]
    started = rollout.state.phase is not RolloutPhase.PENDING and index <= rollout.state.stage
    if started:
        raise ConflictError(
            f"stage {stage.name} has already started; {doing} only stages still ahead",
            field="stage",
        )
    return stage


def approve(
    store: Store,
    *,
    actor: str | None,
    flag: str,
    stage: str,
    environment: str | None = None,
    note: str = "",
) -> Recorded:
    """Approve ``stage`` of the flag's rollout (audited as ``rollout.approve``, with ``note``).

    ``note`` is kept with the approval and shown in the report's sign-off table.

    Raises:
        NotFoundError: no going rollout, or no such stage.
        ValidationError: the stage needs no approval.
        ConflictError: the stage has already started.
        PermissionDeniedError: the actor holds none of the roles, or four-eyes forbids it.
    """
    with mutation(store, actor) as m:
        rollout = records.require(m.conn, flag)
        check_environment_of(rollout, environment)
        index = _stage_index(rollout, stage)
        target = _not_started(rollout, index, "approve")
        approval = target.approval
        if approval is None:
            needing = [s.name for s in rollout.plan.stages if s.approval is not None]
            raise ValidationError(
                f"stage {stage} needs no approval"
                + (f"; stages that do: {', '.join(needing)}" if needing else ""),
                field="stage",
            )
        member = require_role(m.conn, m.actor, approval.roles, f"approve stage {stage}")
        state = rollout.state
        if m.actor in state.requesters and approval.count == 1:
            raise PermissionDeniedError(
                f"{m.actor} applied or advanced this rollout, so cannot approve stage {stage} "
                f"alone (four-eyes); another {' or '.join(approval.roles)} must approve",
                field="actor",
            )
        new = rs.approve(state, stage, m.actor, member.roles, m.now, note=note.strip())
        changed = new != state
        if changed:
            repo.insert_approval(
                m.conn, rollout.id, stage=stage, actor=m.actor, roles=member.roles, at=m.now
            )
            rollout = _save(
                m,
                rollout,
                new,
                verb="approve",
                stage=stage,
                extra={"roles": list(member.roles), "note": note.strip()},
            )
        waiting = tuple(w.detail for w in entry_waiting(rollout.plan, index, rollout.state))
    return Recorded(rollout, stage, changed, waiting)


def check(
    store: Store,
    *,
    actor: str | None,
    flag: str,
    item: str,
    stage: str | None = None,
    environment: str | None = None,
) -> Recorded:
    """Tick checklist ``item`` (of ``stage``, or of the next stage listing it).

    Raises:
        ValidationError: no stage ahead lists the item (the message lists the open ones).
    """
    wanted = item.strip()
    with mutation(store, actor) as m:
        rollout = records.require(m.conn, flag)
        check_environment_of(rollout, environment)
        state = rollout.state
        first = 0 if state.phase is RolloutPhase.PENDING else state.stage + 1
        indices = range(first, len(rollout.plan.stages))
        if stage is not None:
            index = _stage_index(rollout, stage)
            _not_started(rollout, index, "tick items of")
            indices = range(index, index + 1)
        found: tuple[int, str] | None = None
        for i in indices:
            for text in rollout.plan.stages[i].checklist:
                if text.strip().casefold() == wanted.casefold():
                    found = (i, text)
                    break
            if found:
                break
        if found is None:
            open_items = [
                f"{rollout.plan.stages[i].name}: {text!r}"
                for i in indices
                for text in rollout.plan.stages[i].checklist
            ]
            raise ValidationError(
                f"no stage ahead lists {wanted!r}; open items: "
                + ("; ".join(open_items) if open_items else "none"),
                field="item",
            )
        index, text = found
        name = rollout.plan.stages[index].name
        new = rs.tick(state, name, text, m.actor, m.now)
        changed = new != state
        if changed:
            repo.insert_check(m.conn, rollout.id, stage=name, item=text, actor=m.actor, at=m.now)
            rollout = _save(m, rollout, new, verb="check", stage=name, extra={"item": text})
        waiting = tuple(w.detail for w in entry_waiting(rollout.plan, index, rollout.state))
    return Recorded(rollout, name, changed, waiting)


def _save(
    m: Mutation,
    rollout: Rollout,
    new: rs.RolloutState,
    *,
    verb: str,
    stage: str,
    extra: dict[str, Any],
) -> Rollout:
    saved = records.save(m.conn, rollout, new, m.now)
    records.add_history(
        m.conn,
        rollout.id,
        at=m.now,
        actor=m.actor,
        kind=verb,
        source="manual",
        state=new,
        stage=stage,
        reason=f"{verb} of stage {stage} by {m.actor}",
    )
    m.record(f"rollout.{verb}", rollout.entity, {"rollout": rollout.id, "stage": stage, **extra})
    return saved


def approvals_of(store: Store, rollout_id: int) -> list[ApprovalRecord]:
    """Every approval given for a rollout, oldest first."""
    with store.read() as conn:
        return repo.approvals_for(conn, rollout_id)
