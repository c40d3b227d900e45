"""The engine: ``decide(plan, state, metrics, now) -> Decision``, pure and deterministic.

One call looks at one rollout at one moment and says what to do: hold,
advance, complete, pause or roll back, with the reason and every evaluation
behind it. The reconcile loop, ``phased simulate`` and ``phased judge`` all
call this same function; ``Decision.state`` is the rollout's next state.

Order of precedence at each call:

1. a finished rollout stays finished;
2. open incidents (P0 rolls back by default);
3. a pending rollout starts once the first stage's approvals and checklist are in;
4. triggers and budget (every stage): the most protective firing action wins;
5. a paused rollout holds;
6. the stage's requirements (soak, samples, gates), then the next stage's
   approvals and checklist: advance, complete, or hold (and alert once
   ``max_duration`` has passed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from phased.core.analysis import split_budget
from phased.core.durations import format_duration
from phased.core.gates import (
    GateResult,
    Observations,
    Verdict,
    evaluate_check,
    trigger_min_samples,
)
from phased.core.measured import measured_result, stalled_sources
from phased.core.plans.audience import describe_audience
from phased.core.plans.check import Action
from phased.core.plans.model import Mode, Plan
from phased.core.rollout_state import RolloutPhase, RolloutState, close_run, enter_stage
from phased.core.stage_entry import Waiting, entry_waiting


class DecisionKind(StrEnum):
    """What the engine concluded."""

    HOLD = "hold"  # keep the current stage and keep measuring ("continue" in `phased judge`)
    ADVANCE = "advance"  # apply the next stage (or the first one)
    COMPLETE = "complete"  # the last stage passed: the rollout is done
    PAUSE = "pause"  # keep the audience and wait for a person
    ROLLBACK = "rollback"  # remove the audience (to 0 %, disabled, or one stage back)


class RollbackTo(StrEnum):
    """How far a rollback goes."""

    ZERO = "zero"  # the plan's audiences removed, rollout 0 %
    DISABLED = "disabled"  # as ZERO, and the kill switch off
    PREVIOUS_STAGE = "previous_stage"  # the previous stage's audience, then paused


class AlertNote(BaseModel):
    """An alert the decision asks for (the alert worker deduplicates on ``key``)."""

    model_config = ConfigDict(frozen=True)

    severity: Literal["critical", "warning", "info"]
    key: str
    message: str


class Decision(BaseModel):
    """The engine's conclusion at one moment, with everything behind it."""

    model_config = ConfigDict(frozen=True)

    kind: DecisionKind
    stage: str
    """The stage in force after this decision."""
    stage_index: int
    reason: str
    at: datetime
    dry_run: bool = False
    rollback_to: RollbackTo | None = None
    evaluations: tuple[GateResult, ...] = ()
    waiting_for: tuple[Waiting, ...] = ()
    alerts: tuple[AlertNote, ...] = ()
    state: RolloutState

    @property
    def word(self) -> str:
        """The judge protocol's word: ``continue`` for hold, else the kind."""
        return "continue" if self.kind is DecisionKind.HOLD else self.kind.value


_ROLLBACK_TO = {
    Action.ROLLBACK: RollbackTo.ZERO,
    Action.DISABLE: RollbackTo.DISABLED,
    Action.STEP_BACK: RollbackTo.PREVIOUS_STAGE,
}


def decide(plan: Plan, state: RolloutState, metrics: Observations, now: datetime) -> Decision:
    """Decide what to do with one rollout now.

    Args:
        plan: the validated plan.
        state: the rollout's current state.
        metrics: outcomes of the current stage (and earlier ones) of this rollout.
        now: the moment of the decision (the core never reads the clock).

    Returns:
        A ``Decision``; ``decision.state`` is the state to store. In ``dry_run``
        mode the state moves the same way (so the history shows the whole
        path) but the decision is marked ``dry_run`` and must not be applied.
    """
    return _Decider(plan, state, metrics, now).run()


