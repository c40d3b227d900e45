"""Running rollouts: apply a plan, and apply each decision about it in one transaction.

A decision (from the engine or from a person) becomes, together: the flag's
new environment state (:func:`phased.core.apply.flag_states_after`), the
rollout's new state, a history row with every gate evaluation, its alerts in
the outbox and its audit entries. Either all of it is stored or none.

(``phased.service.rollouts`` holds the plain percentage setter,
``phased rollout set``; this module is the plan-driven side.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from phased.core.apply import flag_states_after
from phased.core.decide import AlertNote, Decision, DecisionKind, decide
from phased.core.flags import FlagState
from phased.core.gates import Verdict
from phased.core.hook_gate import hold_for_hooks
from phased.core.plans import parse_plan
from phased.core.plans.model import Mode, Plan
from phased.core.plans.preview import StagePreview, baseline_of, preview_plan, shrinking
from phased.core.rollout_state import new_rollout
from phased.errors import ConflictError, NotFoundError, ValidationError
from phased.service import hook_runs, outcomes
from phased.service import rollout_records as records
from phased.service.base import Mutation, mutation, replace_flag, require_flag
from phased.service.members import holders
from phased.service.rollout_alerts import alert_of, due
from phased.service.rollout_records import HistoryEntry, Rollout
from phased.service.source_queries import with_latest_measurements
from phased.store import repository
from phased.store.audit import AuditEntry
from phased.store.engine import Store
from phased.store.outbox import enqueue

ENGINE_ACTOR = "engine"
HISTORY_HEARTBEAT = timedelta(minutes=1)
"""A hold whose verdicts did not change is recorded at most this often."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one decision did."""

    rollout: Rollout
    decision: Decision
    recorded: bool = False
    """A history row was written (repeated holds are thinned out)."""
    alerts_sent: int = 0
    entries: tuple[AuditEntry, ...] = field(default_factory=tuple)
    preview: tuple[StagePreview, ...] = ()
    """For a plan just applied: what its first stage in each environment does to today."""

    @property
    def acted(self) -> bool:
        """The decision changed something beyond the history (not a plain hold)."""
        return self.decision.kind is not DecisionKind.HOLD


# -- applying a plan -------------------------------------------------------------------


def _check_plan_against_store(m: Mutation, plan: Plan, environment: str | None) -> None:
    flag = require_flag(m.snapshot.flagset, plan.flag)
    envs = {plan.stage_environment(i) for i in range(len(plan.stages))}
    for i in range(len(plan.stages)):
        env = plan.stage_environment(i)
        if env not in m.store.environments:
            raise ValidationError(
                f"unknown environment {env!r}; the store has {', '.join(m.store.environments)}",
                field=f"stages[{i}].environment",
            )
    if environment is not None and environment not in envs:
        raise ValidationError(
            f"the plan runs in {', '.join(sorted(envs))}, not {environment!r}; "
            "pass the plan's environment or edit the plan",
            field="env",
        )
    if plan.stickiness != flag.stickiness:
        raise ValidationError(
            f"the plan sticks to {plan.stickiness!r} but flag {plan.flag!r} sticks to "
            f"{flag.stickiness!r}; make them agree",
            field="stickiness",
        )
    for i, stage in enumerate(plan.stages):
        for name in stage.audience.segments:
            if name not in m.snapshot.flagset.segments:
                known = ", ".join(sorted(m.snapshot.flagset.segments)) or "none yet"
                raise ValidationError(
                    f"no segment {name!r} in the store (segments: {known}); create it first",
                    field=f"stages[{i}].audience.segments",
                )
        if stage.approval is not None and not holders(m.conn, stage.approval.roles):
            roles = " or ".join(stage.approval.roles)
            raise ValidationError(
                f"no member holds {roles}, so stage {stage.name} could never be approved; "
                f"add one with `phased member add NAME --role {stage.approval.roles[0]} "
                "--actor ADMIN`",
                field=f"stages[{i}].approval.roles",
            )
    going = records.active(m.conn, plan.flag)
    if going is not None:
        raise ConflictError(
            f"flag {plan.flag!r} already has a rollout in progress (#{going.id}, {going.phase} at "
            f"stage {going.stage.name}); let it finish or `phased rollout rollback "
            f"{plan.flag} --reason ...` first",
            field="flag",
        )


