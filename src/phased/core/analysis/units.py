"""Comparisons by randomisation unit: valid however a unit's requests are correlated.

The request-level tests (``rates``, ``latency``) treat every error as a fresh,
independent label. Units (users, sessions) are what the flag assigns, and a
unit's requests share its arm: one user failing on half of theirs counts as
dozens of candidate errors. The test here uses one label per unit instead.

**The reveal argument.** Take the sharp null "the candidate changes nothing
for any unit". Assignment is a hash of the unit's id, so each unit's arm is
Bernoulli(``p``) (``p`` the share of units in the candidate), independent of
everything that happens to it: its activity, its errors, its latencies, in
any dependence whatsoever. Condition on all those outcomes. Reveal a unit's
arm at the moment its *first* event happens (its first error; for latency,
its largest latency passing the pooled line). The order of reveals is a
function of the outcomes alone, so the revealed labels are i.i.d.
Bernoulli(``p``), exactly the label law of the request-level test, and the
same mixture e-value is a test martingale in the order of reveals. Ville's
inequality, the exact threshold of ``calibration`` and the stage-end argument
carry over unchanged: only the counts differ (units with an event instead of
events, units instead of requests). A harmful candidate makes units of its arm
reach a first event sooner, so their labels lean candidate; a candidate no
worse for any unit makes them lean control (one-sided). A tolerated ratio
``rho0`` of per-request rates bounds the ratio of first-event probabilities
by ``rho0`` too (``1 - (1 - rho r)**n <= rho (1 - (1 - r)**n)``), so the
null share ``theta0`` stays conservative.

**Stages.** With nested percentages a unit keeps its arm when the share
grows; a unit revealed in an earlier stage is left out of later stages (its
label is spent), so every label is used once.

**Sampling.** ``Units`` keeps a hash sample once an arm-window has more than
``UNIT_CAP`` units. The sample at a fixed depth ``d`` is a fixed random subset
of units, so the test on it is valid on its own; the depth read is
data-dependent, so the budget is split over depths by a union bound:
``alpha_d = alpha * DEPTH_WEIGHTS(d)`` (0.9 at depth 0, then 0.1 / 2**d).

**Latency.** A unit's event is its largest latency lying above the pooled
request-level ``q``-quantile of both arms (a symmetric function of all
requests, so it favours neither arm when the candidate changes nothing); its
band is the band of its largest latency. The line moves as data arrive,
which is the request-level test's approximation too, checked by simulation.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence

from phased.core.analysis.calibration import grid_share, rate_threshold
from phased.core.analysis.comparison import Comparison, fmt_evidence, fmt_signed, fmt_value
from phased.core.analysis.evalue import (
    RATE_PRIOR,
    Counts,
    labels_e_value,
    mixture_e_value,
    null_share,
)
from phased.core.analysis.latency import LATENCY_PRIOR, band_lines
from phased.core.analysis.rates import null_ratio
from phased.core.outcomes import RATE_METRICS, Aggregate
from phased.core.sketch import Sketch, bucket_value
from phased.core.units import Units

_LOG_GAMMA = math.log(1.01 / 0.99)

Pair = tuple[Aggregate, Aggregate]


def depth_weight(depth: int) -> float:
    """The share of a comparison's alpha spent at sampling depth ``depth`` (sums to 1)."""
    return 0.9 if depth == 0 else 0.1 / 2.0**depth


def has_units(pairs: Sequence[Pair]) -> bool:
    """Whether any arm of any segment carries per-unit records: then the analysis is by unit."""
    return any(agg.units.requests for pair in pairs for agg in pair)


def _views(pairs: Sequence[Pair]) -> tuple[int, list[tuple[Units, Units]]]:
    depth = max(agg.units.depth for pair in pairs for agg in pair)
    return depth, [(c.units.at_depth(depth), k.units.at_depth(depth)) for c, k in pairs]


def _best_e_value(cand_units: Sequence[int], shares: Sequence[float]) -> float:
    """The e-value if every candidate unit had an event and no control unit did."""
    total = 0.0
    for (ratio,), weight in RATE_PRIOR:
        log = math.log(weight)
        for n, p in zip(cand_units, shares, strict=True):
            log += n * (math.log(ratio) - math.log1p(p * (ratio - 1.0)))
        total += math.exp(min(log, 700.0))
    return total


