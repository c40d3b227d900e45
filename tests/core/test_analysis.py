"""The judge: one-sided, always-valid comparisons of the candidate with the control."""

from __future__ import annotations

import math
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.analysis import (
    DEFAULT_FALSE_ROLLBACK_RATE,
    Counts,
    compare_latency,
    compare_metric,
    compare_rate,
    is_comparable,
    split_budget,
)
from phased.core.analysis.calibration import (
    LATER_ALPHA,
    crossing_bound,
    exact_threshold,
    grid_share,
    rate_threshold,
)
from phased.core.analysis.evalue import RATE_PRIOR
from phased.core.outcomes import Aggregate
from phased.core.sketch import Sketch
from phased.errors import ValidationError

SIGMA_P95_400 = math.log(400 / 120) / 1.6448536269514722
SIGMA_P95_800 = math.log(800 / 120) / 1.6448536269514722


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Inverse-CDF binomial draw (Python 3.11 has no ``binomialvariate``)."""
    u, k = rng.random(), 0
    prob = (1 - p) ** n
    cdf = prob
    while u > cdf and k < n:
        prob *= (n - k) / (k + 1) * p / (1 - p)
        k += 1
        cdf += prob
    return k


def first_flag_rate(
    rng: random.Random, *, minutes: int, cand_p: float, alpha: float, share: float = 0.05
) -> int | None:
    """Minute at which a rollout with these error rates is first flagged (200 req/min)."""
    ce = cn = ke = kn = 0
    n_cand = round(200 * share)
    for minute in range(minutes):
        cn += n_cand
        kn += 200 - n_cand
        ce += binomial(rng, n_cand, cand_p)
        ke += binomial(rng, 200 - n_cand, 0.01)
        if compare_rate("error_rate", ce, cn, ke, kn, alpha=alpha).harmful:
            return minute + 1
    return None


def first_flag_null(
    rng: random.Random,
    *,
    share: float,
    base_rate: float,
    alpha: float,
    minutes: int,
    jitter: bool = False,
) -> bool:
    """Whether a healthy rollout (both arms at ``base_rate``) is ever flagged, checked each minute.

    200 requests a minute, ``share`` of them the candidate's: exactly, or binomially
    each minute with ``jitter``.
    """
    ce = cn = ke = kn = 0
    for _ in range(minutes):
        n_cand = binomial(rng, 200, share) if jitter else round(200 * share)
        cn += n_cand
        kn += 200 - n_cand
        ce += binomial(rng, n_cand, base_rate)
        ke += binomial(rng, 200 - n_cand, base_rate)
        if compare_rate("error_rate", ce, cn, ke, kn, alpha=alpha).harmful:
            return True
    return False


def first_flag_latency(
    rng: random.Random, *, minutes: int, cand_sigma: float, alpha: float
) -> int | None:
    """Minute at which the p95 comparison first flags (10 candidate, 190 control per minute)."""
    cand, ctrl = Sketch(), Sketch()
    mu = math.log(120)
    for minute in range(minutes):
        cand.add_many(rng.lognormvariate(mu, cand_sigma) for _ in range(10))
        ctrl.add_many(rng.lognormvariate(mu, SIGMA_P95_400) for _ in range(190))
        if compare_latency(cand, ctrl, quantile=0.95, alpha=alpha).harmful:
            return minute + 1
    return None


class TestCompareRate:
    """A rate comparison flags clear harm, never flags a candidate that is no worse."""

    def test_clear_regression_is_harmful_and_says_why(self) -> None:
        result = compare_rate("error_rate", 40, 1000, 190, 19_000, alpha=0.0025)
        assert result.harmful
        assert not result.insufficient_data
        assert result.candidate_value == pytest.approx(0.04)
        assert result.control_value == pytest.approx(0.01)
        # The exact threshold for a 5 % share: below Ville's 1/alpha = 400, by about 0.35 nats.
        assert result.threshold == pytest.approx(exact_threshold(0.0025, 0.05))
        assert 200 < result.threshold < 400
        assert result.reason.startswith("error_rate 0.040 vs control 0.010: +0.030 (e-value ")
        assert f"≥ {result.threshold:.0f}, candidate 1,000 requests)" in result.reason

    def test_equal_rates_are_not_harmful(self) -> None:
        result = compare_rate("error_rate", 10, 1000, 190, 19_000, alpha=0.0025)
        assert not result.harmful
        assert f"< {result.threshold:.0f}" in result.reason

    @given(
        st.integers(0, 2000),
        st.integers(1, 2000),
        st.integers(0, 50_000),
        st.integers(1, 50_000),
    )
    def test_a_candidate_no_worse_never_gains_evidence(
        self, ce: int, cn: int, ke: int, kn: int
    ) -> None:
        ce, ke = min(ce, cn), min(ke, kn)
        if ce * kn <= ke * cn:  # candidate rate <= control rate
            assert compare_rate("error_rate", ce, cn, ke, kn, alpha=0.01).e_value <= 1.0 + 1e-9

    @given(st.integers(0, 200), st.integers(0, 2000))
    def test_one_more_candidate_error_never_lowers_the_evidence(self, ce: int, ke: int) -> None:
        before = compare_rate("error_rate", ce, 2000, ke, 20_000, alpha=0.01).e_value
        after = compare_rate("error_rate", ce + 1, 2000, ke, 20_000, alpha=0.01).e_value
        assert after >= before

    def test_no_data_is_insufficient_not_harmful(self) -> None:
        for args in ((0, 0, 10, 1000), (0, 100, 0, 1000), (3, 100, 0, 0)):
            result = compare_rate("error_rate", *args, alpha=0.0025)
            assert result.insufficient_data
            assert not result.harmful
            assert "not enough data" in result.reason

    def test_tolerated_increase_is_not_harmful(self) -> None:
        # 1.2x with lots of data: harmful without tolerance, not with 30 % tolerated.
        args = ("error_rate", 12_000, 1_000_000, 100_000, 10_000_000)
        assert compare_rate(*args, alpha=0.0025).harmful
        assert not compare_rate(*args, alpha=0.0025, max_increase_pct=30).harmful
        assert not compare_rate(*args, alpha=0.0025, max_increase=0.003).harmful

    def test_bad_input_is_refused_with_the_field(self) -> None:
        with pytest.raises(ValidationError, match="alpha"):
            compare_rate("error_rate", 1, 10, 1, 10, alpha=0.0)
        with pytest.raises(ValidationError, match="error_rate: counts"):
            compare_rate("error_rate", 11, 10, 1, 10, alpha=0.01)
        with pytest.raises(ValidationError, match="max_increase_pct"):
            compare_rate("error_rate", 1, 10, 1, 10, alpha=0.01, max_increase_pct=-5)

    def test_earlier_stages_add_their_evidence(self) -> None:
        stage = ("error_rate", 8, 300, 57, 5700)
        alone = compare_rate(*stage, alpha=0.0025)
        both = compare_rate(*stage, alpha=0.0025, prior_segments=[Counts(20, 500, 25, 1500)])
        assert both.e_value > alone.e_value
        assert both.candidate_n == 800
        # The share changed (25 % then 5 %): the later stages' reserve threshold applies.
        assert both.threshold == pytest.approx(1 / (LATER_ALPHA * 0.0025))
        assert alone.threshold == pytest.approx(exact_threshold(0.0025, 300 / 6000))


class TestRateFalseRollbacks:
    """Under no harm the comparison, checked every minute, rarely flags: within alpha."""

    def test_type_one_error_within_alpha_under_continuous_looks(self) -> None:
        rng = random.Random(20_240_601)
        runs, alpha = 300, 0.05
        flagged = sum(
            first_flag_rate(rng, minutes=60, cand_p=0.01, alpha=alpha) is not None
            for _ in range(runs)
        )
        # Ville's inequality: at most alpha in expectation; allow two binomial sd of slack.
        assert flagged <= runs * alpha + 2 * math.sqrt(runs * alpha)

    @pytest.mark.parametrize("base_rate", [0.001, 0.01, 0.1])
    def test_valid_for_any_base_rate_and_share(self, base_rate: float) -> None:
        # The label test never uses the base rate, and its exact threshold depends only on the
        # share: whatever the base rate, a healthy candidate checked every minute at the
        # calibrated threshold is flagged in at most alpha of rollouts.
        rng = random.Random(int(base_rate * 1e6))
        runs, alpha, minutes = 200, 0.1, 40
        for share in (0.05, 0.25, 0.5):
            flagged = sum(
                first_flag_null(rng, share=share, base_rate=base_rate, alpha=alpha, minutes=minutes)
                for _ in range(runs)
            )
            # The threshold spends up to alpha over an unbounded horizon (less in 40 minutes);
            # two binomial sd of slack for the runs.
            bound = runs * alpha + 2 * math.sqrt(runs * alpha * (1 - alpha))
            assert flagged <= bound, (share, flagged)

    def test_valid_when_each_minutes_share_is_random(self) -> None:
        # Real traffic: each minute's candidate share is binomial, so the stage's share (and the
        # 1 % grid cell its threshold comes from) wobbles from minute to minute early on.
        rng = random.Random(17)
        runs, alpha = 120, 0.1
        flagged = sum(
            first_flag_null(rng, share=0.05, base_rate=0.01, alpha=alpha, minutes=40, jitter=True)
            for _ in range(runs)
        )
        assert flagged <= runs * alpha + 2 * math.sqrt(runs * alpha * (1 - alpha)), flagged

    def test_a_5x_error_rate_is_flagged(self) -> None:
        rng = random.Random(7)
        minutes = [first_flag_rate(rng, minutes=60, cand_p=0.05, alpha=0.0025) for _ in range(20)]
        assert sum(m is not None for m in minutes) >= 18
        assert sorted(m if m is not None else 999 for m in minutes)[10] <= 25


def label_run(
    rng: random.Random,
    share: float,
    threshold: float,
    *,
    switch_at: float = math.inf,
    later: tuple[float, float] = (0.5, math.inf),
) -> float:
    """One healthy rollout as its stream of event labels, checked after every event.

    Each event is the candidate's with probability ``share``; the rate test's e-value
    (``RATE_PRIOR`` at that share) is tracked per component. When one more candidate
    event would lift the e-value to ``switch_at`` the stage ends and the stream goes on
    at ``later = (share, threshold)``. Returns 1 when rejected, else ``min(1, e / c)`` at
    the point the e-value has fallen below 0.05: Ville's bound on rejecting later, so
    the mean over runs is an upper bound on the false-rollback probability.
    """
    ratios = [r for (r,), _ in RATE_PRIOR]
    comps = [w for _, w in RATE_PRIOR]
    p, c = share, threshold
    up = [r / (1 + p * (r - 1)) for r in ratios]
    down = [1 / (1 + p * (r - 1)) for r in ratios]
    for _ in range(5000):
        if p == share and sum(a * u for a, u in zip(comps, up, strict=True)) >= switch_at:
            p, c = later
            up = [r / (1 + p * (r - 1)) for r in ratios]
            down = [1 / (1 + p * (r - 1)) for r in ratios]
        step = up if rng.random() < p else down
        comps = [a * f for a, f in zip(comps, step, strict=True)]
        e = sum(comps)
        if e >= c:
            return 1.0
        if e < 0.05:
            break
    return min(1.0, sum(comps) / c)


class TestExactThreshold:
    """The rate test's calibrated threshold is below 1/alpha and still spends at most alpha."""

    @pytest.mark.parametrize("alpha", [0.00375, 0.1])
    @pytest.mark.parametrize("share", [0.05, 0.25, 0.5])
    def test_below_ville_and_within_alpha_by_the_dp(self, alpha: float, share: float) -> None:
        c, p = exact_threshold(alpha, share), grid_share(share)
        assert 0.5 / alpha <= c < 1 / alpha
        assert crossing_bound(c, alpha, p) <= alpha
        # The smallest such threshold, to the bisection's 0.0054 nats.
        assert crossing_bound(c * math.exp(-0.006), alpha, p) > alpha
        assert crossing_bound(1 / alpha, alpha, p) <= alpha

    def test_grid_share_rounds_up_by_at_most_one_percent(self) -> None:
        for share in (0.001, 0.05, 0.25, 0.5, 0.9):
            assert share <= grid_share(share) <= share * 1.011
            assert grid_share(grid_share(share)) == pytest.approx(grid_share(share))

    def test_outside_the_calibrated_shares_it_is_ville(self) -> None:
        assert exact_threshold(0.01, 0.001) == pytest.approx(100)
        assert exact_threshold(0.01, 0.99) == pytest.approx(100)

    def test_one_threshold_per_share_then_the_reserve(self) -> None:
        alpha = 0.01
        assert rate_threshold(alpha, [0.05]) == exact_threshold(alpha, 0.05)
        assert rate_threshold(alpha, [0.05, 0.05]) == exact_threshold(alpha, 0.05)
        assert rate_threshold(alpha, [0.05, 0.25]) == pytest.approx(1 / (LATER_ALPHA * alpha))
        assert rate_threshold(alpha, [0.05], calibrated=False) == pytest.approx(1 / alpha)
        assert rate_threshold(alpha, []) == pytest.approx(1 / alpha)

    @pytest.mark.parametrize("share", [0.05, 0.25, 0.5])
    def test_labels_checked_after_every_event_cross_within_alpha(self, share: float) -> None:
        rng = random.Random(int(share * 1000))
        runs, alpha = 3000, 0.1
        p = grid_share(share)
        c = exact_threshold(alpha, share)
        bound = sum(label_run(rng, p, c) for _ in range(runs))
        assert bound <= runs * alpha + 2 * math.sqrt(runs * alpha * (1 - alpha)), bound

    def test_a_stage_ended_just_below_the_threshold_stays_within_alpha(self) -> None:
        # The worst moment to end the first stage: one more candidate error would overshoot
        # 1/alpha. The next stage, at a 99 % share, moves in small steps that Ville's
        # bound fits tightly; its reserve threshold 1/(0.9 alpha) keeps the whole within alpha.
        rng = random.Random(5)
        runs, alpha = 3000, 0.1
        p = grid_share(0.05)
        c = exact_threshold(alpha, 0.05)
        later = (0.99, 1 / (LATER_ALPHA * alpha))
        bound = sum(label_run(rng, p, c, switch_at=1 / alpha, later=later) for _ in range(runs))
        assert bound <= runs * alpha + 2 * math.sqrt(runs * alpha * (1 - alpha)), bound