def _refuse_shrink(plan: Plan, path: str, previews: list[StagePreview]) -> None:
    shrinks = shrinking(previews)
    if not shrinks:
        return
    first = shrinks[0]
    raise ValidationError(
        f"{path}: stage {first.stage} would take {plan.flag} away from "
        f"{', '.join(first.change.loses)} in {first.change.environment}; a plan keeps "
        "today's audience and only widens it. If that is what you mean, add "
        "'start: {allow_shrink: true}' to the plan or pass --allow-shrink",
        field="start.allow_shrink",
    )


def plan_preview(
    store: Store, *, text: str, path: str = "<string>", allow_shrink: bool = False
) -> list[StagePreview]:
    """What applying the plan in ``text`` would do to today's audience (nothing is written).

    Raises:
        SourceError: the plan is invalid.
        NotFoundError: the plan's flag is not in the store.
    """
    plan = parse_plan(text, path, environments=store.environments)
    with store.read() as conn:
        flagset = repository.load(conn, store.environments).flagset
    return preview_plan(plan, require_flag(flagset, plan.flag), allow_shrink=allow_shrink)


def apply_plan(
    store: Store,
    *,
    actor: str | None,
    text: str,
    path: str = "<string>",
    environment: str | None = None,
    allow_shrink: bool = False,
) -> Applied:
    """Start a rollout of the plan in ``text``; its first stage applies at once unless awaited.

    The rollout keeps each environment's audience of today (see
    :mod:`phased.core.plans.audience`); a plan whose first stage would still
    take the flag away from anyone is refused unless it says
    ``start: {allow_shrink: true}`` or ``allow_shrink`` is given.

    Args:
        environment: when given, the plan must run there (a guard against the wrong file).
        allow_shrink: the stages' audiences are exact, even where someone loses the flag.

    Raises:
        SourceError: the plan is invalid (file, line and field named).
        ValidationError: the plan does not fit the store (unknown flag, segment or role
            holder), or it would take the flag away from someone (``start.allow_shrink``).
        ConflictError: the flag already has a rollout in progress.
    """
    plan = parse_plan(text, path, environments=store.environments)
    with mutation(store, actor) as m:
        _check_plan_against_store(m, plan, environment)
        flag = require_flag(m.snapshot.flagset, plan.flag)
        previews = preview_plan(plan, flag, allow_shrink=allow_shrink)
        if not (allow_shrink or plan.start.allow_shrink):
            _refuse_shrink(plan, path, previews)
        baseline = baseline_of(plan, flag, allow_shrink)
        state = new_rollout(plan.flag, m.actor, m.now, baseline)
        rollout = records.insert_rollout(
            m.conn, plan=plan, source=text, path=path, state=state, actor=m.actor, now=m.now
        )
        reason = f"plan {path} applied by {m.actor}"
        records.add_history(
            m.conn,
            rollout.id,
            at=m.now,
            actor=m.actor,
            kind="apply",
            source="manual",
            state=state,
            stage=plan.stages[0].name,
            reason=reason,
            dry_run=plan.mode is Mode.DRY_RUN,
        )
        m.record(
            "rollout.start",
            rollout.entity,
            {
                "rollout": rollout.id,
                "plan": path,
                "mode": plan.mode.value,
                "stages": [s.name for s in plan.stages],
                "allow_shrink": allow_shrink or plan.start.allow_shrink,
                "preview": [p.to_dict() for p in previews],
            },
        )
        applied = step(m, rollout, source="manual")
    return replace(applied, recorded=True, entries=tuple(m.entries), preview=tuple(previews))


# -- deciding and applying ----------------------------------------------------------------


def preview(store: Store, flag: str) -> tuple[Rollout, Decision]:
    """What the engine would decide about the flag's rollout now (nothing is written)."""
    with store.read() as conn:
        rollout = records.require(conn, flag, going=False)
        metrics = outcomes.observations(
            conn, rollout.flag, rollout.state.runs, store.clock(), rollout_id=rollout.id
        )
        metrics = with_latest_measurements(conn, rollout, metrics)
        hooks = hook_runs.latest_results(conn, rollout)
    decision = decide(rollout.plan, rollout.state, metrics, store.clock())
    if hooks:
        decision = decision.model_copy(update={"evaluations": (*decision.evaluations, *hooks)})
    return rollout, decision


