"""Seeded synthetic traffic for the judge benchmark (issue 3's traffic model).

200 requests a minute arrive as a Poisson stream; each is the candidate's with
probability ``share``. Errors are Bernoulli per request; latency is lognormal
from a median and a p95. The regression is present from minute 0. Every judge
sees the same ``Run`` for the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Z95 = 1.6448536269514722


@dataclass(frozen=True)
class Case:
    """One row of the targets table."""

    name: str
    target: str
    share: float = 0.05
    cand_error_rate: float = 0.01
    cand_p95_ms: float = 400.0
    ctrl_error_rate: float = 0.01
    median_ms: float = 120.0
    ctrl_p95_ms: float = 400.0
    requests_per_minute: float = 200.0
    minutes: int = 120


CASES: tuple[Case, ...] = (
    Case("healthy", "rolled back in ≤ 1 % of runs"),
    Case("5x error rate", "median time to rollback ≤ 18 min", cand_error_rate=0.05),
    Case("p95 doubled, median same", "median time to rollback ≤ 10 min", cand_p95_ms=800.0),
    Case("2x error rate", "reported (the 40 % target is retired)", cand_error_rate=0.02),
    Case(
        "2x error rate, 25 % share",
        "median time to rollback ≤ 50 min",
        share=0.25,
        cand_error_rate=0.02,
    ),
)


@dataclass
class Arm:
    """Per-minute data of one arm: counts, and latencies split by minute."""

    requests: np.ndarray  # int, per minute
    errors: np.ndarray  # int, per minute
    latency: list[np.ndarray]  # ms, one array per minute
    units: list[Any] | None = None  # per minute, by unit (realistic traffic only)


@dataclass
class Run:
    """One seeded rollout's traffic."""

    case: Case
    seed: int
    candidate: Arm
    control: Arm
    baseline: Arm  # a random subset of control the candidate's size (Kayenta's baseline cluster)


def _arm(
    rng: np.random.Generator,
    *,
    rate: float,
    minutes: int,
    error_rate: float,
    median: float,
    p95: float,
) -> Arm:
    sigma = math.log(p95 / median) / Z95
    requests = rng.poisson(rate, size=minutes)
    errors = rng.binomial(requests, error_rate)
    flat = rng.lognormal(math.log(median), sigma, size=int(requests.sum()))
    latency = np.split(flat, np.cumsum(requests)[:-1])
    return Arm(requests, errors, latency)


def generate(case: Case, seed: int) -> Run:
    """The traffic of run ``seed`` of ``case``."""
    rng = np.random.default_rng(seed)
    rpm, minutes = case.requests_per_minute, case.minutes
    cand = _arm(
        rng,
        rate=rpm * case.share,
        minutes=minutes,
        error_rate=case.cand_error_rate,
        median=case.median_ms,
        p95=case.cand_p95_ms,
    )
    ctrl = _arm(
        rng,
        rate=rpm * (1 - case.share),
        minutes=minutes,
        error_rate=case.ctrl_error_rate,
        median=case.median_ms,
        p95=case.ctrl_p95_ms,
    )
    # Kayenta compares against a baseline cluster as large as the canary: take a random
    # subset of the control's requests of the candidate's expected size, minute by minute.
    keep = rng.binomial(ctrl.requests, min(1.0, case.share / (1 - case.share)))
    base_err = rng.hypergeometric(ctrl.errors, ctrl.requests - ctrl.errors, np.maximum(keep, 0))
    base = Arm(keep, base_err, [lat[:k] for lat, k in zip(ctrl.latency, keep, strict=True)])
    return Run(case, seed, cand, ctrl, base)
