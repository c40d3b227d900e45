"""Splitting the false-rollback budget across the comparisons of one rollout.

A healthy rollout is rolled back falsely if *any* comparison flags it. With
budget ``b`` and comparisons ``i`` given shares ``alpha_i`` summing to ``b``,
the union bound gives ``P(any false flag) <= sum(alpha_i) = b``, whatever the
dependence between the metrics (Bonferroni). Each comparison's e-value is
valid over the whole rollout, so no further split over time or looks is needed.

Shares are proportional to a weight per metric (``DEFAULT_WEIGHTS``). Rates
(errors, fallbacks, retries) weigh 3 and everything else 1: a rate test sees
only the rare requests that fail (1 % of them, say), a latency test sees every
request's place in the tail, so a nat of threshold costs a rate test about
three times as many minutes (docs/analysis.md, "The budget, split"). With the
defaults ``error_rate`` and ``latency_p95_ms`` get 0.00375 and 0.00125 of 0.005.
The weights move speed between metrics, never the total: validity holds for any.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from phased.core.outcomes import RATE_METRICS
from phased.errors import ValidationError

DEFAULT_FALSE_ROLLBACK_RATE = 0.005

RATE_WEIGHT = 3.0
"""The weight of a rate metric; a metric with no weight of its own weighs 1."""

DEFAULT_WEIGHTS: Mapping[str, float] = dict.fromkeys(RATE_METRICS, RATE_WEIGHT)
"""Weights by metric name."""


def metric_of(key: str) -> str:
    """The metric a test key names: ``error_rate|None|None`` → ``error_rate``.

    ``decide`` splits the budget over test keys (metric plus tolerance or
    threshold), so two tests of one metric are two tests; both weigh what the
    metric weighs.
    """
    return key.split("|", 1)[0]


def split_budget(
    false_rollback_rate: float,
    metrics: Sequence[str],
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The ``alpha`` each compared metric may spend, summing to ``false_rollback_rate``.

    Args:
        false_rollback_rate: the plan's ``analysis.false_rollback_rate``.
        metrics: the metrics (or test keys ``metric|...``) compared with the
            control arm, each once (a duplicate is counted once: it is the same test).
        weights: overrides of ``DEFAULT_WEIGHTS`` by metric name or by test key.

    Returns:
        metric → alpha. Empty when nothing is compared.
    """
    if not 0.0 < false_rollback_rate < 1.0:
        raise ValidationError(
            f"analysis.false_rollback_rate: must be between 0 and 1, exclusive "
            f"(got {false_rollback_rate}); the default is {DEFAULT_FALSE_ROLLBACK_RATE}",
            field="analysis.false_rollback_rate",
        )
    unique = list(dict.fromkeys(metrics))
    table = {**DEFAULT_WEIGHTS, **(weights or {})}
    raw = {m: table.get(m, table.get(metric_of(m), 1.0)) for m in unique}
    for metric, weight in raw.items():
        if not weight > 0:
            raise ValidationError(
                f"analysis.weights.{metric}: must be > 0 (got {weight})",
                field=f"analysis.weights.{metric}",
            )
    total = sum(raw.values())
    return {m: false_rollback_rate * w / total for m, w in raw.items()}
