"""One entry point for ``decide``: compare any comparable metric of two aggregates."""

from __future__ import annotations

from collections.abc import Sequence

from phased.core.analysis.comparison import Comparison
from phased.core.analysis.evalue import Counts
from phased.core.analysis.latency import compare_latency
from phased.core.analysis.rates import compare_rate
from phased.core.analysis.units import compare_latency_units, compare_rate_units, has_units
from phased.core.outcomes import RATE_METRICS, Aggregate, latency_quantile, rate_events
from phased.errors import ValidationError


def is_comparable(metric: str) -> bool:
    """Whether ``compare: control`` is supported for ``metric``.

    Rates (``error_rate``, ``fallback_rate``, ``retry_rate``) and latency
    quantiles (``latency_p50_ms``, ``latency_p95_ms``, ``latency_p99_ms``, any
    ``latency_pNN_ms``) are; counts, costs and custom means are not (use a
    threshold gate on the candidate for those).
    """
    return metric in RATE_METRICS or latency_quantile(metric) is not None


def compare_metric(
    metric: str,
    cand: Aggregate,
    ctrl: Aggregate,
    *,
    alpha: float,
    max_increase: float | None = None,
    max_increase_pct: float | None = None,
    prior_segments: Sequence[tuple[Aggregate, Aggregate]] = (),
) -> Comparison:
    """Compare ``metric`` between the candidate and control aggregates.

    Dispatches to ``compare_rate`` or ``compare_latency``; see those for the
    meaning of the arguments. ``prior_segments`` are (candidate, control)
    aggregates of earlier stages, so one budget covers the whole rollout.

    When the aggregates carry per-unit records (``Aggregate.units``: the
    stickiness key was passed with the outcomes) the comparison is by unit
    (``analysis.units``), valid however a unit's requests are correlated;
    without them every request is its own unit.

    Raises:
        ValidationError: ``metric`` is not comparable (a plan error, not a data
            problem: plan validation should have refused it), or
            ``max_increase`` was given for a latency (use ``max_increase_pct``).
    """
    pairs = [*prior_segments, (cand, ctrl)]
    by_unit = has_units(pairs)
    if metric in RATE_METRICS and by_unit:
        return compare_rate_units(
            metric,
            pairs,
            alpha=alpha,
            max_increase=max_increase,
            max_increase_pct=max_increase_pct,
        )
    if metric in RATE_METRICS:
        return compare_rate(
            metric,
            rate_events(metric, cand),
            cand.requests,
            rate_events(metric, ctrl),
            ctrl.requests,
            alpha=alpha,
            max_increase=max_increase,
            max_increase_pct=max_increase_pct,
            prior_segments=[
                Counts(rate_events(metric, c), c.requests, rate_events(metric, k), k.requests)
                for c, k in prior_segments
            ],
        )
    q = latency_quantile(metric)
    if q is None:
        raise ValidationError(
            f"compare: control is not supported for {metric!r}; comparable metrics are "
            f"{', '.join(RATE_METRICS)} and latency_pNN_ms",
            field="compare",
        )
    if max_increase is not None:
        raise ValidationError(
            f"{metric}.max_increase: latency comparisons take max_increase_pct "
            f"(got max_increase={max_increase})",
            field="max_increase",
        )
    if by_unit:
        return compare_latency_units(
            pairs, quantile=q, alpha=alpha, metric=metric, max_increase_pct=max_increase_pct
        )
    return compare_latency(
        cand,
        ctrl,
        quantile=q,
        alpha=alpha,
        max_increase_pct=max_increase_pct,
        metric=metric,
        prior_segments=prior_segments,
    )