def compare_rate_units(
    metric: str,
    pairs: Sequence[Pair],
    *,
    alpha: float,
    max_increase: float | None = None,
    max_increase_pct: float | None = None,
) -> Comparison:
    """``compare_rate`` by unit: one label per unit, revealed at its first event.

    Args:
        metric: ``error_rate``, ``fallback_rate`` or ``retry_rate``.
        pairs: (candidate, control) aggregates per stage, the current stage last.
        alpha: the comparison's share of the false-rollback budget.
        max_increase: tolerated absolute increase of the per-request rate.
        max_increase_pct: tolerated relative increase, in percent.
    """
    field = RATE_METRICS[metric]
    depth, views = _views(pairs)
    spent: set[int] = set()
    segments: list[Counts] = []
    for index, (cu, ku) in enumerate(views):
        ce, ke = cu.count_with(field), ku.count_with(field)
        cn, kn = cu.units, ku.units
        for h in spent:  # revealed in an earlier stage: its label is spent
            for units, is_cand in ((cu, True), (ku, False)):
                rec = units.record_of(h)
                if rec is None:
                    continue
                event = rec[("errors", "fallbacks", "retries").index(field) + 1] > 0
                if is_cand:
                    cn, ce = cn - 1, ce - event
                else:
                    kn, ke = kn - 1, ke - event
        segments.append(Counts(ce, cn, ke, kn))
        if index < len(views) - 1:
            spent |= cu.hashes_with(field) | ku.hashes_with(field)
    cand_req = sum(c.requests for c, _ in pairs)
    ctrl_req = sum(k.requests for _, k in pairs)
    cand_ev = sum(getattr(c, field) for c, _ in pairs)
    ctrl_ev = sum(getattr(k, field) for _, k in pairs)
    cand_rate = cand_ev / cand_req if cand_req else None
    ctrl_rate = ctrl_ev / ctrl_req if ctrl_req else None
    difference = cand_rate - ctrl_rate if cand_rate is not None and ctrl_rate is not None else None
    cand_n = sum(s.cand_n for s in segments)
    ctrl_n = sum(s.ctrl_n for s in segments)
    cand_e = sum(s.cand_events for s in segments)
    ctrl_e = sum(s.ctrl_events for s in segments)
    rho0 = null_ratio(ctrl_ev, ctrl_req, max_increase, max_increase_pct)
    labels = [
        (s.cand_events, s.ctrl_events, grid_share(share))
        for s in segments
        if (share := null_share(s, rho0)) is not None
    ]
    alpha_d = alpha * depth_weight(depth)
    shares = [p for _, _, p in labels]
    threshold = rate_threshold(alpha_d, shares, calibrated=max_increase is None)
    few = bool(labels) and _best_e_value([s.cand_n for s in segments if s.cand_n and s.ctrl_n],
                                         shares) < threshold  # fmt: skip
    insufficient = not labels or cand_e + ctrl_e == 0 or few
    e_value = 1.0 if not labels or cand_e + ctrl_e == 0 else labels_e_value(labels)
    harmful = not insufficient and e_value >= threshold
    sample = f", a 1/{2**depth} hash sample of units" if depth else ""
    if insufficient:
        why = (
            f"too few units: even if all {cand_n:,} candidate units failed the e-value could "
            f"not reach {fmt_value(threshold)}"
            if few
            else "not enough data yet"
        )
        reason = (
            f"{metric}: {why} (by unit{sample}: candidate {cand_n:,} units, {cand_e:,} with "
            f"{field}; control {ctrl_n:,} units, {ctrl_e:,} with {field})"
        )
    else:
        tolerance = f", tolerated ×{rho0:.3g}" if rho0 > 1.0 else ""
        reason = (
            f"{metric} {fmt_value(cand_rate)} vs control {fmt_value(ctrl_rate)}: "
            f"{fmt_signed(difference)} ({fmt_evidence(e_value, threshold)}{tolerance}; by unit"
            f"{sample}: {cand_e:,} of {cand_n:,} candidate units with {field}, "
            f"{ctrl_e:,} of {ctrl_n:,} control units)"
        )
    return Comparison(
        metric=metric,
        candidate_value=cand_rate,
        control_value=ctrl_rate,
        difference=difference,
        e_value=e_value,
        threshold=threshold,
        alpha=alpha,
        harmful=harmful,
        insufficient_data=insufficient,
        candidate_n=cand_n,
        control_n=ctrl_n,
        reason=reason,
    )