class TestCompareLatency:
    """A latency comparison flags a slower tail quickly and a healthy one rarely."""

    def test_p95_doubled_median_same_is_flagged_within_minutes(self) -> None:
        rng = random.Random(3)
        minutes = [
            first_flag_latency(rng, minutes=20, cand_sigma=SIGMA_P95_800, alpha=0.0025)
            for _ in range(10)
        ]
        assert all(m is not None and m <= 20 for m in minutes)

    def test_type_one_error_within_alpha_under_continuous_looks(self) -> None:
        rng = random.Random(11)
        runs, alpha = 120, 0.05
        flagged = sum(
            first_flag_latency(rng, minutes=15, cand_sigma=SIGMA_P95_400, alpha=alpha) is not None
            for _ in range(runs)
        )
        assert flagged <= runs * alpha + 2 * math.sqrt(runs * alpha)

    def test_faster_candidate_is_never_harmful(self) -> None:
        cand, ctrl = Sketch(), Sketch()
        cand.add_many(float(v) for v in range(50, 150))
        ctrl.add_many(float(v) for v in range(100, 1100))
        result = compare_latency(cand, ctrl, quantile=0.95, alpha=0.0025)
        assert not result.harmful
        assert result.e_value <= 1.0

    def test_reason_prints_both_quantiles(self) -> None:
        cand, ctrl = Sketch(), Sketch()
        cand.add_many([100.0] * 90 + [2000.0] * 30)
        ctrl.add_many([100.0] * 1900 + [300.0] * 100)
        result = compare_latency(cand, ctrl, quantile=0.95, alpha=0.0025)
        assert result.harmful
        assert result.metric == "latency_p95_ms"
        assert re.match(r"latency_p95_ms 2,0\d\d vs control 10\d: \+1,9\d\d ", result.reason)
        assert "candidate samples above the pooled p95" in result.reason

    def test_tolerated_slowdown_is_not_harmful(self) -> None:
        cand, ctrl = Sketch(), Sketch()
        cand.add_many(float(v) * 1.1 for v in range(1, 2001))
        ctrl.add_many(float(v) for v in range(1, 2001) for _ in range(10))
        assert compare_latency(cand, ctrl, quantile=0.95, alpha=0.0025).harmful
        assert not compare_latency(
            cand, ctrl, quantile=0.95, alpha=0.0025, max_increase_pct=20
        ).harmful

    def test_empty_arm_is_insufficient(self) -> None:
        ctrl = Sketch()
        ctrl.add(100.0)
        result = compare_latency(Sketch(), ctrl, quantile=0.95, alpha=0.0025)
        assert result.insufficient_data
        assert not result.harmful

    @pytest.mark.parametrize("q", [0.0, 1.0, 95])
    def test_quantile_must_be_inside_unit_interval(self, q: float) -> None:
        with pytest.raises(ValidationError, match="quantile"):
            compare_latency(Sketch(), Sketch(), quantile=q, alpha=0.01)