def step(m: Mutation, rollout: Rollout, *, source: str) -> Applied:
    """Decide about ``rollout`` now, inside ``m``, and apply the decision."""
    metrics = outcomes.observations(
        m.conn, rollout.flag, rollout.state.runs, m.now, rollout_id=rollout.id
    )
    metrics = with_latest_measurements(m.conn, rollout, metrics)
    decision = decide(rollout.plan, rollout.state, metrics, m.now)
    decision = hold_for_hooks(rollout.plan, rollout.state, decision)
    return apply_in(m, rollout, decision, source=source)


def apply_decision(
    store: Store,
    rollout_id: int,
    version: int,
    decision: Decision,
    *,
    actor: str = ENGINE_ACTOR,
    record_only: bool = False,
    heartbeat: timedelta = HISTORY_HEARTBEAT,
) -> Applied:
    """Apply a decision the engine made from the rollout at ``version``.

    Args:
        record_only: only write the history (the engine's own dry-run mode).

    Raises:
        ConflictError: the rollout changed since ``version`` (decide again).
    """
    with mutation(store, actor) as m:
        rollout = records.load(m.conn, rollout_id)
        if rollout.version != version:
            raise ConflictError(
                f"the rollout of {rollout.flag!r} moved from version {version} to "
                f"{rollout.version} while deciding; decide again",
                field="version",
            )
        applied = apply_in(
            m, rollout, decision, source="engine", record_only=record_only, heartbeat=heartbeat
        )
    return replace(applied, entries=tuple(m.entries))


def _write_flag(m: Mutation, rollout: Rollout, decision: Decision, action: str) -> None:
    flag = require_flag(m.snapshot.flagset, rollout.flag)
    current: Mapping[str, FlagState] = flag.environments
    writes = flag_states_after(rollout.plan, rollout.state.stage, decision, current)
    if not writes:
        return
    for env, state in writes.items():
        flag = flag.with_state(env, state)
    m.commit(
        replace_flag(m.snapshot.flagset, flag),
        action,
        {"rollout": rollout.id, "stage": decision.stage, "reason": decision.reason},
        by_plan=True,
    )


def _worth_recording(
    m: Mutation, rollout: Rollout, decision: Decision, heartbeat: timedelta
) -> bool:
    last = records.last_history(m.conn, rollout.id)
    if last is None or m.now - last.at >= heartbeat:
        return True
    now = records.signature(
        decision.kind.value,
        decision.stage,
        decision.state.phase.value,
        decision.evaluations,
        decision.waiting_for,
    )
    return now != last.signature()


def _compact(decision: Decision) -> list[dict[str, Any]]:
    return [
        {"check": e.label, "verdict": e.verdict.value, "value": e.value, "threshold": e.threshold}
        for e in decision.evaluations
    ]


