"""Flagger's documented default canary analysis.

From the Flagger docs (usage/metrics, usage/how-it-works): ``interval: 1m``,
``threshold: 5`` (failed checks before rollback), built-in metrics
``request-success-rate`` with ``thresholdRange.min: 99`` (percent, over 1m)
and ``request-duration`` with ``thresholdRange.max: 500`` (the P99 in ms over
1m). Each minute both metrics are checked on the canary; a failing check
increments the failed-checks counter, which is not reset by passing checks;
at ``threshold`` the canary is rolled back. A minute without canary requests
fails no check (Flagger halts advancement on "no values found" rather than
counting a failure).
P99 uses linear interpolation between samples (what ``histogram_quantile``
approximates with fine buckets).
"""

from __future__ import annotations

import numpy as np
from benchmarks.judges.traffic import Run

THRESHOLD = 5
MIN_SUCCESS_PCT = 99.0
MAX_P99_MS = 500.0


def judge(run: Run) -> int | None:
    """The minute at which Flagger rolls back, or None."""
    failed = 0
    cand = run.candidate
    for minute in range(run.case.minutes):
        n = int(cand.requests[minute])
        if n == 0:
            continue
        success_pct = 100.0 * (1 - int(cand.errors[minute]) / n)
        p99 = float(np.percentile(cand.latency[minute], 99))
        if success_pct < MIN_SUCCESS_PCT or p99 > MAX_P99_MS:
            failed += 1
            if failed >= THRESHOLD:
                return minute + 1
    return None
