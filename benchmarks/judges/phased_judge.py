"""phased's judge, run through the real engine with a plan of default settings.

The plan (one stage at the case's candidate share, soaking longer than the run
so it never completes) has the rollback triggers issue 3 names: ``error_rate``
and ``latency_p95_ms`` compared with the control arm, ``analysis`` left at its
defaults. Every minute the minute's outcomes go into the stage's aggregates
and ``decide`` runs once on a virtual clock, exactly as ``phased judge`` and
``phased simulate`` drive it (``phased.simulate.replay.Replay``).

``judge_api`` is the same judgement without the engine: it calls the analysis
API directly (``split_budget`` then ``compare_metric`` per trigger), which is
what ``decide`` calls; the two must agree.
"""

from __future__ import annotations

from collections.abc import Iterator

from benchmarks.judges.realistic import unit_hashes
from benchmarks.judges.traffic import Arm, Run

from phased.core.analysis import DEFAULT_FALSE_ROLLBACK_RATE, compare_metric, split_budget
from phased.core.decide import DecisionKind
from phased.core.outcomes import Aggregate
from phased.core.plans.load import parse_plan
from phased.core.plans.model import Plan
from phased.simulate.replay import Replay, record_minute

TRIGGERS = ("error_rate", "latency_p95_ms")

PLAN = """\
flag: judge-benchmark
environment: prod
stages:
  - {{name: canary, audience: {percent:g}, min_duration: 1d}}
rollback:
  - {{metric: error_rate, compare: control}}
  - {{metric: latency_p95_ms, compare: control}}
"""

_plans: dict[float, Plan] = {}


def plan_for(share: float) -> Plan:
    """The benchmark's plan at a candidate share (cached: parsing is not what is measured)."""
    if share not in _plans:
        _plans[share] = parse_plan(PLAN.format(percent=share * 100), "judge-benchmark.yaml")
    return _plans[share]


def _units(run: Run, arm: Arm, minute: int) -> Iterator[tuple[int, int, int, int, int, float]]:
    """The minute's per-unit breakdown, units identified by the hash the SDK would ship."""
    if arm.units is None:
        return iter(())
    hashes = unit_hashes(run.case.users)  # type: ignore[attr-defined]
    um = arm.units[minute]
    return (
        (hashes[i], n, e, 0, 0, peak)
        for i, n, e, peak in zip(
            um.ids.tolist(),
            um.requests.tolist(),
            um.errors.tolist(),
            um.max_latency.tolist(),
            strict=True,
        )
    )


def judge(run: Run) -> int | None:
    """The minute at which the engine rolls back, or None if it never does."""
    replay = Replay(plan_for(run.case.share))
    replay.step(replay.at(0))  # pending → the first stage
    for minute in range(run.case.minutes):
        arms = replay.arms()
        assert arms is not None, "the plan has no approvals: the first stage starts at once"
        for agg, arm in zip(arms, (run.candidate, run.control), strict=True):
            record_minute(
                agg,
                requests=int(arm.requests[minute]),
                errors=int(arm.errors[minute]),
                latency_ms=arm.latency[minute].tolist(),
                units=_units(run, arm, minute),
            )
        decision = replay.step(replay.at(minute + 1))
        if decision.kind is DecisionKind.ROLLBACK:
            return minute + 1
    return None


def judge_api(run: Run) -> int | None:
    """The same judgement through the analysis API directly (a cross-check of ``judge``)."""
    alphas = split_budget(DEFAULT_FALSE_ROLLBACK_RATE, TRIGGERS)
    cand, ctrl = Aggregate(), Aggregate()
    for minute in range(run.case.minutes):
        for agg, arm in ((cand, run.candidate), (ctrl, run.control)):
            record_minute(
                agg,
                requests=int(arm.requests[minute]),
                errors=int(arm.errors[minute]),
                latency_ms=arm.latency[minute].tolist(),
                units=_units(run, arm, minute),
            )
        for metric in TRIGGERS:
            if compare_metric(metric, cand, ctrl, alpha=alphas[metric]).harmful:
                return minute + 1
    return None