def _band_counts(maxima: dict[int, int], lines: Sequence[float], shift: int) -> list[int]:
    counts = [0] * len(lines)
    for key, n in maxima.items():
        band = bisect_left(lines, key + shift) - 1  # key + shift in (lines[band], lines[band+1]]
        if band >= 0:
            counts[band] += n
    return counts


def compare_latency_units(
    pairs: Sequence[Pair],
    *,
    quantile: float,
    alpha: float,
    metric: str,
    max_increase_pct: float | None = None,
) -> Comparison:
    """``compare_latency`` by unit: a unit is an event in the band of its largest latency."""
    shift = round(math.log1p((max_increase_pct or 0.0) / 100.0) / _LOG_GAMMA)
    depth, views = _views(pairs)
    spent: set[int] = set()
    segments: list[list[Counts]] = []
    cand_n = ctrl_n = cand_above = 0
    first_line = 0.0
    for index, ((c, k), (cu, ku)) in enumerate(zip(pairs, views, strict=True)):
        lines = band_lines(c.latency, k.latency, quantile, shift)
        cb, kb = _band_counts(cu.maxima, lines, 0), _band_counts(ku.maxima, lines, shift)
        cn, kn = cu.units, ku.units
        for h in spent:
            for units, counts, move, is_cand in ((cu, cb, 0, True), (ku, kb, shift, False)):
                rec = units.record_of(h)
                if rec is None:
                    continue
                band = bisect_left(lines, rec[4] + move) - 1
                if band >= 0:
                    counts[band] -= 1
                if is_cand:
                    cn -= 1
                else:
                    kn -= 1
        segments.append([Counts(x, cn, y, kn) for x, y in zip(cb, kb, strict=True)])
        cand_n, ctrl_n, cand_above = cand_n + cn, ctrl_n + kn, cand_above + sum(cb)
        first_line = lines[0]
        if index < len(views) - 1:
            line = int(lines[0])
            spent |= cu.hashes_above(line) | ku.hashes_above(line - shift)
    cand_all = Sketch.merged(c.latency for c, _ in pairs)
    ctrl_all = Sketch.merged(k.latency for _, k in pairs)
    cand_q, ctrl_q = cand_all.quantile(quantile), ctrl_all.quantile(quantile)
    difference = cand_q - ctrl_q if cand_q is not None and ctrl_q is not None else None
    events = sum(b.cand_events + b.ctrl_events for kinds in segments for b in kinds)
    alpha_d = alpha * depth_weight(depth)
    threshold = 1.0 / alpha_d
    insufficient = cand_n == 0 or ctrl_n == 0 or events == 0
    e_value = 1.0 if insufficient else mixture_e_value(segments, LATENCY_PRIOR)
    harmful = not insufficient and e_value >= threshold
    sample = f", a 1/{2**depth} hash sample of units" if depth else ""
    if insufficient:
        reason = (
            f"{metric}: not enough data yet (by unit{sample}: candidate {cand_n:,} units, "
            f"control {ctrl_n:,})"
        )
    else:
        pct = f" ({difference / ctrl_q * 100:+.0f} %)" if ctrl_q and difference is not None else ""
        tolerance = f", tolerated +{max_increase_pct:g} %" if max_increase_pct else ""
        reason = (
            f"{metric} {fmt_value(cand_q)} vs control {fmt_value(ctrl_q)}: "
            f"{fmt_signed(difference)}{pct} ({fmt_evidence(e_value, threshold)}{tolerance}; by "
            f"unit{sample}: {cand_above:,} of {cand_n:,} candidate units peak above the pooled "
            f"p{quantile * 100:g} {fmt_value(bucket_value(int(first_line)))} ms)"
        )
    return Comparison(
        metric=metric,
        candidate_value=cand_q,
        control_value=ctrl_q,
        difference=difference,
        e_value=e_value,
        threshold=threshold,
        alpha=alpha,
        harmful=harmful,
        insufficient_data=insufficient,
        candidate_n=cand_n,
        control_n=ctrl_n,
        reason=reason,
    )