def apply_in(
    m: Mutation,
    rollout: Rollout,
    decision: Decision,
    *,
    source: str,
    name: str | None = None,
    record_only: bool = False,
    touch_flag: bool = True,
    details: dict[str, Any] | None = None,
    heartbeat: timedelta = HISTORY_HEARTBEAT,
) -> Applied:
    """Apply ``decision`` to ``rollout`` inside ``m`` (see the module docs).

    Args:
        source: ``engine``, ``manual`` or ``forced`` (kept in the history).
        name: the verb for history and audit (default: the decision's kind).
        record_only: write the history row only (never the state, flag, alerts or audit).
        touch_flag: False when the flag must stay as it is (cancelling a pending rollout).
        details: extra audit details.
    """
    before = rollout.state
    verb = name or decision.kind.value
    plain_hold = verb == DecisionKind.HOLD.value
    if record_only:
        recorded = _worth_recording(m, rollout, decision, heartbeat)
        if recorded:
            _history(m, rollout, decision, verb, source, dry_run=True, alerts=decision.alerts)
        return Applied(rollout, decision, recorded)
    action = (
        "rollout.dry_run"
        if decision.dry_run and source == "engine"
        else f"rollout.{'advance' if verb == 'start' else verb}"
    )
    if touch_flag and not decision.dry_run:
        _write_flag(m, rollout, decision, action)
    moved = (decision.state.stage, decision.state.phase) != (before.stage, before.phase)
    alerted = {} if moved else dict(rollout.alerted)
    docs, sent = [], 0
    for note in decision.alerts:
        send = due(note, alerted.get(note.key), rollout, m.now) and not decision.dry_run
        if send:
            enqueue(m.conn, alert_of(note, rollout), now=m.now)
            alerted[note.key] = m.now.isoformat()
            sent += 1
        docs.append(records.alert_document(note, sent=send))
    current = rollout
    if decision.state != before or alerted != rollout.alerted:
        current = records.save(m.conn, rollout, decision.state, m.now, alerted=alerted)
    recorded = not plain_hold or decision.state != before
    recorded = recorded or _worth_recording(m, rollout, decision, heartbeat)
    if recorded:
        records.add_history(
            m.conn,
            rollout.id,
            at=m.now,
            actor=m.actor,
            kind=verb,
            source=source,
            state=decision.state,
            stage=decision.stage,
            reason=decision.reason,
            dry_run=decision.dry_run,
            evaluations=decision.evaluations,
            alerts=docs,
            waiting=decision.waiting_for,
        )
    if not plain_hold:
        m.record(
            action,
            rollout.entity,
            {
                "rollout": rollout.id,
                "decision": verb,
                "source": source,
                "from_stage": rollout.stage.name,
                "to_stage": decision.stage,
                "phase": decision.state.phase.value,
                "reason": decision.reason,
                "dry_run": decision.dry_run,
                "checks": _compact(decision),
                **(details or {}),
            },
        )
    return Applied(current, decision, recorded, sent)


def _history(
    m: Mutation,
    rollout: Rollout,
    decision: Decision,
    verb: str,
    source: str,
    *,
    dry_run: bool,
    alerts: tuple[AlertNote, ...],
) -> None:
    records.add_history(
        m.conn,
        rollout.id,
        at=m.now,
        actor=m.actor,
        kind=verb,
        source=source,
        state=decision.state,
        stage=decision.stage,
        reason=decision.reason,
        dry_run=dry_run,
        evaluations=decision.evaluations,
        alerts=[records.alert_document(a, sent=False) for a in alerts],
        waiting=decision.waiting_for,
    )


# -- reading ---------------------------------------------------------------------------------


def get_rollout(store: Store, flag: str, *, going: bool = False) -> Rollout:
    """The flag's latest rollout (its going one with ``going``)."""
    with store.read() as conn:
        return records.require(conn, flag, going=going)


def list_rollouts(store: Store, *, active_only: bool = False) -> list[Rollout]:
    """Every rollout (or only those still going), by flag, newest first."""
    with store.read() as conn:
        return records.all_rollouts(conn, active_only=active_only)


def rollout_history(
    store: Store, flag: str, *, limit: int | None = None, rollout_id: int | None = None
) -> list[HistoryEntry]:
    """A rollout's recorded decisions, oldest first (the last ``limit`` of them).

    Args:
        rollout_id: an older rollout of the flag (``#N`` in reports); the latest when None.
    """
    with store.read() as conn:
        rollout = records.pick(conn, flag, rollout_id)
        return records.history(conn, rollout.id, limit=limit)


def active_stages(store: Store, environment: str) -> dict[str, str]:
    """flag -> the name of its stage in force in ``environment`` (for labelling outcomes)."""
    out: dict[str, str] = {}
    with store.read() as conn:
        for rollout in records.all_rollouts(conn, active_only=True):
            started = rollout.state.stage_started_at is not None
            if started and rollout.stage_environment == environment:
                out[rollout.flag] = rollout.stage.name
    return out


def failing(decision: Decision) -> list[str]:
    """The reasons of every check that fails or errs in ``decision``."""
    return [e.reason for e in decision.evaluations if e.verdict in (Verdict.FAIL, Verdict.ERROR)]


def check_environment_of(rollout: Rollout, environment: str | None) -> None:
    """Refuse ``--env`` naming an environment the rollout never runs in."""
    if environment is not None and environment not in rollout.environments:
        raise NotFoundError(
            f"the rollout of {rollout.flag!r} runs in {', '.join(rollout.environments)}, "
            f"not {environment!r}",
            field="env",
        )
