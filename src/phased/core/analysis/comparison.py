"""The value every comparison returns: what was compared, the evidence, the verdict."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Comparison:
    """One candidate-versus-control comparison at one moment.

    A comparison never raises on data: too little data is ``insufficient_data``,
    not an error. ``harmful`` is the only field a rollback should act on; the
    rest is there to be recorded and shown.

    Attributes:
        metric: the metric compared (``error_rate``, ``latency_p95_ms``, ...).
        candidate_value: the candidate arm's value, None when it has no data.
        control_value: the control arm's value, None when it has no data.
        difference: ``candidate_value - control_value`` (absolute), None if either is None.
        e_value: the evidence of harm: a test supermartingale under "no harm",
            so ``P(e_value ever reaches threshold) <= alpha`` however often it is looked at.
        threshold: the e-value at which the comparison is harmful: ``1 / alpha``
            for latency; for rates the exact threshold of ``calibration`` (below
            ``1 / alpha`` while the rollout's share has not changed).
        alpha: the share of the false-rollback budget this comparison spends.
        harmful: ``e_value >= threshold``: the candidate is worse, with evidence.
        insufficient_data: nothing to compare yet (an arm without requests or
            without a single event); ``harmful`` is then False.
        candidate_n: requests (or latency samples) seen in the candidate arm.
        control_n: requests (or latency samples) seen in the control arm.
        reason: one human line that prints the comparison.
    """

    metric: str
    candidate_value: float | None
    control_value: float | None
    difference: float | None
    e_value: float
    threshold: float
    alpha: float
    harmful: bool
    insufficient_data: bool
    candidate_n: int
    control_n: int
    reason: str


def fmt_value(value: float | None) -> str:
    """A short, readable number: ``0.031``, ``412``, ``4,210``, ``1.2e+06``."""
    if value is None:
        return "n/a"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e7:
        return f"{value:.3g}"
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 10 else f"{value:.1f}"
    return f"{value:.3f}" if magnitude >= 0.001 else f"{value:.2e}"


def fmt_signed(value: float | None) -> str:
    """A difference with its sign: ``+0.012``, ``-3.1``, or ``n/a``."""
    if value is None:
        return "n/a"
    return ("+" if value >= 0 else "-") + fmt_value(abs(value))


def fmt_evidence(e_value: float, threshold: float) -> str:
    """``e-value 412 ≥ 400`` or ``e-value 3.1 < 400``."""
    sign = "≥" if e_value >= threshold else "<"
    return f"e-value {fmt_value(e_value)} {sign} {fmt_value(threshold)}"
