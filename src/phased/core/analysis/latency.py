"""Comparing a latency quantile between the arms, from their sketches.

The question "did the candidate's p95 go up?" becomes a question about events:
a request is an *event* when its latency lies above the pooled ``q``-quantile
of both arms together. If the candidate is no slower than the control, a
request above that line is no likelier to be the candidate's than its share
of requests says, and the same label test as for error rates applies
(``evalue``). Using the pooled quantile, not the control's, is what accounts
for estimating it: the line is a symmetric function of all the data, so under
"both arms alike" it favours neither arm, and no confidence margin for the
control's quantile is needed.

The tail above the line is cut into four bands at the pooled quantiles
``q``, ``1 - (1-q)/5``, ``1 - (1-q)/50`` and ``1 - (1-q)/500`` (p95, p99,
p99.9, p99.99 for ``q = 0.95``) and each band is its own kind of event: a
regression of the tail shows most clearly far out (when the p95 doubles with
the median unchanged, about 15 % of the candidate's requests cross the p95
line instead of 5 %, 2.5 % cross the p99.9 line instead of 0.1 %, and 0.9 %
the p99.99 line instead of 0.01 %), so telling the bands apart finds it about
half again as fast as one exceedance count. The alternatives are tails heavier
by ``a`` in the first band and by ``a·b``, ``a·b²``, ``a·b³`` further out
(``LATENCY_PRIOR``). What is tested, precisely: "in no band above the pooled
``q``-quantile does the candidate have more than its share of requests";
a candidate that is faster, or only changed below the line, is never flagged.

``max_increase_pct`` tolerates a relative slow-down: the control's sketch is
scaled by ``1 + pct/100`` (a shift of its log buckets, exact to the sketch's
1 %) before pooling, so the null becomes "the candidate is no slower than the
control made that much slower".

Approximation (documented in docs/analysis.md): the line moves as data
accumulates, so the e-value is a martingale only once the pooled quantile has
settled; the seeded null simulation in the tests checks the false-rollback
rate stays within budget from the first minute on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Protocol

from phased.core.analysis.comparison import Comparison, fmt_evidence, fmt_value
from phased.core.analysis.evalue import Counts, mixture_e_value
from phased.core.analysis.rates import check_alpha
from phased.core.sketch import Sketch, bucket_value
from phased.errors import ValidationError

_LOG_GAMMA = math.log(1.01 / 0.99)

# (ratio in each band, weight): tails heavier by a, a·b, a·b², a·b³ for a in {1.5, 2.5} and
# b in {2, 3, 4} — a wider and a narrower tail for each size of regression — plus small
# weights on uniformly mildly heavier tails, so that any slow-down of the tail is found
# eventually, given enough traffic.
LATENCY_PRIOR: tuple[tuple[tuple[float, ...], float], ...] = (
    ((1.1,) * 4, 0.02),
    ((1.25,) * 4, 0.02),
    ((1.5,) * 4, 0.02),
    *(((a, a * b, a * b**2, a * b**3), 0.94 / 6) for a in (1.5, 2.5) for b in (2.0, 3.0, 4.0)),
)


def band_levels(quantile: float) -> tuple[float, float, float, float]:
    """The pooled quantiles that start the tail bands: 0.95, 0.99, 0.999, 0.9999 for 0.95."""
    tail = 1.0 - quantile
    return quantile, 1.0 - tail / 5.0, 1.0 - tail / 50.0, 1.0 - tail / 500.0


class HasLatency(Protocol):
    """Anything carrying a latency sketch (an outcome aggregate, say)."""

    @property
    def latency(self) -> Sketch: ...


LatencySource = Sketch | HasLatency


def _sketch(source: LatencySource) -> Sketch:
    return source if isinstance(source, Sketch) else source.latency


def band_lines(cand: Sketch, ctrl: Sketch, quantile: float, shift: int = 0) -> list[float]:
    """Bucket keys of the pooled band lines, one per level of ``band_levels(quantile)``.

    ``shift`` moves the control's buckets up (a tolerated slow-down); values in
    the zero bucket count below every line.
    """
    pooled: dict[int, int] = dict(cand.bins)
    for key, n in ctrl.bins.items():
        pooled[key + shift] = pooled.get(key + shift, 0) + n
    keys = sorted(pooled)
    total = cand.count + ctrl.count
    lines: list[float] = []
    for level in band_levels(quantile):
        rank = int(level * (total - 1))
        seen = cand.zeros + ctrl.zeros
        line = keys[0] - 1 if keys else 0
        if rank >= seen:
            for key in keys:
                seen += pooled[key]
                if seen > rank:
                    line = key
                    break
        lines.append(line)
    return lines


def bands(cand: Sketch, ctrl: Sketch, quantile: float, shift: int = 0) -> tuple[list[Counts], int]:
    """Requests of each arm in each tail band above the pooled ``quantile``, and the line's key.

    ``shift`` moves the control's buckets up (a tolerated slow-down). Values in
    the zero bucket are never above a line. Returns one ``Counts`` per band
    (all with both arms' sample counts as exposures) and the bucket key of the
    first line (requests in buckets strictly above it are events).
    """
    lines: list[float] = band_lines(cand, ctrl, quantile, shift)
    lines.append(math.inf)
    counts = []
    for low, high in pairwise(lines):
        c = sum(n for key, n in cand.bins.items() if low < key <= high)
        k = sum(n for key, n in ctrl.bins.items() if low < key + shift <= high)
        counts.append(Counts(c, cand.count, k, ctrl.count))
    return counts, int(lines[0])


def compare_latency(
    cand: LatencySource,
    ctrl: LatencySource,
    *,
    quantile: float,
    alpha: float,
    max_increase_pct: float | None = None,
    metric: str | None = None,
    prior_segments: Sequence[tuple[LatencySource, LatencySource]] = (),
) -> Comparison:
    """Is the candidate's ``quantile`` of latency higher than the control's, with evidence?

    One-sided and valid under continuous looks like ``compare_rate`` (with the
    moving-line approximation described in the module docstring).

    Args:
        cand: the candidate arm's latency sketch (or an aggregate with ``.latency``),
            cumulative over the current stage.
        ctrl: the control arm's, over the same time.
        quantile: which quantile is compared, in (0, 1): 0.95 for ``latency_p95_ms``.
        alpha: the share of the false-rollback budget this comparison may spend.
        max_increase_pct: tolerated relative increase, in percent (20 = 1.2×).
        metric: the name printed in the reason; default ``latency_p{100q}_ms``.
        prior_segments: (candidate, control) sketches of earlier stages, so one
            budget covers the whole rollout when the candidate share changed.

    Returns:
        A ``Comparison`` whose values are the arms' quantiles in the sketch's
        unit (milliseconds), whose ``candidate_n``/``control_n`` count samples.
    """
    check_alpha(alpha)
    if not 0.0 < quantile < 1.0:
        raise ValidationError(
            f"quantile: must be between 0 and 1, exclusive (got {quantile}); 0.95 for p95",
            field="quantile",
        )
    if max_increase_pct is not None and max_increase_pct < 0:
        raise ValidationError(
            f"max_increase_pct: must be >= 0 (got {max_increase_pct})", field="max_increase_pct"
        )
    name = metric or f"latency_p{quantile * 100:g}_ms"
    shift = round(math.log1p((max_increase_pct or 0.0) / 100.0) / _LOG_GAMMA)
    pairs = [*((_sketch(c), _sketch(k)) for c, k in prior_segments), (_sketch(cand), _sketch(ctrl))]
    segments = [bands(c, k, quantile, shift)[0] for c, k in pairs]
    cand_all = Sketch.merged(c for c, _ in pairs)
    ctrl_all = Sketch.merged(k for _, k in pairs)
    cand_q = cand_all.quantile(quantile)
    ctrl_q = ctrl_all.quantile(quantile)
    difference = cand_q - ctrl_q if cand_q is not None and ctrl_q is not None else None
    cand_above = sum(band.cand_events for kinds in segments for band in kinds)
    events = cand_above + sum(band.ctrl_events for kinds in segments for band in kinds)
    insufficient = cand_all.count == 0 or ctrl_all.count == 0 or events == 0
    threshold = 1.0 / alpha
    e_value = 1.0 if insufficient else mixture_e_value(segments, LATENCY_PRIOR)
    harmful = not insufficient and e_value >= threshold
    if insufficient:
        reason = (
            f"{name}: not enough data yet (candidate {cand_all.count:,} samples, "
            f"control {ctrl_all.count:,})"
        )
    else:
        expected = sum(
            (b.cand_events + b.ctrl_events) * b.cand_n / (b.cand_n + b.ctrl_n)
            for kinds in segments
            for b in kinds
        )
        line = bands(*pairs[-1], quantile, shift)[1]
        pct = f" ({difference / ctrl_q * 100:+.0f} %)" if ctrl_q and difference is not None else ""
        tolerance = f", tolerated +{max_increase_pct:g} %" if max_increase_pct else ""
        reason = (
            f"{name} {fmt_value(cand_q)} vs control {fmt_value(ctrl_q)}: "
            f"{'+' if (difference or 0) >= 0 else '-'}{fmt_value(abs(difference or 0))}{pct} "
            f"({fmt_evidence(e_value, threshold)}{tolerance}; {cand_above:,} of "
            f"{cand_all.count:,} candidate samples above the pooled p{quantile * 100:g} "
            f"{fmt_value(bucket_value(line))} ms, {expected:.1f} expected)"
        )
    return Comparison(
        metric=name,
        candidate_value=cand_q,
        control_value=ctrl_q,
        difference=difference,
        e_value=e_value,
        threshold=threshold,
        alpha=alpha,
        harmful=harmful,
        insufficient_data=insufficient,
        candidate_n=cand_all.count,
        control_n=ctrl_all.count,
        reason=reason,
    )
