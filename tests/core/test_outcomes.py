"""Outcome aggregates: exact merges, JSON round trips, and the metric catalogue."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.outcomes import (
    BUILTIN_METRICS,
    Aggregate,
    Arm,
    OutcomeKey,
    UniqueUsers,
    latency_quantile,
    metric_value,
    slot_of,
)
from phased.errors import ValidationError

outcome = st.fixed_dictionaries(
    {
        "latency_ms": st.one_of(st.none(), st.floats(min_value=0.1, max_value=1e5)),
        "error": st.booleans(),
        "fallback": st.booleans(),
        "retries": st.integers(min_value=0, max_value=3),
        # multiples of 1/8 add exactly in binary, so merge order cannot change the sum
        "cost_usd": st.integers(min_value=0, max_value=64).map(lambda n: n / 8),
        "user": st.one_of(st.none(), st.sampled_from([f"u{i}" for i in range(40)])),
        "metrics": st.dictionaries(
            st.sampled_from(["accuracy", "tokens"]),
            st.integers(min_value=0, max_value=100).map(float),
            max_size=2,
        ),
    }
)
aggregates = st.lists(outcome, max_size=30).map(
    lambda outcomes: _aggregate_of(outcomes)  # noqa: PLW0108  # defined below
)


def _aggregate_of(outcomes: list[dict[str, object]]) -> Aggregate:
    agg = Aggregate()
    for o in outcomes:
        agg.record(**o)  # type: ignore[arg-type]
    return agg


def merged(*parts: Aggregate) -> Aggregate:
    return Aggregate.merged(parts)


class TestAggregateMerge:
    """Merging is associative and commutative, so windows combine in any order."""

    @given(aggregates, aggregates)
    def test_commutative(self, a: Aggregate, b: Aggregate) -> None:
        assert merged(a, b) == merged(b, a)

    @given(aggregates, aggregates, aggregates)
    def test_associative(self, a: Aggregate, b: Aggregate, c: Aggregate) -> None:
        assert merged(merged(a, b), c) == merged(a, merged(b, c))

    @given(st.lists(outcome, max_size=20), st.lists(outcome, max_size=20))
    def test_merge_equals_recording_everything_in_one(
        self, left: list[dict[str, object]], right: list[dict[str, object]]
    ) -> None:
        assert merged(_aggregate_of(left), _aggregate_of(right)) == _aggregate_of(left + right)


class TestSerialization:
    """``to_dict`` survives JSON and ``from_dict`` refuses inconsistent windows."""

    @given(aggregates)
    def test_json_round_trip(self, agg: Aggregate) -> None:
        assert Aggregate.from_dict(json.loads(json.dumps(agg.to_dict()))) == agg

    def test_more_errors_than_requests_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="errors"):
            Aggregate.from_dict({"requests": 1, "errors": 2})

    def test_negative_counts_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="negative"):
            Aggregate.from_dict({"requests": -1})

    def test_key_round_trip_and_bad_arm(self) -> None:
        key = OutcomeKey("checkout", "prod", Arm.CANDIDATE, "canary-5", slot_of(1_700_000_005))
        assert OutcomeKey.from_dict(json.loads(json.dumps(key.to_dict()))) == key
        assert key.slot == 170_000_000
        with pytest.raises(ValidationError, match="candidate or control"):
            OutcomeKey.from_dict({**key.to_dict(), "arm": "treatment"})


class TestMetricCatalogue:
    """Every built-in metric is defined from an aggregate, and undefined ones are None."""

    def setup_method(self) -> None:
        self.agg = Aggregate()
        for i in range(200):
            self.agg.record(
                latency_ms=float(i + 1),
                error=i % 20 == 0,
                fallback=i % 50 == 0,
                retries=1 if i % 25 == 0 else 0,
                cost_usd=0.01,
                user=f"user-{i % 80}",
                metrics={"accuracy": 0.9},
            )

    def test_counts_and_rates(self) -> None:
        def value(name: str) -> float | None:
            return metric_value(name, self.agg, elapsed_seconds=3600)

        assert value("requests") == 200
        assert value("errors") == 10
        assert value("successes") == 190
        assert value("error_rate") == pytest.approx(0.05)
        assert value("fallback_rate") == pytest.approx(0.02)
        assert value("retry_rate") == pytest.approx(0.04)
        assert value("cost_usd") == pytest.approx(2.0)
        assert value("cost_per_request") == pytest.approx(0.01)
        assert value("cost_usd_per_day") == pytest.approx(48.0)
        assert value("unique_users") == 80
        assert value("accuracy") == pytest.approx(0.9)

    def test_latency_quantiles_within_one_percent(self) -> None:
        for name, exact in (
            ("latency_p50_ms", 100),
            ("latency_p95_ms", 190),
            ("latency_p99_ms", 198),
        ):
            assert metric_value(name, self.agg) == pytest.approx(exact, rel=0.01)

    def test_every_builtin_is_defined_on_data(self) -> None:
        for name in BUILTIN_METRICS:
            if name == "mismatch_rate":  # defined once client.compare recorded comparisons
                continue
            assert metric_value(name, self.agg, elapsed_seconds=60) is not None, name

    def test_undefined_without_data(self) -> None:
        empty = Aggregate()
        for name in ("error_rate", "latency_p95_ms", "cost_per_request", "accuracy"):
            assert metric_value(name, empty) is None, name
        assert metric_value("mismatch_rate", self.agg) is None  # no comparison recorded
        assert metric_value("cost_usd_per_day", self.agg) is None  # no elapsed time given

    def test_latency_metric_names(self) -> None:
        assert latency_quantile("latency_p95_ms") == 0.95
        assert latency_quantile("latency_p99.9_ms") == pytest.approx(0.999)
        assert latency_quantile("latency_ms") is None
        assert latency_quantile("error_rate") is None


class TestMetricCatalogueIsLazy:
    """Reading one metric computes only that metric (the distinct-user estimate is costly)."""

    class _CountingUsers(UniqueUsers):
        __slots__ = ("estimates",)

        def __init__(self) -> None:
            super().__init__()
            self.estimates = 0

        def estimate(self) -> int:
            self.estimates += 1
            return super().estimate()

    def test_distinct_users_are_counted_only_when_asked(self) -> None:
        agg = Aggregate()
        users = self._CountingUsers()
        agg.users = users
        for i in range(600):
            agg.record(latency_ms=10.0 + i, error=i % 7 == 0, user=f"u{i}", cost_usd=0.5)
        for name in BUILTIN_METRICS:
            if name != "unique_users":
                metric_value(name, agg, elapsed_seconds=60)
        assert users.estimates == 0
        assert metric_value("unique_users", agg) == pytest.approx(600, rel=0.05)
        assert users.estimates == 1

    @given(aggregates)
    def test_values_match_the_eager_definitions(self, agg: Aggregate) -> None:
        n = agg.requests
        eager = {
            "requests": float(n),
            "successes": float(n - agg.errors),
            "errors": float(agg.errors),
            "cost_usd": agg.cost_usd,
            "unique_users": float(agg.users.estimate()),
            "error_rate": agg.errors / n if n else None,
            "fallback_rate": agg.fallbacks / n if n else None,
            "retry_rate": agg.retries / n if n else None,
            "cost_per_request": agg.cost_usd / n if n else None,
        }
        for name, expected in eager.items():
            assert metric_value(name, agg) == expected, name


class TestUniqueUsers:
    """The distinct-user count is close, counts repeats once, and merges as a union."""

    def test_small_counts_are_exact(self) -> None:
        users = UniqueUsers()
        for i in range(1000):
            users.add(f"user-{i % 512}")
        assert users.estimate() == 512

    def test_large_counts_within_five_percent(self) -> None:
        users = UniqueUsers()
        for i in range(10_000):
            users.add(f"user-{i}")
        assert users.estimate() == pytest.approx(10_000, rel=0.05)

    def test_merge_is_a_union(self) -> None:
        a, b = UniqueUsers(), UniqueUsers()
        for i in range(1000):
            a.add(f"user-{i}")
            b.add(f"user-{i + 500}")
        a.merge(b)
        assert a.estimate() == pytest.approx(1500, rel=0.05)

    def test_out_of_range_register_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="register"):
            UniqueUsers.from_dict({"registers": {"5000": 3}})

    def test_round_trip_in_both_forms(self) -> None:
        few, many = UniqueUsers(), UniqueUsers()
        for i in range(2000):
            many.add(f"user-{i}")
            if i < 10:
                few.add(f"user-{i}")
        for users in (few, many):
            assert UniqueUsers.from_dict(json.loads(json.dumps(users.to_dict()))) == users
