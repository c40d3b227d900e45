"""Splitting the false-rollback budget across the comparisons of one rollout.

A healthy rollout is rolled back falsely if *any* comparison flags it. With
budget ``b`` and comparisons ``i`` given shares ``alpha_i`` summing to ``b``,
the union bound gives ``P(any false flag) <= sum(alpha_i) = b``, whatever the
dependence between the metrics (Bonferroni). Each comparison's e-value is
valid over the whole rollout, so no further split over time or looks is needed.

Shares are proportional to a weight per metric kind (``DEFAULT_WEIGHTS``); with
the defaults, ``error_rate`` and ``latency_p95_ms`` get 0.0025 each of 0.005.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from phased.errors import ValidationError

DEFAULT_FALSE_ROLLBACK_RATE = 0.005

DEFAULT_WEIGHTS: Mapping[str, float] = {}
"""Weights by metric name; a metric not listed weighs 1."""


def split_budget(
    false_rollback_rate: float,
    metrics: Sequence[str],
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The ``alpha`` each compared metric may spend, summing to ``false_rollback_rate``.

    Args:
        false_rollback_rate: the plan's ``analysis.false_rollback_rate``.
        metrics: the metrics compared with the control arm, each once
            (a duplicate is counted once: it is the same test).
        weights: overrides of ``DEFAULT_WEIGHTS`` by metric name.

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
    raw = {m: table.get(m, 1.0) for m in unique}
    for metric, weight in raw.items():
        if weight <= 0:
            raise ValidationError(
                f"analysis.weights.{metric}: must be > 0 (got {weight})",
                field=f"analysis.weights.{metric}",
            )
    total = sum(raw.values())
    return {m: false_rollback_rate * w / total for m, w in raw.items()}