class _Decider:
    def __init__(self, plan: Plan, state: RolloutState, metrics: Observations, now: datetime):
        self.plan, self.state, self.now = plan, state, now
        self.index = min(state.stage, len(plan.stages) - 1)
        self.stage = plan.stages[self.index]
        self.env = plan.stage_environment(self.index)
        current = metrics.current
        self.outcomes = (
            current if current is not None and current.stage == self.stage.name else None
        )
        self.prior = [s for s in metrics.earlier if s.environment == self.env]
        self.measurements = metrics.measurements
        self.dry = plan.mode is Mode.DRY_RUN
        self.evaluations: list[GateResult] = []
        self.alerts: list[AlertNote] = []

    # -- the steps -------------------------------------------------------------

    def run(self) -> Decision:
        state = self.state
        if state.phase.is_terminal:
            return self._result(DecisionKind.HOLD, f"rollout {state.phase.value}: {state.reason}")
        incident = self._incident_action()
        if state.phase is RolloutPhase.PENDING:
            return self._start()
        self._sticky_check()
        fired = self._triggers() + stalled_sources(self.plan, self.index, self.measurements)
        action, why = max([*fired, *incident], key=lambda p: p[0].rank, default=(None, ""))
        if action is not None:
            if action is Action.ALERT:
                self.alerts.append(AlertNote(severity="warning", key=f"signal:{why}", message=why))
            elif state.phase is RolloutPhase.PAUSED and action is Action.PAUSE:
                pass  # already held for a person
            else:
                return self._act(action, why)
        if state.phase is RolloutPhase.PAUSED:
            self._requirements()
            return self._result(DecisionKind.HOLD, state.paused_reason or "paused")
        return self._progress()

    def _sticky_check(self) -> None:
        """Warn when a unit shows up in both arms of the stage: stickiness is broken.

        The flag assigns a unit (its stickiness key) to one arm for the whole
        stage; a unit in both means the application passes another key to
        ``track()`` than the flag hashes, and the by-unit analysis loses its footing.
        """
        if self.outcomes is None:
            return
        cand, ctrl = self.outcomes.candidate.units, self.outcomes.control.units
        if not cand.units or not ctrl.units:
            return
        both = cand.records.keys() & ctrl.records.keys()
        if both:
            message = (
                f"stage {self.stage.name}: {len(both):,} unit(s) recorded in both arms; "
                f"assignment is sticky on {self.plan.stickiness!r}, so the unit id passed to "
                "track() is not the flag's stickiness key (fix the context the application passes)"
            )
            self.alerts.append(
                AlertNote(
                    severity="warning", key=f"units-in-both-arms:{self.stage.name}", message=message
                )
            )

    def _start(self) -> Decision:
        waiting = entry_waiting(self.plan, 0, self.state)
        if waiting:
            return self._waiting(0, waiting)
        first = self.plan.stages[0]
        reason = f"start at stage {first.name}: {describe_audience(self.plan, 0)}"
        new = enter_stage(
            self.state,
            0,
            environment=self.plan.stage_environment(0),
            name=first.name,
            now=self.now,
            reason=reason,
        )
        return self._result(DecisionKind.ADVANCE, reason, new)

    def _incident_action(self) -> list[tuple[Action, str]]:
        out = []
        for incident in self.state.open_incidents():
            action = self.plan.incidents.get(incident.severity)
            if action is not None:
                title = f" ({incident.title})" if incident.title else ""
                out.append((action, f"incident {incident.id} {incident.severity}{title} is open"))
        return out

    def _alphas(self) -> dict[str, float]:
        keys = [c.test_key for c in self.plan.tests()]
        return split_budget(self.plan.analysis.false_rollback_rate, keys) if keys else {}

    def _triggers(self) -> list[tuple[Action, str]]:
        alphas = self._alphas()
        elapsed = self._elapsed()
        fired = []
        for trigger in self.plan.triggers_for(self.index):
            result = measured_result(
                trigger, "trigger", self.stage.name, self.measurements
            ) or evaluate_check(
                trigger,
                "trigger",
                self.outcomes,
                alpha=alphas.get(trigger.test_key, 0.5),
                prior=self.prior,
                min_samples=trigger_min_samples(trigger),
                ready=elapsed >= trigger.after,
            )
            self.evaluations.append(result)
            if result.verdict is Verdict.FAIL:
                fired.append((trigger.effective_action, result.reason))
        return fired

    def _requirements(self) -> list[GateResult]:
        stage, out = self.stage, []
        elapsed = self._elapsed()
        name = stage.name
        if stage.min_duration:
            done = elapsed >= stage.min_duration
            out.append(
                GateResult(
                    kind="requirement",
                    label=f"soak {format_duration(stage.min_duration)}",
                    metric="soak",
                    stage=name,
                    verdict=Verdict.PASS if done else Verdict.WAITING,
                    value=elapsed.total_seconds(),
                    threshold=stage.min_duration.total_seconds(),
                    reason=(
                        f"soak {format_duration(elapsed)} of {format_duration(stage.min_duration)}"
                    ),
                )
            )
        cand = self.outcomes.candidate if self.outcomes is not None else None
        for metric, needed, have in (
            ("requests", stage.min_samples, cand.requests if cand else 0),
            ("successes", stage.min_successes, cand.successes if cand else 0),
        ):
            if needed:
                out.append(
                    GateResult(
                        kind="requirement",
                        label=f"min {metric} {needed:,}",
                        metric=metric,
                        stage=name,
                        verdict=Verdict.PASS if have >= needed else Verdict.WAITING,
                        value=float(have),
                        threshold=float(needed),
                        samples=have,
                        reason=f"{have:,} of {needed:,} candidate {metric}",
                    )
                )
        alphas = self._alphas()
        samples_met = cand is not None and cand.requests >= stage.min_samples
        for gate in stage.gates:
            out.append(
                measured_result(gate, "gate", name, self.measurements)
                or evaluate_check(
                    gate,
                    "gate",
                    self.outcomes,
                    alpha=alphas.get(gate.test_key, 0.5),
                    prior=self.prior,
                    min_samples=max(stage.min_samples, 1),
                    ready=samples_met,
                )
            )
        self.evaluations.extend(out)
        return out

    def _progress(self) -> Decision:
        results = self._requirements()
        blocking = [r for r in results if r.verdict is not Verdict.PASS]
        name = self.stage.name
        if blocking:
            reason = f"stage {name}: " + "; ".join(r.reason for r in blocking)
            max_duration = self.stage.max_duration
            if max_duration is not None and self._elapsed() >= max_duration:
                message = (
                    f"stage {name} has run {format_duration(self._elapsed())}, past its "
                    f"max_duration {format_duration(max_duration)}, without passing: "
                    + "; ".join(r.reason for r in blocking)
                )
                self.alerts.append(
                    AlertNote(severity="warning", key=f"overdue:{name}", message=message)
                )
                reason = f"holding for a person: {message}"
            return self._result(DecisionKind.HOLD, reason)
        passed = "; ".join(r.reason for r in results) or "no requirements"
        last = self.index == len(self.plan.stages) - 1
        if last:
            new = self.state.model_copy(
                update={
                    "phase": RolloutPhase.COMPLETED,
                    "runs": close_run(self.state.runs, self.now),
                    "reason": f"completed after stage {name}",
                }
            )
            return self._result(
                DecisionKind.COMPLETE, f"stage {name} passed ({passed}); rollout complete", new
            )
        nxt = self.index + 1
        waiting = entry_waiting(self.plan, nxt, self.state)
        if waiting:
            return self._waiting(nxt, waiting, prefix=f"stage {name} passed; ")
        target = self.plan.stages[nxt]
        reason = (
            f"stage {name} passed ({passed}); advance to {target.name}: "
            f"{describe_audience(self.plan, nxt)}"
        )
        env = self.plan.stage_environment(nxt)
        new = enter_stage(
            self.state, nxt, environment=env, name=target.name, now=self.now, reason=reason
        )
        return self._result(DecisionKind.ADVANCE, reason, new)

    def _waiting(self, index: int, waiting: list[Waiting], prefix: str = "") -> Decision:
        stage = self.plan.stages[index].name
        detail = "; ".join(w.detail for w in waiting)
        self.alerts.append(
            AlertNote(
                severity="info", key=f"waiting:{stage}", message=f"stage {stage} needs: {detail}"
            )
        )
        return self._result(
            DecisionKind.HOLD, f"{prefix}waiting before stage {stage}: {detail}", waiting=waiting
        )

    def _act(self, action: Action, why: str) -> Decision:
        state, name = self.state, self.stage.name
        if action is Action.PAUSE:
            reason = f"paused at stage {name}: {why}"
            new = state.model_copy(
                update={"phase": RolloutPhase.PAUSED, "paused_reason": reason, "reason": reason}
            )
            self.alerts.append(AlertNote(severity="warning", key=f"pause:{name}", message=reason))
            return self._result(DecisionKind.PAUSE, reason, new)
        to = _ROLLBACK_TO[action]
        if to is RollbackTo.PREVIOUS_STAGE and self.index > 0:
            back = self.index - 1
            target = self.plan.stages[back]
            reason = f"stepped back from stage {name} to {target.name}: {why}"
            env = self.plan.stage_environment(back)
            new = enter_stage(
                state, back, environment=env, name=target.name, now=self.now, reason=reason
            ).model_copy(update={"phase": RolloutPhase.PAUSED, "paused_reason": reason})
        else:
            if to is RollbackTo.PREVIOUS_STAGE:
                to = RollbackTo.ZERO
            verb = "disabled" if to is RollbackTo.DISABLED else "rolled back"
            reason = f"{verb} at stage {name}: {why}"
            new = state.model_copy(
                update={
                    "phase": RolloutPhase.ROLLED_BACK,
                    "runs": close_run(state.runs, self.now),
                    "reason": reason,
                }
            )
        self.alerts.append(AlertNote(severity="critical", key=f"rollback:{name}", message=reason))
        return self._result(DecisionKind.ROLLBACK, reason, new, rollback_to=to)

    # -- helpers ---------------------------------------------------------------

    def _elapsed(self) -> timedelta:
        started = self.state.stage_started_at
        return max(self.now - started, timedelta(0)) if started is not None else timedelta(0)

    def _result(
        self,
        kind: DecisionKind,
        reason: str,
        new: RolloutState | None = None,
        *,
        rollback_to: RollbackTo | None = None,
        waiting: list[Waiting] | None = None,
    ) -> Decision:
        state = new or self.state
        shown = (
            f"[dry run] would {kind.value}: {reason}"
            if self.dry and kind is not DecisionKind.HOLD
            else reason
        )
        return Decision(
            kind=kind,
            stage=self.plan.stages[min(state.stage, len(self.plan.stages) - 1)].name,
            stage_index=state.stage,
            reason=shown,
            at=self.now,
            dry_run=self.dry,
            rollback_to=rollback_to,
            evaluations=tuple(self.evaluations),
            waiting_for=tuple(waiting or ()),
            alerts=tuple(self.alerts),
            state=state,
        )
