"""The latency sketch: 1 % relative accuracy, exact merges, JSON round trips."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phased.core.sketch import RELATIVE_ACCURACY, Sketch, bucket_key, bucket_upper
from phased.errors import ValidationError

positive = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
samples = st.lists(positive, min_size=1, max_size=300)
quantiles = st.floats(min_value=0.0, max_value=1.0)


def sketch_of(values: list[float]) -> Sketch:
    sketch = Sketch()
    sketch.add_many(values)
    return sketch


def exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


class TestQuantileAccuracy:
    """Any quantile of any positive data is within 1 % of the exact sample quantile."""

    @given(samples, quantiles)
    def test_relative_error_at_most_one_percent(self, values: list[float], q: float) -> None:
        estimate = sketch_of(values).quantile(q)
        exact = exact_quantile(values, q)
        assert estimate is not None
        assert abs(estimate - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-9)

    def test_empty_sketch_has_no_quantile(self) -> None:
        assert Sketch().quantile(0.5) is None

    def test_zeros_and_negatives_count_as_zero(self) -> None:
        sketch = sketch_of([0.0, -3.0, 0.0, 10.0])
        assert sketch.count == 4
        assert sketch.quantile(0.5) == 0.0
        assert sketch.quantile(1.0) == pytest.approx(10.0, rel=RELATIVE_ACCURACY)

    def test_nan_is_ignored_rather_than_raised(self) -> None:
        sketch = sketch_of([math.nan, 5.0])
        assert sketch.count == 1

    @pytest.mark.parametrize("q", [-0.1, 1.5])
    def test_quantile_outside_unit_interval_is_refused(self, q: float) -> None:
        with pytest.raises(ValidationError, match="quantile"):
            Sketch().quantile(q)


class TestMerge:
    """Merging sketches equals adding every value to one sketch."""

    @given(samples, samples)
    def test_merge_equals_adding_all(self, left: list[float], right: list[float]) -> None:
        merged = sketch_of(left)
        merged.merge(sketch_of(right))
        assert merged == sketch_of(left + right)

    @given(st.lists(samples, min_size=1, max_size=5))
    def test_merged_is_order_independent(self, parts: list[list[float]]) -> None:
        forward = Sketch.merged(sketch_of(p) for p in parts)
        backward = Sketch.merged(sketch_of(p) for p in reversed(parts))
        assert forward == backward


class TestCountAbove:
    """Counting values above a threshold counts whole buckets above the threshold's bucket."""

    @given(samples, positive)
    def test_counts_buckets_above_the_thresholds(self, values: list[float], t: float) -> None:
        expected = sum(1 for v in values if bucket_key(v) > bucket_key(t))
        assert sketch_of(values).count_above(t) == expected

    @given(samples, positive)
    def test_never_counts_a_value_at_or_below_the_threshold(
        self, values: list[float], t: float
    ) -> None:
        strictly_above = sum(1 for v in values if v > t)
        assert sketch_of(values).count_above(t) <= strictly_above
        assert bucket_upper(bucket_key(t)) == pytest.approx(
            t, rel=0.021
        )  # one bucket: gamma - 1 = 2.02 %


class TestSerialization:
    """``to_dict`` is JSON-safe and ``from_dict`` rebuilds the same sketch."""

    @given(samples)
    @settings(max_examples=50)
    def test_json_round_trip(self, values: list[float]) -> None:
        sketch = sketch_of([*values, 0.0])
        assert Sketch.from_dict(json.loads(json.dumps(sketch.to_dict()))) == sketch

    def test_other_accuracy_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="accuracy"):
            Sketch.from_dict({"accuracy": 0.02, "bins": {}})

    def test_negative_counts_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="negative"):
            Sketch.from_dict({"bins": {"10": -1}})

    def test_non_integer_keys_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="integers"):
            Sketch.from_dict({"bins": {"ten": 1}})
