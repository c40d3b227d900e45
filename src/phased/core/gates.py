"""Evaluating gates and triggers: every check becomes a ``GateResult``, never an exception.

A gate passes while its condition holds; a trigger is healthy (``pass``) while
its condition does not hold and ``fail`` once it fires. "Not enough data yet"
is ``waiting``, and data that cannot be compared is ``error``: both are
recorded, neither advances nor rolls back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from phased.core.analysis import compare_metric
from phased.core.analysis.comparison import fmt_evidence, fmt_value
from phased.core.analysis.threshold import rate_above_e_value
from phased.core.compare import comparisons_needed, upper_bound
from phased.core.outcomes import Aggregate, comparison_counts, metric_value, rate_events
from phased.core.plans.check import Check, Trigger
from phased.errors import PhasedError

if TYPE_CHECKING:
    from phased.core.measured import Measurement


@dataclass(frozen=True, slots=True)
class StageOutcomes:
    """Both arms' outcomes over one stage of a rollout, cumulative since it started."""

    stage: str
    environment: str
    candidate: Aggregate
    control: Aggregate
    elapsed_seconds: float
    """The time the aggregates cover (for per-day projections)."""


@dataclass(frozen=True, slots=True)
class Observations:
    """The ``metrics`` argument of ``decide``: the current stage and the ones before it."""

    current: StageOutcomes | None = None
    earlier: tuple[StageOutcomes, ...] = ()
    """Earlier stages of the same rollout, oldest first (one budget covers them all)."""
    measurements: Mapping[str, Measurement] = field(default_factory=dict)
    """What metric sources answered for the current stage's checks (``phased.core.measured``)."""


class Verdict(StrEnum):
    """The outcome of one check at one moment."""

    PASS = "pass"  # healthy: a gate's condition holds, or a trigger's does not
    FAIL = "fail"  # unhealthy: a gate's condition does not hold, or a trigger fired
    WAITING = "waiting"  # no data yet, or fewer samples than the check needs
    ERROR = "error"  # the data could not be evaluated (recorded, never acted on)
    INCONCLUSIVE = "inconclusive"  # a metric source was down, slow or empty: holds, never passes


