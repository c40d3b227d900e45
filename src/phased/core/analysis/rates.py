"""Comparing a rate (errors, fallbacks, retries per request) between the arms."""

from __future__ import annotations

from collections.abc import Sequence

from phased.core.analysis.calibration import grid_share, rate_threshold
from phased.core.analysis.comparison import Comparison, fmt_evidence, fmt_signed, fmt_value
from phased.core.analysis.evalue import Counts, labels_e_value, null_share
from phased.errors import ValidationError


def check_alpha(alpha: float) -> None:
    """Refuse a budget share outside (0, 1)."""
    if not 0.0 < alpha < 1.0:
        raise ValidationError(
            f"alpha: must be between 0 and 1, exclusive (got {alpha}); "
            "it is the share of analysis.false_rollback_rate this comparison spends",
            field="alpha",
        )


def null_ratio(
    ctrl_events: int,
    ctrl_n: int,
    max_increase: float | None,
    max_increase_pct: float | None,
) -> float:
    """The largest harmless ratio of candidate rate to control rate.

    ``max_increase_pct`` is relative, in percent (20 tolerates 1.2×).
    ``max_increase`` is absolute (0.01 tolerates one more point of error rate);
    it becomes a ratio through the control's observed rate, which is the best
    known of the two since the control arm is the larger one. When both are
    given the more tolerant one applies.
    """
    ratio = 1.0
    if max_increase_pct is not None:
        if max_increase_pct < 0:
            raise ValidationError(
                f"max_increase_pct: must be >= 0 (got {max_increase_pct})",
                field="max_increase_pct",
            )
        ratio = max(ratio, 1.0 + max_increase_pct / 100.0)
    if max_increase is not None:
        if max_increase < 0:
            raise ValidationError(
                f"max_increase: must be >= 0 (got {max_increase})", field="max_increase"
            )
        # Half an event of prior keeps the ratio finite before the control's first event.
        base = (ctrl_events + 0.5) / (ctrl_n + 1.0)
        ratio = max(ratio, (base + max_increase) / base)
    return ratio


def compare_rate(
    metric: str,
    cand_events: int,
    cand_n: int,
    ctrl_events: int,
    ctrl_n: int,
    *,
    alpha: float,
    max_increase: float | None = None,
    max_increase_pct: float | None = None,
    prior_segments: Sequence[Counts] = (),
) -> Comparison:
    """Is the candidate's rate of ``metric`` events higher than the control's, with evidence?

    One-sided: a candidate that is better or equal is never harmful. Valid
    however often it is called with growing counts (see ``evalue``): the
    chance that a harmless candidate is ever flagged is at most ``alpha``.
    The e-value uses each stage's null share rounded up to a 1 % grid, and the
    threshold is the exact one for that share (``calibration``), below ``1/alpha``.

    Args:
        metric: the name printed in the reason (``error_rate``, ``fallback_rate``, ...).
        cand_events: events (errors, fallbacks, retries) in the candidate arm so far.
        cand_n: requests in the candidate arm so far.
        ctrl_events: events in the control arm so far.
        ctrl_n: requests in the control arm so far.
        alpha: the share of the false-rollback budget this comparison may spend
            (see ``split_budget``).
        max_increase: tolerated absolute increase of the rate (0.01 = one point).
        max_increase_pct: tolerated relative increase, in percent (20 = 1.2×).
        prior_segments: counts of earlier stages of the same rollout, when the
            candidate share changed between stages; the e-value then covers the
            whole rollout with one budget. The arguments above are the current stage.

    Returns:
        A ``Comparison``; ``harmful`` when the e-value reaches its threshold:
        ``exact_threshold(alpha, share)`` while every stage has had one share,
        ``1/(LATER_ALPHA * alpha)`` once it changed, ``1/alpha`` with ``max_increase``.
    """
    check_alpha(alpha)
    current = Counts(cand_events, cand_n, ctrl_events, ctrl_n)
    segments = [*prior_segments, current]
    for seg in segments:
        if min(seg.cand_events, seg.cand_n, seg.ctrl_events, seg.ctrl_n) < 0 or (
            seg.cand_events > seg.cand_n or seg.ctrl_events > seg.ctrl_n
        ):
            raise ValidationError(
                f"{metric}: counts must satisfy 0 <= events <= requests (got {seg})",
                field=metric,
            )
    total_cand_n = sum(s.cand_n for s in segments)
    total_ctrl_n = sum(s.ctrl_n for s in segments)
    total_cand_e = sum(s.cand_events for s in segments)
    total_ctrl_e = sum(s.ctrl_events for s in segments)
    cand_rate = total_cand_e / total_cand_n if total_cand_n else None
    ctrl_rate = total_ctrl_e / total_ctrl_n if total_ctrl_n else None
    difference = cand_rate - ctrl_rate if cand_rate is not None and ctrl_rate is not None else None
    insufficient = total_cand_n == 0 or total_ctrl_n == 0 or total_cand_e + total_ctrl_e == 0
    rho0 = null_ratio(total_ctrl_e, total_ctrl_n, max_increase, max_increase_pct)
    labels = [
        (seg.cand_events, seg.ctrl_events, grid_share(share))
        for seg in segments
        if (share := null_share(seg, rho0)) is not None
    ]
    # An absolute max_increase makes rho0 a plug-in that moves with the control's rate, so the
    # share is not steady enough for a calibrated threshold: Ville's 1/alpha throughout.
    threshold = rate_threshold(alpha, [p for _, _, p in labels], calibrated=max_increase is None)
    e_value = 1.0 if insufficient else labels_e_value(labels)
    harmful = not insufficient and e_value >= threshold
    if insufficient:
        reason = (
            f"{metric}: not enough data yet (candidate {total_cand_n:,} requests, "
            f"{total_cand_e:,} events; control {total_ctrl_n:,} requests, {total_ctrl_e:,} events)"
        )
    else:
        tolerance = f", tolerated ×{rho0:.3g}" if rho0 > 1.0 else ""
        reason = (
            f"{metric} {fmt_value(cand_rate)} vs control {fmt_value(ctrl_rate)}: "
            f"{fmt_signed(difference)} ({fmt_evidence(e_value, threshold)}{tolerance}, "
            f"candidate {total_cand_n:,} requests)"
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
        candidate_n=total_cand_n,
        control_n=total_ctrl_n,
        reason=reason,
    )
