"""Evidence that a rate is above a fixed threshold, valid however often it is checked.

A rollback trigger like ``error_rate above 0.005`` must not fire on one
unlucky handful of requests: at 200 requests a 0.1 % error rate shows two
errors (1 %) about 2 % of the time, and a check every minute would find such
a moment in most healthy rollouts. So a trigger on a rate fires only when
there is evidence that the *true* rate is above the threshold ``p0``.

For the hypothesis "rate <= p0" and an alternative rate ``p1 > p0``, the
likelihood ratio of ``k`` events in ``n`` requests,

    L(p1) = (p1 / p0) ** k * ((1 - p1) / (1 - p0)) ** (n - k),

is a nonnegative supermartingale under any rate ``<= p0``, and so is a fixed
mixture over several ``p1``. By Ville's inequality a healthy rollout's
mixture ever reaches ``1 / alpha`` with probability at most ``alpha``: the
trigger spends ``alpha`` of the false-rollback budget, whatever the number of
looks. The alternatives are the threshold times the multipliers below.
"""

from __future__ import annotations

import math

from phased.core.analysis.evalue import exp_sum

MULTIPLIERS: tuple[tuple[float, float], ...] = (
    (1.25, 0.15),
    (1.5, 0.25),
    (2.0, 0.30),
    (3.0, 0.20),
    (5.0, 0.10),
)
"""Alternative rates as multiples of the threshold, and their prior weights (sum to 1)."""


def rate_above_e_value(events: int, requests: int, threshold: float) -> float:
    """The mixture e-value against "the rate is at most ``threshold``".

    Args:
        events: events (errors, fallbacks, retries) seen so far.
        requests: requests seen so far.
        threshold: the rate the trigger names, in [0, 1).
    """
    if requests <= 0:
        return 1.0
    if threshold <= 0.0:
        return math.inf if events > 0 else 1.0
    rest = max(requests - events, 0)
    logs = []
    for multiplier, weight in MULTIPLIERS:
        p1 = min(threshold * multiplier, (1.0 + threshold) / 2.0)
        if p1 <= threshold or threshold >= 1.0:
            continue
        log_lr = events * math.log(p1 / threshold) + rest * math.log((1.0 - p1) / (1.0 - threshold))
        logs.append(math.log(weight) + log_lr)
    if not logs:
        return 1.0
    return exp_sum(logs)
