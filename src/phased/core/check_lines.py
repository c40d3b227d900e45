"""One gate or trigger in plain numbers and words: the check lines of a rollout's summary.

:func:`check_line` turns a :class:`~phased.core.gates.GateResult` into what a
person reads: candidate versus control in the metric's own unit, the judge's
verdict in words, the evidence as a fraction of what a rollback needs, and for
a trigger how much worse the candidate would have to get to trip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from phased.core.gates import GateResult, Verdict
from phased.core.metric_format import fmt_change, fmt_metric
from phased.core.plans.check import OPERATORS, Action, Check, Trigger
from phased.core.plans.model import Plan
from phased.core.rollout_state import RolloutPhase

ACTION_WORDS = {
    Action.ROLLBACK: "rolls back to 0 %",
    Action.DISABLE: "rolls back and turns the kill switch off",
    Action.STEP_BACK: "steps back one stage and pauses",
    Action.PAUSE: "pauses for a person",
    Action.ALERT: "alerts only",
}
_DONE_WORDS = {
    Action.ROLLBACK: "rolled back",
    Action.DISABLE: "rolled back and disabled",
    Action.STEP_BACK: "stepped back",
    Action.PAUSE: "paused",
    Action.ALERT: "alerted",
}


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One gate or trigger in plain numbers."""

    kind: Literal["gate", "trigger"]
    label: str
    metric: str
    verdict: str
    """pass, fail, waiting or error (for styling; ``words`` says it to people)."""
    words: str
    """In words: ``no evidence of harm``, ``harmful: rolled back``, ``insufficient data``."""
    candidate: str
    control: str | None
    effect: str | None
    """Candidate minus control in the metric's unit (and in percent for latency)."""
    target: str
    evidence: str | None
    """``evidence of harm 3.1 (rolls back at 400)`` for the statistical tests."""
    headroom: str | None
    """For triggers: how much worse the candidate would have to get to trip it."""
    action: str | None
    """For triggers: what happens when it trips."""
    reason: str


def gate_words(result: GateResult) -> str:
    """A gate still short of its target, in a few words (for what a rollout waits for)."""
    if result.verdict is Verdict.WAITING:
        return "insufficient data"
    if result.verdict is Verdict.ERROR:
        return "could not be evaluated"
    return f"{fmt_metric(result.metric, result.value)}, target {_target(result)}"


def _target(result: GateResult, check: Check | None = None) -> str:
    if result.compare:
        tolerance = ""
        if check is not None and check.max_increase is not None:
            tolerance = f" (+{fmt_metric(result.metric, check.max_increase)} tolerated)"
        elif check is not None and check.max_increase_pct is not None:
            tolerance = f" (+{check.max_increase_pct:g} % tolerated)"
        return "not worse than control" + tolerance
    op = check.operator if check is not None else None
    sign = OPERATORS.get(op or "", "<" if result.kind == "gate" else ">")
    trips = "trips at " if result.kind == "trigger" else ""
    return f"{trips}{sign} {fmt_metric(result.metric, result.threshold)}"


def _find_check(plan: Plan, index: int, result: GateResult) -> Check | None:
    pool: tuple[Check, ...] = (
        plan.stages[index].gates if result.kind == "gate" else plan.triggers_for(index)
    )
    return next((c for c in pool if c.label == result.label), None)


def _verdict_words(result: GateResult, phase: RolloutPhase, action: Action | None) -> str:
    v = result.verdict
    if v is Verdict.WAITING:
        return "insufficient data"
    if v is Verdict.ERROR:
        return "could not be evaluated"
    statistical = result.compare or result.e_value is not None
    if result.kind == "gate":
        if statistical:
            return "no evidence of harm" if v is Verdict.PASS else "harmful: gate fails"
        return "within target" if v is Verdict.PASS else "outside target"
    if v is Verdict.PASS:
        return "no evidence of harm" if statistical else "quiet"
    done = _DONE_WORDS.get(action or Action.ROLLBACK, "tripped")
    if action in (Action.ROLLBACK, Action.DISABLE) and phase is not RolloutPhase.ROLLED_BACK:
        done = f"{done} (when the engine applies it)"
    return f"harmful: {done}"


def _headroom(result: GateResult, check: Check | None) -> str | None:
    if result.kind != "trigger":
        return None
    if result.compare:
        tolerance = ""
        if check is not None and check.max_increase is not None:
            tolerance = f" by more than {fmt_change(result.metric, check.max_increase)}"
        elif check is not None and check.max_increase_pct is not None:
            tolerance = f" by more than {check.max_increase_pct:g} %"
        needed = (
            f"; evidence now {_ratio(result)} of what it needs"
            if result.e_value is not None
            else ""
        )
        return f"trips once the candidate is worse than control{tolerance}, with evidence{needed}"
    if result.threshold is None:
        return None
    op = check.operator if check is not None else "above"
    at = fmt_metric(result.metric, result.threshold)
    if result.value is None:
        return f"trips {OPERATORS.get(op or 'above', '>')} {at} (no measurement yet)"
    gap = result.threshold - result.value
    if op in ("above", "at_least"):
        if gap <= 0:
            return f"at or past {at}"
        return f"{fmt_change(result.metric, gap)[1:]} worse trips it (at {at})"
    if gap >= 0:
        return f"at or past {at}"
    return f"a fall of {fmt_change(result.metric, -gap)[1:]} trips it (at {at})"


def _ratio(result: GateResult) -> str:
    if result.e_value is None or not result.threshold:
        return "—"
    return f"{min(result.e_value / result.threshold, 1.0) * 100:.0f} %"


def _effect(result: GateResult) -> str | None:
    if result.value is None or result.control_value is None:
        return None
    delta = result.value - result.control_value
    text = fmt_change(result.metric, delta)
    if result.metric.startswith("latency_") and result.control_value > 0:
        text += f" ({delta / result.control_value * 100:+.1f} %)"
    return text


def check_line(plan: Plan, index: int, result: GateResult, phase: RolloutPhase) -> CheckLine | None:
    """One gate or trigger result in plain numbers (None for stage requirements)."""
    if result.kind == "requirement":
        return None
    check = _find_check(plan, index, result)
    action = check.effective_action if isinstance(check, Trigger) else None
    evidence = None
    if result.e_value is not None and result.threshold is not None:
        verb = "rolls back" if result.kind == "trigger" else "fails"
        if action is not None and action is not Action.ROLLBACK:
            verb = ACTION_WORDS[action].split(" ")[0]
        evidence = f"evidence of harm: {_ratio(result)} of the level that {verb}"
    return CheckLine(
        kind=result.kind,
        label=result.label,
        metric=result.metric,
        verdict=result.verdict.value,
        words=_verdict_words(result, phase, action),
        candidate=fmt_metric(result.metric, result.value),
        control=(
            None
            if result.control_value is None
            else fmt_metric(result.metric, result.control_value)
        ),
        effect=_effect(result),
        target=_target(result, check),
        evidence=evidence,
        headroom=_headroom(result, check),
        action=None if action is None else ACTION_WORDS[action],
        reason=result.reason,
    )
