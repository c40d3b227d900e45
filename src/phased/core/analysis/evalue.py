"""The one e-process behind every comparison: who got the events, candidate or control?

Both arms see requests; some requests produce an *event* (an error, a fallback,
a latency above a threshold). Under "no harm" an event is no likelier in the
candidate arm than in the control arm, so given that an event happened it
belongs to the candidate with probability at most

    theta0 = n_cand * rho0 / (n_cand * rho0 + n_ctrl)

where ``rho0`` is the largest harmless ratio of the two arms' event rates
(1 without a minimum effect). Conditioning on the merged stream of events
removes the unknown base rate entirely: the labels are Bernoulli(theta0)
(Lindon, Sanden & Shirikian, "Rapid regression detection in software
deployments through sequential testing", KDD 2022). For a harmful ratio
``rho > rho0`` the likelihood ratio of the labels,

    L(rho) = prod (theta(rho) / theta0) ** e_cand * ((1 - theta(rho)) / (1 - theta0)) ** e_ctrl,

is a nonnegative martingale with mean 1 at ``rho0`` and a supermartingale for
any ``rho' <= rho0`` (the null is one-sided), and so is any fixed mixture of
them over ``rho``. Ville's inequality then bounds the chance that the mixture
*ever* reaches ``1/alpha`` by ``alpha``: the test may be looked at after every
event, every minute or at random, and stays valid.

The mixture is a fixed grid of ratios with fixed weights (``RATE_PRIOR``, and
``LATENCY_PRIOR`` in ``latency``), chosen for the regressions worth a rollback;
changing it changes the speed, never the validity.

Why conditional, and not an unconditional two-sample test on the 2x2 table
(Turner, Ly & Grünwald, "Generic e-variables for exact sequential k-sample
tests", 2024): against the composite null "both arms share one unknown rate",
the best growth any e-process can reach at an alternative is the KL divergence
to the nearest null (its reverse information projection). For Poisson-like
counts that nearest null is the pooled rate, and the divergence equals the
growth of this label test exactly: conditioning discards only the total event
count, which says nothing about the ratio when the base rate is free. An
unconditional test reaches the same growth only if it is told the base rate,
so it must mix or estimate over base rates too, and pays for it.

Several kinds of events (latency bands) can be tested at once: each kind has
its own label probability, the likelihood ratio is the product over kinds,
and the prior is over tuples of ratios, one per kind.

Counts may come in segments (one per stage, when the candidate share changes):
the likelihood ratio is the product over segments for each ``rho`` and the
mixture is taken once, so the budget covers the whole rollout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Error-like rates: ratio multipliers above rho0 and their prior weights (sum to 1).
# The weight sits on a 2.5x and a 5x regression: between them they cover doubled to
# tenfold error rates at little cost each (the growth of the 2.5x component under a true
# 2x, or of 5x under 4x or 8x, is within 4-13 % of the exact ratio's), and a 5x jump
# — the regression that must be caught in minutes — pays only ln(1/0.68) = 0.39 nats
# for not being known in advance. The small weights on 1.25 and 1.5 keep the test
# consistent: any increase of more than about 12 % is found eventually, given traffic.
RATE_PRIOR: tuple[tuple[tuple[float, ...], float], ...] = (
    ((1.25,), 0.01),
    ((1.5,), 0.01),
    ((2.5,), 0.30),
    ((5.0,), 0.68),
)


@dataclass(frozen=True, slots=True)
class Counts:
    """Events and exposures of both arms over one segment (a stage, say)."""

    cand_events: int
    cand_n: int
    ctrl_events: int
    ctrl_n: int


def log_likelihood_ratio(
    segments: Sequence[Sequence[Counts]], ratios: Sequence[float], rho0: float
) -> float:
    """``log L`` against the null ratio ``rho0``, summed over segments and event kinds.

    Each segment holds one ``Counts`` per kind of event (one for a rate; one per
    latency band), all with the same exposures; ``ratios[j]`` is the alternative
    ratio for kind ``j``.
    """
    total = 0.0
    for kinds in segments:
        for seg, ratio in zip(kinds, ratios, strict=True):
            if seg.cand_n <= 0 or seg.ctrl_n <= 0:
                continue  # one arm unseen: its labels carry no information about the ratio
            rho = rho0 * ratio
            share_null = seg.cand_n * rho0 / (seg.cand_n * rho0 + seg.ctrl_n)
            share_alt = seg.cand_n * rho / (seg.cand_n * rho + seg.ctrl_n)
            if seg.cand_events:
                total += seg.cand_events * math.log(share_alt / share_null)
            if seg.ctrl_events:
                total += seg.ctrl_events * math.log((1.0 - share_alt) / (1.0 - share_null))
    return total


def exp_sum(logs: Sequence[float]) -> float:
    """``sum(exp(x) for x in logs)`` without overflow on the way (log-sum-exp, then exp).

    A total past ``exp(700)`` is ``inf``: exp overflows past ~709, and an
    e-value that large leaves the verdict in no doubt.
    """
    top = max(logs)
    if top > 700.0:
        return math.inf
    return math.exp(top) * sum(math.exp(x - top) for x in logs)


def mixture_e_value(
    segments: Sequence[Sequence[Counts]],
    prior: Sequence[tuple[tuple[float, ...], float]] = RATE_PRIOR,
    rho0: float = 1.0,
) -> float:
    """The mixture e-value of harm over all segments (see the module docstring)."""
    logs = [
        math.log(weight) + log_likelihood_ratio(segments, ratios, rho0) for ratios, weight in prior
    ]
    return exp_sum(logs)


def null_share(seg: Counts, rho0: float = 1.0) -> float | None:
    """``theta0``: the null chance that an event is the candidate's; None if an arm is empty."""
    if seg.cand_n <= 0 or seg.ctrl_n <= 0:
        return None
    return seg.cand_n * rho0 / (seg.cand_n * rho0 + seg.ctrl_n)


def labels_e_value(
    labels: Sequence[tuple[int, int, float]],
    prior: Sequence[tuple[tuple[float, ...], float]] = RATE_PRIOR,
) -> float:
    """The mixture e-value of (candidate events, control events, null share) per segment.

    With null share ``p`` and ratio ``r`` the alternative share is
    ``p r / (1 + p (r - 1))``, so the log likelihood ratio of one segment is
    ``e_cand log r - (e_cand + e_ctrl) log(1 + p (r - 1))``: the same value as
    ``log_likelihood_ratio`` for ``p = theta0``, and decreasing in ``p``.
    """
    logs = []
    for (ratio,), weight in prior:
        total = math.log(weight)
        for cand_events, ctrl_events, share in labels:
            total += cand_events * math.log(ratio)
            total -= (cand_events + ctrl_events) * math.log1p(share * (ratio - 1.0))
        logs.append(total)
    return exp_sum(logs)