class TestCompareMetric:
    """``compare_metric`` dispatches by metric name and refuses what cannot be compared."""

    def test_dispatch_on_aggregates(self) -> None:
        cand, ctrl = Aggregate(), Aggregate()
        for i in range(500):
            cand.record(latency_ms=100.0, error=i % 10 == 0)
        for i in range(5000):
            ctrl.record(latency_ms=100.0, error=i % 100 == 0)
        assert compare_metric("error_rate", cand, ctrl, alpha=0.0025).harmful
        latency = compare_metric("latency_p95_ms", cand, ctrl, alpha=0.0025)
        assert not latency.harmful
        assert latency.candidate_value == pytest.approx(100, rel=0.01)

    def test_uncomparable_metric_is_refused(self) -> None:
        assert not is_comparable("cost_usd")
        assert is_comparable("retry_rate")
        assert is_comparable("latency_p99_ms")
        with pytest.raises(ValidationError, match="not supported for 'cost_usd'"):
            compare_metric("cost_usd", Aggregate(), Aggregate(), alpha=0.01)
        with pytest.raises(ValidationError, match="max_increase_pct"):
            compare_metric("latency_p95_ms", Aggregate(), Aggregate(), alpha=0.01, max_increase=5)


class TestSplitBudget:
    """The false-rollback budget is split across compared metrics and sums to the budget."""

    def test_default_split_gives_rates_three_shares(self) -> None:
        alphas = split_budget(DEFAULT_FALSE_ROLLBACK_RATE, ["error_rate", "latency_p95_ms"])
        assert alphas == pytest.approx({"error_rate": 0.00375, "latency_p95_ms": 0.00125})

    def test_test_keys_weigh_what_their_metric_weighs(self) -> None:
        keys = ["error_rate|None|None", "latency_p95_ms|None|10.0", "cost_usd|>|5.0"]
        alphas = split_budget(0.005, keys)
        assert alphas == pytest.approx(
            {
                "error_rate|None|None": 0.003,
                "latency_p95_ms|None|10.0": 0.001,
                "cost_usd|>|5.0": 0.001,
            }
        )

    @given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1), st.floats(1e-4, 0.5))
    def test_shares_sum_to_the_budget(self, metrics: list[str], budget: float) -> None:
        alphas = split_budget(budget, metrics)
        assert set(alphas) == set(metrics)
        assert sum(alphas.values()) == pytest.approx(budget)

    def test_weights_shift_the_split(self) -> None:
        alphas = split_budget(0.004, ["error_rate", "latency_p95_ms"], {"error_rate": 3})
        assert alphas["error_rate"] == pytest.approx(0.003)

    @pytest.mark.parametrize("rate", [0.0, 1.0, -0.1])
    def test_budget_outside_unit_interval_is_refused(self, rate: float) -> None:
        with pytest.raises(ValidationError, match="false_rollback_rate"):
            split_budget(rate, ["error_rate"])
