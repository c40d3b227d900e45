"""Old/new comparison, pure parts: stage modes, ignore rules, the statistical mismatch gate."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phased.core.compare import (
    CompareMode,
    comparisons_needed,
    make_comparator,
    mismatch_diff,
    plan_of,
    upper_bound,
    without,
)
from phased.core.gates import StageOutcomes, Verdict, evaluate_check
from phased.core.outcomes import MISMATCH_METRIC, Aggregate, metric_value
from phased.core.plans import parse_plan
from phased.core.plans.check import Gate
from phased.errors import SourceError


class TestModes:
    """Which path serves and which is compared, per mode and flag evaluation."""

    @pytest.mark.parametrize(
        ("mode", "enabled", "expected"),
        [
            ("old", True, ("old", None)),
            ("shadow", True, ("old", "new")),
            ("shadow", False, ("old", None)),
            ("live", True, ("new", "old")),
            ("live", False, ("old", None)),
            ("new", False, ("new", None)),
        ],
    )
    def test_plan_of(self, mode: str, enabled: bool, expected: tuple[str, str | None]) -> None:
        assert plan_of(CompareMode(mode), enabled) == expected

    def test_only_new_is_terminal(self) -> None:
        assert [m.value for m in CompareMode if m.is_terminal] == ["new"]


class TestIgnoreRules:
    """Ignored paths are dropped before ``==`` (or the given comparison)."""

    def test_paths_and_wildcards(self) -> None:
        value = {"labels": ["a"], "meta": {"at": 1, "id": 2}, "items": [{"t": 1, "k": 2}]}
        assert without(value, ["meta.at", "items.*.t"]) == {
            "labels": ["a"],
            "meta": {"id": 2},
            "items": [{"k": 2}],
        }
        same = make_comparator(["meta"])
        assert same({"x": 1, "meta": 1}, {"x": 1, "meta": 2})
        assert not same({"x": 1}, {"x": 2})

    def test_custom_comparison_and_diff(self) -> None:
        lower = make_comparator((), lambda a, b: a.lower() == b.lower())
        assert lower("A", "a")
        assert mismatch_diff({"l": ["bug"]}, {"l": ["bug", "dup"]}) == ['+ l[1]: "dup"']


class TestMismatchGateStatistics:
    """Clopper–Pearson: zero mismatches in 2,995 comparisons bound the rate by 0.1 % at 95 %."""

    def test_the_issue_number(self) -> None:
        assert comparisons_needed(0.001, 0.95) == 2995
        assert upper_bound(0, 2995, 0.95) <= 0.001 < upper_bound(0, 2994, 0.95)
        assert comparisons_needed(0.001, 0.95, mismatches=1) == 4742
        assert comparisons_needed(0.01, 0.99) == 459

    def test_known_value(self) -> None:
        assert upper_bound(3, 100, 0.95) == pytest.approx(0.0757, abs=1e-4)
        assert upper_bound(0, 0, 0.95) == 1.0
        assert upper_bound(5, 5, 0.95) == 1.0

    @settings(max_examples=60, deadline=None)
    @given(st.integers(0, 30), st.integers(1, 3000), st.sampled_from([0.9, 0.95, 0.99]))
    def test_bound_is_above_the_estimate_and_falls_with_n(
        self, k: int, n: int, confidence: float
    ) -> None:
        k = min(k, n)
        upper = upper_bound(k, n, confidence)
        assert k / n <= upper <= 1.0
        assert upper_bound(k, n + 50, confidence) <= upper + 1e-12

    @settings(max_examples=30, deadline=None)
    @given(st.integers(0, 5), st.sampled_from([0.001, 0.01, 0.05]))
    def test_needed_is_the_first_n_that_passes(self, k: int, limit: float) -> None:
        n = comparisons_needed(limit, 0.95, k)
        assert upper_bound(k, n, 0.95) <= limit
        assert upper_bound(k, n - 1, 0.95) > limit


def stage_with(mismatches: int, comparisons: int) -> StageOutcomes:
    cand = Aggregate()
    for i in range(min(comparisons, 20)):
        cand.record(latency_ms=5, metrics={MISMATCH_METRIC: 1.0 if i < mismatches else 0.0})
    if comparisons > 20:  # the same totals as recording each one, without the wait
        cand.requests = comparisons
        cand.metrics[MISMATCH_METRIC] = [float(mismatches), float(comparisons)]
    return StageOutcomes("parallel", "prod", cand, Aggregate(), 3600.0)


GATE = Gate(metric="mismatch_rate", at_most=0.001, confidence=0.95)


class TestConfidenceGate:
    """The gate waits with a count of clean comparisons still needed, passes, or fails."""

    def test_waiting_counts_down(self) -> None:
        result = evaluate_check(GATE, "gate", stage_with(0, 1000), alpha=0.05)
        assert result.verdict is Verdict.WAITING
        assert "0 mismatches in 1,000 comparisons" in result.reason
        assert "1,995 more clean needed" in result.reason

    def test_passes_at_2995(self) -> None:
        result = evaluate_check(GATE, "gate", stage_with(0, 2995), alpha=0.05)
        assert result.verdict is Verdict.PASS
        assert result.samples == 2995

    def test_a_mismatch_holds_until_resolved(self) -> None:
        result = evaluate_check(GATE, "gate", stage_with(1, 10_000), alpha=0.05)
        assert result.verdict is Verdict.WAITING
        assert "1 unresolved: resolve each (phased compare resolve)" in result.reason

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(0, 4000))
    def test_passes_only_without_mismatches(self, flips: list[bool], n: int) -> None:
        """Continuous looks keep the confidence: a pass needs every comparison so far clean."""
        k = sum(flips)
        result = evaluate_check(GATE, "gate", stage_with(min(k, n), n), alpha=0.05)
        if result.verdict is Verdict.PASS:
            assert min(k, n) == 0
            assert n >= 2995
            assert (1 - 0.001) ** n <= 0.05  # P(all clean) at a true rate of 0.1 %

    def test_fails_when_clearly_above(self) -> None:
        result = evaluate_check(GATE, "gate", stage_with(30, 1000), alpha=0.05)
        assert result.verdict is Verdict.FAIL
        assert "30 mismatches in 1,000 comparisons, above 0.001 (95 % confidence" in result.reason

    def test_no_comparisons_yet(self) -> None:
        result = evaluate_check(GATE, "gate", stage_with(0, 0), alpha=0.05)
        assert result.verdict is Verdict.WAITING
        assert "2,995 clean ones needed" in result.reason

    def test_metrics(self) -> None:
        agg = stage_with(2, 10).candidate
        assert metric_value("mismatch_rate", agg) == pytest.approx(0.2)
        assert metric_value("comparisons", agg) == 10
        assert metric_value("mismatch_rate", Aggregate()) is None


PLAN = """\
flag: unified_pipeline
environment: prod
stages:
  - name: parallel
    audience: 20
    compare: shadow
    gates:
      - {metric: mismatch_rate, at_most: 0.001, confidence: 0.95}
  - name: cutover
    audience: 100
    compare: live