class GateResult(BaseModel):
    """One evaluation of one gate, trigger or stage requirement: kept as rollout history."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["gate", "trigger", "requirement"]
    label: str
    metric: str
    stage: str
    verdict: Verdict
    value: float | None = None
    threshold: float | None = None
    control_value: float | None = None
    e_value: float | None = None
    compare: bool = False
    """A comparison with the control arm: ``threshold`` is then an e-value, not a metric value."""
    samples: int = 0
    reason: str


def _relation(value: float, limit: float) -> str:
    return "<" if value < limit else ">" if value > limit else "="


def evaluate_check(
    check: Check,
    kind: Literal["gate", "trigger"],
    outcomes: StageOutcomes | None,
    *,
    alpha: float,
    prior: Sequence[StageOutcomes] = (),
    min_samples: int = 0,
    ready: bool = True,
) -> GateResult:
    """Evaluate one gate or trigger against the current stage's outcomes.

    Args:
        check: the gate or trigger.
        kind: ``gate`` (passes while it holds) or ``trigger`` (fails when it holds).
        outcomes: the current stage's outcomes, None before any were recorded.
        alpha: this comparison's share of the false-rollback budget.
        prior: earlier stages in the same environment, for comparisons.
        min_samples: candidate requests needed before a threshold is checked.
        ready: False while a trigger's ``after`` time has not elapsed.
    """
    stage = outcomes.stage if outcomes is not None else ""
    base = {
        "kind": kind,
        "label": check.label,
        "metric": check.metric,
        "stage": stage,
        "compare": check.compare is not None,
    }
    if outcomes is None:
        return GateResult(**base, verdict=Verdict.WAITING, reason=f"{check.metric}: no data yet")
    cand, n = outcomes.candidate, outcomes.candidate.requests
    if check.compare is not None:
        try:
            comparison = compare_metric(
                check.metric,
                cand,
                outcomes.control,
                alpha=alpha,
                max_increase=check.max_increase,
                max_increase_pct=check.max_increase_pct,
                prior_segments=[(p.candidate, p.control) for p in prior],
            )
        except PhasedError as exc:
            return GateResult(
                **base, verdict=Verdict.ERROR, samples=n, reason=f"{check.metric}: {exc}"
            )
        if comparison.insufficient_data:
            verdict = Verdict.WAITING
        elif comparison.harmful:
            verdict = Verdict.FAIL
        else:
            verdict = Verdict.PASS
        return GateResult(
            **base,
            verdict=verdict,
            value=comparison.candidate_value,
            control_value=comparison.control_value,
            e_value=comparison.e_value,
            threshold=comparison.threshold,
            samples=comparison.candidate_n,
            reason=f"{comparison.reason} (stage {stage})",
        )
    if check.confidence is not None:
        return confidence_gate(check, outcomes, base)
    limit = check.threshold
    assert limit is not None
    if n == 0:
        return GateResult(
            **base, verdict=Verdict.WAITING, threshold=limit, reason=f"{check.metric}: no data yet"
        )
    if n < min_samples or not ready:
        why = (
            f"waiting for {min_samples:,} candidate requests (have {n:,})"
            if n < min_samples
            else "waiting for the stage to run long enough"
        )
        return GateResult(
            **base,
            verdict=Verdict.WAITING,
            threshold=limit,
            samples=n,
            reason=f"{check.metric}: {why}",
        )
    value = metric_value(check.metric, cand, elapsed_seconds=outcomes.elapsed_seconds)
    if value is None:
        return GateResult(
            **base,
            verdict=Verdict.WAITING,
            threshold=limit,
            samples=n,
            reason=f"{check.metric}: no data yet ({n:,} requests, none measured it)",
        )
    holds = check.holds(value)
    healthy = holds if kind == "gate" else not holds
    prefix = f"{check.name}: " if check.name else ""
    if prefix.startswith("budget:"):
        prefix = "budget: "  # the name repeats the comparison printed next
    evidence, e_value = "", None
    if kind == "trigger" and isinstance(check, Trigger) and check.needs_evidence and holds:
        events = rate_events(check.metric, cand) + sum(
            rate_events(check.metric, p.candidate) for p in prior
        )
        total = n + sum(p.candidate.requests for p in prior)
        e_value = rate_above_e_value(min(events, total), total, limit)
        shown = fmt_evidence(e_value, 1.0 / alpha)
        if e_value < 1.0 / alpha:
            healthy = True
            evidence = f"; not yet with evidence: {shown}"
        else:
            evidence = f"; {shown}"
    return GateResult(
        **base,
        verdict=Verdict.PASS if healthy else Verdict.FAIL,
        value=value,
        threshold=limit,
        e_value=e_value,
        samples=n,
        reason=(
            f"{prefix}{check.metric} {fmt_value(value)} {_relation(value, limit)} "
            f"{fmt_value(limit)} (stage {stage}, {n:,} requests{evidence})"
        ),
    )


def confidence_gate(check: Check, outcomes: StageOutcomes, base: dict[str, Any]) -> GateResult:
    """``mismatch_rate at_most L with confidence C``: pass after enough clean comparisons.

    It passes once the stage has at least ``comparisons_needed(L, C)`` comparisons
    and no unresolved mismatch (2,995 for 0.1 % at 95 %). Under a rate of ``L``
    or more, that happens with probability at most ``1 - C`` however often the
    gate is looked at, because the count of mismatches never goes down by
    itself. A mismatch holds the gate until a person resolves it ("new
    behaviour is correct") or the stage restarts on a fixed build: seed 004's
    "document any discrepancies". Re-reading a Clopper–Pearson bound after
    mismatches on every pass would not keep the confidence (about 21 % false
    passes at a true rate of exactly 0.1 %). It fails once the rate is above
    ``L`` with confidence ``C``.
    """
    mismatches, n = comparison_counts(outcomes.candidate)
    limit, confidence = check.threshold, check.confidence
    assert limit is not None
    assert confidence is not None
    stage, pct = outcomes.stage, f"{confidence * 100:g} %"
    needed = comparisons_needed(limit, confidence)
    if n == 0:
        return GateResult(
            **base,
            verdict=Verdict.WAITING,
            threshold=limit,
            reason=f"{check.metric}: no comparisons yet; {needed:,} clean ones needed for "
            f"≤ {fmt_value(limit)} with {pct} confidence",
        )
    seen = f"{mismatches:,} mismatches in {n:,} comparisons"
    if mismatches == 0 and n >= needed:
        verdict = Verdict.PASS
        why = f"≤ {fmt_value(limit)} (upper bound {fmt_value(upper_bound(0, n, confidence))})"
    elif mismatches and 1.0 - upper_bound(n - mismatches, n, confidence) > limit:
        verdict, why = Verdict.FAIL, f"above {fmt_value(limit)}"
    elif mismatches:
        verdict = Verdict.WAITING
        why = (
            f"{mismatches:,} unresolved: resolve each (phased compare resolve) or fix it and "
            "restart the stage"
        )
    else:
        verdict, why = Verdict.WAITING, f"{needed - n:,} more clean needed"
    return GateResult(
        **base,
        verdict=verdict,
        value=mismatches / n,
        threshold=limit,
        samples=n,
        reason=f"{check.metric}: {seen}, {why} ({pct} confidence, stage {stage})",
    )


def trigger_min_samples(trigger: Trigger) -> int:
    """Candidate requests a trigger's threshold waits for (comparisons need none)."""
    return trigger.min_samples if trigger.compare is None else 0
