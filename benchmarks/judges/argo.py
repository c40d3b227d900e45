"""Argo Rollouts' documented analysis: the ``success-rate`` AnalysisTemplate.

From the Argo Rollouts docs (features/analysis.md, "Background Analysis"):
``interval: 5m``, ``successCondition: result[0] >= 0.95``, ``failureLimit: 3``,
the query being the candidate's share of non-5xx requests over the last 5
minutes. An AnalysisRun fails when failed measurements exceed ``failureLimit``
(the 4th failure), which aborts the rollout. The template has no latency
metric, so a latency regression is never seen; a measurement with no requests
is treated as inconclusive (not failed), as a NaN result is in Argo.
"""

from __future__ import annotations

from benchmarks.judges.traffic import Run

INTERVAL = 5
SUCCESS_AT_LEAST = 0.95
FAILURE_LIMIT = 3


def judge(run: Run) -> int | None:
    """The minute at which the AnalysisRun fails, or None."""
    failed = 0
    cand = run.candidate
    for end in range(INTERVAL, run.case.minutes + 1, INTERVAL):
        n = int(cand.requests[end - INTERVAL : end].sum())
        if n == 0:
            continue
        success = 1 - int(cand.errors[end - INTERVAL : end].sum()) / n
        if success < SUCCESS_AT_LEAST:
            failed += 1
            if failed > FAILURE_LIMIT:
                return end
    return None
