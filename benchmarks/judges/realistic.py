"""Seeded realistic traffic for the judge benchmark: users, not independent requests (issue 10).

A fixed population of ``users`` units, each assigned to the candidate arm with
probability ``share`` once (sticky assignment, as a flag's hash does). Every
minute ``requests_per_minute`` (times a daily cycle) requests arrive as a
Poisson stream and are spread over the users in proportion to a lognormal
activity weight (``activity_sigma``: 1.5 gives a top user a few percent of
all traffic, the median user a dozen requests in two hours). On top:

- troubled units: a share of users with their own error rate (bad data, a
  broken integration), the same in both arms;
- slow units: a share of users whose every latency is ``slow_factor`` times longer;
- bots: a few units carrying a share of all traffic and failing on nearly everything;
- shared incidents: minutes in which every request of both arms fails more often;
- a daily cycle: traffic multiplied by ``1 + cycle * sin(2 pi t / 1440)`` from a random phase.

Each arm's minute carries the totals the other judges read and, for phased,
the per-unit breakdown (``units``: unit ids, requests, errors and each unit's
largest latency that minute). Same seed, same traffic for every judge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from benchmarks.judges.traffic import Z95, Arm, Case, Run

from phased.core.units import unit_hash


@dataclass(frozen=True)
class RealCase(Case):
    """A row of the realistic-traffic table."""

    users: int = 2000
    activity_sigma: float = 1.5
    troubled_share: float = 0.0
    troubled_error_rate: float = 0.5
    slow_share: float = 0.0
    slow_factor: float = 4.0
    bots: int = 0
    bot_traffic_share: float = 0.0
    bot_error_rate: float = 0.95
    incidents: int = 0
    incident_minutes: int = 5
    incident_error_rate: float = 0.2
    cycle: float = 0.0


HEAVY = "heavy-tailed users (2,000 users, activity sigma 1.5)"

REAL_CASES: tuple[RealCase, ...] = (
    RealCase("healthy, heavy users", "rolled back in ≤ 1 % of runs"),
    RealCase(
        "healthy, troubled users",
        "rolled back in ≤ 1 % of runs",
        troubled_share=0.01,
    ),
    RealCase(
        "healthy, bots",
        "rolled back in ≤ 1 % of runs",
        bots=3,
        bot_traffic_share=0.05,
    ),
    RealCase("healthy, slow users", "rolled back in ≤ 1 % of runs", slow_share=0.02),
    RealCase(
        "healthy, shared incidents + daily cycle",
        "rolled back in ≤ 1 % of runs",
        incidents=2,
        cycle=0.5,
    ),
    RealCase(
        "5x error rate, heavy users",
        "median time to rollback ≤ 30 min",
        cand_error_rate=0.05,
    ),
    RealCase(
        "p95 doubled, median same, heavy users",
        "reported",
        cand_p95_ms=800.0,
    ),
    RealCase("2x error rate, heavy users", "reported", cand_error_rate=0.02),
    RealCase(
        "2x error rate, 25 % share, heavy users",
        "reported",
        share=0.25,
        cand_error_rate=0.02,
    ),
)


@dataclass
class UnitMinute:
    """One arm's minute by unit: parallel arrays."""

    ids: np.ndarray  # int, unit index
    requests: np.ndarray  # int
    errors: np.ndarray  # int
    max_latency: np.ndarray  # float, ms


@lru_cache(maxsize=8)
def unit_hashes(users: int) -> tuple[int, ...]:
    """The 64-bit hash of unit id ``u-<i>`` for every unit (what the SDK would ship)."""
    return tuple(unit_hash(f"u-{i}") for i in range(users))


def generate_real(case: RealCase, seed: int) -> Run:
    """The traffic of run ``seed`` of ``case`` (arms carry ``units``)."""
    rng = np.random.default_rng(seed)
    n_users, minutes = case.users, case.minutes
    weights = rng.lognormal(0.0, case.activity_sigma, size=n_users)
    is_bot = np.zeros(n_users, dtype=bool)
    if case.bots:
        bots = rng.choice(n_users, size=case.bots, replace=False)
        is_bot[bots] = True
        human = weights[~is_bot].sum()
        weights[bots] = human * case.bot_traffic_share / (1 - case.bot_traffic_share) / case.bots
    weights /= weights.sum()
    cand = rng.random(n_users) < case.share
    troubled = rng.random(n_users) < case.troubled_share
    slow = rng.random(n_users) < case.slow_share
    base_rate = np.where(cand, case.cand_error_rate, case.ctrl_error_rate)
    base_rate = np.where(troubled, case.troubled_error_rate, base_rate)
    base_rate = np.where(is_bot, case.bot_error_rate, base_rate)
    sigma = np.where(
        cand,
        math.log(case.cand_p95_ms / case.median_ms) / Z95,
        math.log(case.ctrl_p95_ms / case.median_ms) / Z95,
    )
    log_scale = math.log(case.median_ms) + np.where(slow, math.log(case.slow_factor), 0.0)
    incident = np.zeros(minutes, dtype=bool)
    for _ in range(case.incidents):
        start = int(rng.integers(0, max(1, minutes - case.incident_minutes)))
        incident[start : start + case.incident_minutes] = True
    phase = rng.random() * 2 * math.pi
    rate = case.requests_per_minute * (
        1 + case.cycle * np.sin(phase + 2 * math.pi * np.arange(minutes) / 1440.0)
    )
    totals = rng.poisson(rate)
    arms: dict[bool, dict[str, list[object]]] = {
        a: {"requests": [], "errors": [], "latency": [], "units": []} for a in (True, False)
    }
    for minute in range(minutes):
        per_user = rng.multinomial(totals[minute], weights)
        active = np.flatnonzero(per_user)
        reqs = per_user[active]
        p = base_rate[active]
        if incident[minute]:
            p = 1 - (1 - p) * (1 - case.incident_error_rate)
        errs = rng.binomial(reqs, p)
        lat = np.exp(
            np.repeat(log_scale[active], reqs)
            + np.repeat(sigma[active], reqs) * rng.standard_normal(int(reqs.sum()))
        )
        starts = np.concatenate(([0], np.cumsum(reqs)[:-1]))
        peak = np.maximum.reduceat(lat, starts) if lat.size else np.zeros(0)
        in_cand = cand[active]
        req_cand = np.repeat(in_cand, reqs)
        for arm in (True, False):
            mask = in_cand == arm
            store = arms[arm]
            store["requests"].append(int(reqs[mask].sum()))
            store["errors"].append(int(errs[mask].sum()))
            store["latency"].append(lat[req_cand == arm])
            store["units"].append(UnitMinute(active[mask], reqs[mask], errs[mask], peak[mask]))

    def build(arm: bool) -> Arm:
        store = arms[arm]
        return Arm(
            np.array(store["requests"], dtype=int),
            np.array(store["errors"], dtype=int),
            store["latency"],  # type: ignore[arg-type]
            store["units"],  # type: ignore[arg-type]
        )

    candidate, control = build(True), build(False)
    keep = rng.binomial(control.requests, min(1.0, case.share / (1 - case.share)))
    base_err = rng.hypergeometric(
        control.errors, control.requests - control.errors, np.maximum(keep, 0)
    )
    baseline = Arm(
        keep,
        base_err,
        [
            rng.choice(lat, size=k, replace=False)
            for lat, k in zip(control.latency, keep, strict=True)
        ],
    )
    return Run(case, seed, candidate, control, baseline)
