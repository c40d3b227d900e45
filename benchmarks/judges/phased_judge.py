"""phased's judge as a plan with default settings runs it.

The plan: rollback triggers compare ``error_rate`` and ``latency_p95_ms`` with
the control arm, ``analysis.false_rollback_rate`` at its default. Every minute
the judge sees the cumulative aggregates of both arms and calls exactly what
``decide`` calls: ``split_budget`` once, then ``compare_metric`` per trigger.
"""

from __future__ import annotations

from benchmarks.judges.traffic import Run

from phased.core.analysis import DEFAULT_FALSE_ROLLBACK_RATE, compare_metric, split_budget
from phased.core.outcomes import Aggregate

TRIGGERS = ("error_rate", "latency_p95_ms")


def judge(run: Run) -> int | None:
    """The minute at which phased rolls back, or None if it never does."""
    alphas = split_budget(DEFAULT_FALSE_ROLLBACK_RATE, TRIGGERS)
    cand, ctrl = Aggregate(), Aggregate()
    for minute in range(run.case.minutes):
        for agg, arm in ((cand, run.candidate), (ctrl, run.control)):
            agg.requests += int(arm.requests[minute])
            agg.errors += int(arm.errors[minute])
            agg.latency.add_many(arm.latency[minute].tolist())
        for metric in TRIGGERS:
            if compare_metric(metric, cand, ctrl, alpha=alphas[metric]).harmful:
                return minute + 1
    return None
