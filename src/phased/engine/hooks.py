"""Stage hooks around the engine's decisions (docs/hooks.md).

* ``confirm_advance`` of the current stage: asked when the stage has passed
  (advance or complete); a failure holds the stage and it is asked again at
  the next pass.
* ``pre_stage`` of the next stage: run before traffic moves into it; a
  failure pauses the rollout (a person looks, then resumes: a new attempt).
  A pre_stage hook with ``checklist:`` also runs while the stage waits for
  that item, and ticks it with the hook's result as evidence.
* ``post_stage`` of the stage left, after the advance is applied; a failure
  alerts.
* ``on_rollback`` of the stage rolled back from, after the rollback is applied.

Each run is claimed in ``hook_runs`` before it starts (keyed by rollout,
transition and hook), so no engine, restarted or on another replica, runs a
hook twice for the same transition; a run found still ``running`` was cut off
by an engine that died: it is marked ``interrupted`` and the rollout pauses.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from phased.alerts.model import Alert
from phased.alerts.model import Severity as AlertSeverity
from phased.core.decide import AlertNote, Decision, DecisionKind
from phased.core.gates import GateResult, Verdict
from phased.core.plans.extensions import Hook
from phased.core.rollout_state import RolloutPhase
from phased.engine.hook_exec import HookResult, run_hook
from phased.obs.log import get_logger
from phased.service import approvals, hook_runs
from phased.service.alerts import raise_alert
from phased.service.rollout_records import Rollout
from phased.sources.config import SourcesConfig
from phased.store.engine import Store

log = get_logger("phased.engine.hooks")


class HookRunner:
    """Runs the plans' hooks for one engine.

    Args:
        store: where runs are claimed and recorded.
        sources: the sources file; a hook's ``auth`` names a source whose headers it sends.
        actor: who the runs are recorded as (the engine's actor).
        http: the HTTP client (default: one per hook call).
    """

    def __init__(
        self,
        store: Store,
        *,
        sources: SourcesConfig | None = None,
        actor: str = "engine",
        http: httpx.Client | None = None,
    ) -> None:
        self.store = store
        self.sources = sources or SourcesConfig()
        self.actor = actor
        self.http = http

    # -- before a decision is applied -------------------------------------------------

    def before_apply(self, rollout: Rollout, decision: Decision) -> Decision | None:
        """The decision to apply after the hooks it needs; None: decide again next pass."""
        plan = rollout.plan
        index = min(rollout.state.stage, len(plan.stages) - 1)
        if decision.kind is DecisionKind.HOLD and decision.waiting_for:
            return None if self._tick_by_hooks(rollout, decision) else decision
        if decision.kind not in (DecisionKind.ADVANCE, DecisionKind.COMPLETE):
            return decision
        starting = rollout.state.phase is RolloutPhase.PENDING
        results: list[GateResult] = []
        if not starting:
            for hook in plan.stages[index].hooks.confirm_advance:
                result = self._confirm(rollout, hook, index)
                results.append(result)
                if result.verdict is not Verdict.PASS:
                    return self._hold(rollout, decision, results, result.reason)
        if decision.kind is DecisionKind.ADVANCE:
            target = decision.stage_index
            for hook in plan.stages[target].hooks.pre_stage:
                result = self._pre_stage(rollout, hook, target)
                results.append(result)
                if result.verdict is not Verdict.PASS:
                    return self._pause(rollout, decision, results, result.reason)
        if not results:
            return decision
        return decision.model_copy(update={"evaluations": (*decision.evaluations, *results)})

    def _confirm(self, rollout: Rollout, hook: Hook, index: int) -> GateResult:
        stage = rollout.plan.stages[index].name
        # Asked again each pass until it says yes: one row per stage run, updated.
        transition = f"confirm_advance:{stage}:{len(rollout.state.runs)}"
        result = self._call(rollout, hook, "confirm_advance", stage)
        hook_runs.poll(
            self.store,
            rollout_id=rollout.id,
            transition=transition,
            hook=hook.name,
            phase="confirm_advance",
            stage=stage,
            status="passed" if result.ok else "failed",
            detail=result.detail,
            attempts=result.attempts,
            entity=f"rollout:{rollout.flag}",
            actor=self.actor,
        )
        return _evaluation(hook, "confirm_advance", stage, result, waiting=not result.ok)

    def _pre_stage(self, rollout: Rollout, hook: Hook, index: int) -> GateResult:
        stage = rollout.plan.stages[index].name
        prefix = f"pre_stage:{stage}:{len(rollout.state.runs)}:"
        attempt = hook_runs.attempts_before(self.store, rollout.id, prefix, hook.name) + 1
        transition = f"{prefix}{attempt}"
        claimed, run = hook_runs.claim(
            self.store,
            rollout_id=rollout.id,
            transition=transition,
            hook=hook.name,
            phase="pre_stage",
            stage=stage,
            by=self.actor,
        )
        if not claimed:
            if run.status == "passed":
                return _evaluation(hook, "pre_stage", stage, HookResult(True, run.detail, 0, 0))
            if run.status == "running":
                detail = (
                    f"interrupted: the engine running it ({run.claimed_by}, since "
                    f"{run.started_at.isoformat(timespec='seconds')}) stopped mid-hook; it was "
                    "not run again — check what it did, then resume"
                )
                self._finish(rollout, run, HookResult(False, detail, 0, 0), status="interrupted")
                return _evaluation(hook, "pre_stage", stage, HookResult(False, detail, 0, 0))
            return _evaluation(hook, "pre_stage", stage, HookResult(False, run.detail, 0, 0))
        result = self._call(rollout, hook, "pre_stage", stage)
        self._finish(rollout, run, result)
        return _evaluation(hook, "pre_stage", stage, result)

    def _tick_by_hooks(self, rollout: Rollout, decision: Decision) -> bool:
        """Run pre_stage hooks that tick a missing checklist item; True if one was ticked."""
        plan = rollout.plan
        state = rollout.state
        target = 0 if state.phase is RolloutPhase.PENDING else state.stage + 1
        if target >= len(plan.stages) or state.phase is RolloutPhase.PAUSED:
            return False
        stage = plan.stages[target]
        done = {c.item for c in state.checks if c.stage == stage.name}
        ticked = False
        for hook in stage.hooks.pre_stage:
            if hook.checklist is None or hook.checklist in done:
                continue
            result = self._pre_stage(rollout, hook, target)
            if result.verdict is not Verdict.PASS:
                continue  # the item stays open; the rollout keeps waiting for it
            approvals.check(
                self.store,
                actor=f"hook:{hook.name}",
                flag=rollout.flag,
                item=hook.checklist,
                stage=stage.name,
            )
            ticked = True
        return ticked

    # -- after a decision was applied -------------------------------------------------

    def after_apply(self, rollout: Rollout, decision: Decision) -> None:
        """post_stage after an advance, on_rollback after a rollback (failures alert)."""
        plan = rollout.plan
        state = rollout.state
        if state.phase is RolloutPhase.PENDING:
            return
        index = min(state.stage, len(plan.stages) - 1)
        stage = plan.stages[index]
        if decision.kind in (DecisionKind.ADVANCE, DecisionKind.COMPLETE):
            phase, hooks = "post_stage", stage.hooks.post_stage
        elif decision.kind is DecisionKind.ROLLBACK:
            phase, hooks = "on_rollback", stage.hooks.on_rollback
        else:
            return
        for hook in hooks:
            transition = f"{phase}:{stage.name}:{len(state.runs)}"
            claimed, run = hook_runs.claim(
                self.store,
                rollout_id=rollout.id,
                transition=transition,
                hook=hook.name,
                phase=phase,
                stage=stage.name,
                by=self.actor,
            )
            if not claimed:
                continue  # ran (or was cut off) before: never twice
            result = self._call(rollout, hook, phase, stage.name)
            self._finish(rollout, run, result)
            if not result.ok:
                self._alert(rollout, f"{phase} hook {hook.name} failed: {result.detail}", phase)

    # -- plumbing -----------------------------------------------------------------------

    def _call(self, rollout: Rollout, hook: Hook, phase: str, stage: str) -> HookResult:
        payload = {
            "flag": rollout.flag,
            "rollout": str(rollout.id),
            "stage": stage,
            "hook_phase": phase,
            "hook": hook.name,
            "environment": rollout.stage_environment,
        }
        headers: Mapping[str, str] = {}
        if hook.auth is not None and hook.auth in self.sources.sources:
            headers = self.sources.sources[hook.auth].headers
        log.info("hook_start", flag=rollout.flag, hook=hook.name, phase=phase, stage=stage)
        if self.http is not None:
            result = run_hook(hook, payload, http=self.http, headers=headers)
        else:
            with httpx.Client() as http:
                result = run_hook(hook, payload, http=http, headers=headers)
        log.info(
            "hook_done",
            flag=rollout.flag,
            hook=hook.name,
            phase=phase,
            ok=result.ok,
            attempts=result.attempts,
            seconds=round(result.seconds, 3),
        )
        return result

    def _finish(
        self,
        rollout: Rollout,
        run: hook_runs.HookRun,
        result: HookResult,
        *,
        status: str | None = None,
    ) -> None:
        hook_runs.finish(
            self.store,
            run,
            status=status or ("passed" if result.ok else "failed"),
            detail=result.detail,
            attempts=result.attempts,
            entity=f"rollout:{rollout.flag}",
            actor=self.actor,
        )

    def _alert(self, rollout: Rollout, message: str, phase: str) -> None:
        raise_alert(
            self.store,
            Alert(
                severity=AlertSeverity.WARNING,
                message=f"{rollout.flag}: {message}",
                flag=rollout.flag,
                rollout=f"{rollout.flag}#{rollout.id}",
                rule=f"hook:{phase}",
                environment=rollout.stage_environment,
            ),
        )

    def _hold(
        self, rollout: Rollout, decision: Decision, results: list[GateResult], why: str
    ) -> Decision:
        index = min(rollout.state.stage, len(rollout.plan.stages) - 1)
        return decision.model_copy(
            update={
                "kind": DecisionKind.HOLD,
                "stage": rollout.plan.stages[index].name,
                "stage_index": rollout.state.stage,
                "reason": f"stage {rollout.plan.stages[index].name} passed; waiting: {why}",
                "state": rollout.state,
                "alerts": (),
                "evaluations": (*decision.evaluations, *results),
            }
        )

    def _pause(
        self, rollout: Rollout, decision: Decision, results: list[GateResult], why: str
    ) -> Decision:
        index = min(rollout.state.stage, len(rollout.plan.stages) - 1)
        name = rollout.plan.stages[index].name
        reason = f"paused at stage {name}: {why}"
        state = rollout.state.model_copy(
            update={"phase": RolloutPhase.PAUSED, "paused_reason": reason, "reason": reason}
        )
        note = AlertNote(severity="warning", key=f"pause:{name}", message=reason)
        return decision.model_copy(
            update={
                "kind": DecisionKind.PAUSE,
                "stage": name,
                "stage_index": rollout.state.stage,
                "reason": reason,
                "state": state,
                "alerts": (note,),
                "evaluations": (*decision.evaluations, *results),
            }
        )


def _evaluation(
    hook: Hook, phase: str, stage: str, result: HookResult, *, waiting: bool = False
) -> GateResult:
    verdict = Verdict.PASS if result.ok else (Verdict.WAITING if waiting else Verdict.FAIL)
    took = f" in {result.seconds:.1f} s" if result.seconds else ""
    return GateResult(
        kind="requirement",
        label=f"{phase} hook {hook.name}",
        metric="hook",
        stage=stage,
        verdict=verdict,
        reason=f"{phase} hook {hook.name} {'passed' if result.ok else 'failed'}{took}: "
        f"{result.detail}",
    )
