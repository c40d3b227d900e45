"""Kayenta's NetflixACAJudge with its Mann-Whitney classifier and default settings.

From spinnaker/kayenta (``NetflixACAJudge.scala``, ``MannWhitneyClassifier.scala``)
and the Spinnaker canary docs:

- data: one value per metric per minute (``step`` 60 s) for the canary and for
  a baseline cluster of the canary's size (Kayenta's best practice; here a
  random subset of the control's requests); metrics: error rate and p95 latency;
- transform: drop NaN minutes, then ``IQRDetector(factor=3.0,
  reduceSensitivity=true)`` outlier removal (quartile fences widened to the
  1st-99th percentile range when the IQR is 0);
- classify: the two-sample Mann-Whitney (Wilcoxon rank-sum) test of R's
  ``wilcox.test(conf.int=TRUE)`` with the normal approximation, tie correction
  and continuity correction, ``confLevel = 0.98``: the metric is High when the
  lower confidence limit of the location shift (canary - baseline) exceeds
  ``0.25 × |Hodges-Lehmann estimate|``, Low when the upper limit is below its
  negative; default direction ``either`` (High and Low both fail the metric);
- score: the share of metrics that Pass (equal weights), judged every
  ``interval`` of 30 minutes (the docs recommend at least 30) over the data
  since the start; the canary fails when a score is below ``marginal`` (75) or
  the last one below ``pass`` (95). With two metrics either failing fails.
"""

from __future__ import annotations

import math

import numpy as np
from benchmarks.judges.traffic import Arm, Run
from scipy.stats import norm, rankdata

INTERVAL = 30
CONF_LEVEL = 0.98
TOLERANCE = 0.25
MARGINAL, PASS = 75.0, 95.0


def _iqr_filter(values: np.ndarray) -> np.ndarray:
    values = values[~np.isnan(values)]
    if values.size == 0:
        return values
    lo, hi = np.percentile(values, [25, 75])
    if hi - lo == 0:
        lo, hi = np.percentile(values, [1, 99])
    spread = hi - lo
    return values[(values >= lo - 3.0 * spread) & (values <= hi + 3.0 * spread)]


def _wdiff(x: np.ndarray, y: np.ndarray, d: float, zq: float) -> float:
    nx, ny = x.size, y.size
    pooled = np.concatenate([x - d, y])
    ranks = rankdata(pooled)
    dz = ranks[:nx].sum() - nx * (nx + 1) / 2 - nx * ny / 2
    _, ties = np.unique(pooled, return_counts=True)
    n = nx + ny
    sigma = math.sqrt((nx * ny / 12) * ((n + 1) - (ties**3 - ties).sum() / (n * (n - 1))))
    if sigma == 0:
        return -zq
    return (dz - np.sign(dz) * 0.5) / sigma - zq


def _root(x: np.ndarray, y: np.ndarray, zq: float) -> float:
    lo, hi = float(x.min() - y.max()), float(x.max() - y.min())
    f_lo, f_hi = _wdiff(x, y, lo, zq), _wdiff(x, y, hi, zq)
    if f_lo <= 0:
        return lo
    if f_hi >= 0:
        return hi
    while hi - lo > 1e-4:  # uniroot's tol in wilcox.test
        mid = (lo + hi) / 2
        if _wdiff(x, y, mid, zq) > 0:
            lo = mid
        else:
            hi = mid
    # The statistic is a step function that jumps at pairwise differences x_i - y_j;
    # a root within tolerance of one is that difference (uniroot would stop anywhere
    # inside the tolerance, and with heavily tied data, such as per-minute error rates
    # that are mostly 0, the side it stops on decides the verdict).
    root = (lo + hi) / 2
    diffs = (x[:, None] - y[None, :]).ravel()
    nearest = float(diffs[np.argmin(np.abs(diffs - root))])
    return nearest if abs(nearest - root) <= 1e-4 else root


def classify(canary: np.ndarray, baseline: np.ndarray) -> str:
    """Pass, High, Low or Nodata for one metric."""
    x, y = _iqr_filter(canary), _iqr_filter(baseline)
    if x.size == 0 or y.size == 0:
        return "Nodata"
    if np.array_equal(np.sort(x), np.sort(y)) or np.unique(np.concatenate([x, y])).size == 1:
        return "Pass"
    z = norm.ppf(1 - (1 - CONF_LEVEL) / 2)
    lower, upper = _root(x, y, z), _root(x, y, -z)
    bound = TOLERANCE * abs(_root(x, y, 0.0))
    if lower > bound:
        return "High"
    if upper < -bound:
        return "Low"
    return "Pass"


def _series(arm: Arm, minutes: int) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        errors = arm.errors[:minutes] / arm.requests[:minutes]
    p95 = np.array(
        [np.percentile(lat, 95) if lat.size else np.nan for lat in arm.latency[:minutes]]
    )
    return errors.astype(float), p95


def judge(run: Run) -> int | None:
    """The minute at which the canary analysis fails, or None."""
    total = run.case.minutes
    for end in range(INTERVAL, total + 1, INTERVAL):
        cand_err, cand_p95 = _series(run.candidate, end)
        base_err, base_p95 = _series(run.baseline, end)
        results = [classify(cand_err, base_err), classify(cand_p95, base_p95)]
        score = 100.0 * sum(r == "Pass" for r in results) / len(results)
        if score < MARGINAL or (end + INTERVAL > total and score < PASS):
            return end
    return None