"""


class TestPlanFields:
    """A stage names its compare mode; confidence belongs to mismatch_rate thresholds only."""

    def test_parse(self) -> None:
        plan = parse_plan(PLAN)
        assert [s.compare for s in plan.stages] == [CompareMode.SHADOW, CompareMode.LIVE]
        assert plan.stages[0].gates[0].confidence == 0.95

    def test_bad_mode(self) -> None:
        with pytest.raises(SourceError, match=r":6: stages\[0\]\.compare"):
            parse_plan(PLAN.replace("compare: shadow", "compare: mirror"))

    def test_confidence_on_another_metric(self) -> None:
        text = PLAN.replace(
            "metric: mismatch_rate, at_most: 0.001", "metric: error_rate, below: 0.01"
        )
        with pytest.raises(SourceError, match="confidence: only for"):
            parse_plan(text)


def test_needed_formula_matches_closed_form() -> None:
    assert comparisons_needed(0.001, 0.95) == math.ceil(math.log(0.05) / math.log(0.999))


def _pmf(k: int, n: int, p: float) -> float:
    return math.exp(
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def _false_pass_rereading_the_bound(p: float, mismatches_up_to: int = 25) -> float:
    """P(ever pass) when the bound is re-read after each comparison, at true rate ``p``."""
    thresholds = [comparisons_needed(0.001, 0.95, k) for k in range(mismatches_up_to)]
    alive, n, total = {0: 1.0}, 0, 0.0
    for k_limit, n_limit in enumerate(thresholds):
        step, grown = n_limit - n, {}
        for k, prob in alive.items():
            for j in range(60):
                grown[k + j] = grown.get(k + j, 0.0) + prob * _pmf(j, step, p)
        n = n_limit
        total += sum(v for k, v in grown.items() if k <= k_limit)
        alive = {k: v for k, v in grown.items() if k > k_limit}
    return total


class TestWhyAMismatchHoldsTheGate:
    """Re-reading the bound after mismatches on every look breaks the 95 %; the gate does not."""

    def test_rereading_would_pass_a_bad_rate_a_fifth_of_the_time(self) -> None:
        assert _false_pass_rereading_the_bound(0.001) == pytest.approx(0.207, abs=0.005)

    def test_the_gate_keeps_its_confidence(self) -> None:
        assert (1 - 0.001) ** comparisons_needed(0.001, 0.95) <= 0.05
