"""Analysis by randomisation unit: the summary merges exactly, the test keeps its promise."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phased.core import units as units_module
from phased.core.analysis import compare_metric
from phased.core.analysis.units import depth_weight
from phased.core.decide import decide
from phased.core.gates import Observations, StageOutcomes
from phased.core.outcomes import Aggregate
from phased.core.plans.load import parse_plan
from phased.core.rollout_state import new_rollout
from phased.core.units import Units, unit_hash
from phased.errors import ValidationError

SIGMA = math.log(400 / 120) / 1.6448536269514722

# (unit, requests, errors, retries, latency)
outcome = st.tuples(
    st.integers(0, 40),
    st.integers(1, 3),
    st.integers(0, 1),
    st.integers(0, 2),
    st.one_of(st.none(), st.floats(0.5, 5000.0)),
)


def build(rows: list[tuple[int, int, int, int, float | None]]) -> Units:
    out = Units()
    for unit, n, e, r, lat in rows:
        out.add(f"u-{unit}", requests=n, errors=min(e, n), retries=r, latency_ms=lat)
    return out


class TestUnitsSummary:
    """Per-unit records merge exactly and stay bounded."""

    @given(st.lists(st.lists(outcome, max_size=15), max_size=6))
    def test_merge_of_batches_equals_one_batch(self, batches: list[list[tuple]]) -> None:
        """Windows recorded apart and merged equal one window that saw everything."""
        merged = Units.merged(build(b) for b in batches)
        assert merged == build([row for b in batches for row in b])

    @given(st.lists(st.lists(outcome, max_size=30), min_size=1, max_size=6), st.data())
    @settings(max_examples=60)
    def test_any_grouping_merges_to_the_same_sample(
        self, batches: list[list[tuple]], data: st.DataObject
    ) -> None:
        """With sampling under way, rollup + recent equals one full read (associativity)."""
        old = units_module.UNIT_CAP
        units_module.UNIT_CAP = 8
        try:
            parts = [build(b) for b in batches]
            cut = data.draw(st.integers(0, len(parts)))
            rollup = Units.merged(parts[:cut])
            recent = Units.merged(parts[cut:])
            full = Units.merged(parts)
            rollup.merge(recent)
            assert rollup == full
            assert full.units <= 8
            counts = sorted((h, tuple(r)) for h, r in full.records.items())
            assert counts == sorted(
                (h, tuple(r)) for h, r in Units.from_dict(full.to_dict()).records.items()
            )
        finally:
            units_module.UNIT_CAP = old

    def test_memory_is_bounded_whatever_the_number_of_users(self) -> None:
        """A million distinct users leave at most UNIT_CAP records, a hash sample of them."""
        many = Units()
        for i in range(60_000):
            many.add(f"user-{i}", errors=i % 7 == 0)
        assert many.units <= units_module.UNIT_CAP
        assert many.depth >= 3
        assert many.requests == 60_000
        # the sample is about 1/2**depth of the users, and of the failing ones alike
        assert abs(many.units * 2**many.depth / 60_000 - 1) < 0.1
        assert abs(many.with_errors / many.units - 1 / 7) < 0.02

    def test_counts_follow_the_records(self) -> None:
        units = Units()
        units.add("a", latency_ms=100.0)
        units.add("a", errors=1, latency_ms=300.0)
        units.add("b", latency_ms=200.0)
        assert (units.units, units.with_errors, units.requests) == (2, 1, 3)
        assert sum(units.maxima.values()) == 2
        assert units.record_of(unit_hash("a"))[:2] == (2, 1)  # type: ignore[index]

    def test_bad_records_are_refused_with_the_field(self) -> None:
        with pytest.raises(ValidationError, match=r"units\.records"):
            Units.from_dict({"records": {"00000000000000ff": [1, 2, 0, 0, 0]}})
        with pytest.raises(ValidationError, match="units"):
            Units.from_dict({"requests": -1})


class TestAggregateCarriesUnits:
    """Windows carry units on the wire; windows without them read as before."""

    def test_round_trip_and_old_windows(self) -> None:
        agg = Aggregate()
        agg.record(latency_ms=120.0, error=True, user="u-1", unit="u-1")
        agg.record(latency_ms=80.0, user="u-2", unit="u-2")
        data = agg.to_dict()
        assert data["units"]["requests"] == 2
        assert Aggregate.from_dict(data) == agg
        old = Aggregate()
        old.record(latency_ms=120.0, error=True, user="u-1")
        assert "units" not in old.to_dict()
        assert Aggregate.from_dict(old.to_dict()).units.requests == 0

    def test_units_beyond_the_window_totals_are_refused(self) -> None:
        agg = Aggregate()
        agg.record(error=True, unit="u-1")
        data = agg.to_dict()
        data["requests"] = 0
        data["errors"] = 0
        with pytest.raises(ValidationError, match=r"aggregate\.units"):
            Aggregate.from_dict(data)


def population(rng: random.Random, n: int, sigma: float) -> list[float]:
    weights = [rng.lognormvariate(0.0, sigma) for _ in range(n)]
    total = sum(weights)
    return list(itertools.accumulate(w / total for w in weights))


def rollout(
    rng: random.Random,
    *,
    metric: str,
    minutes: int = 40,
    rpm: int = 60,
    users: int = 300,
    share: float = 0.25,
    sigma: float = 1.5,
    troubled: float = 0.0,
    slow: float = 0.0,
    bots: int = 0,
    cand_error: float = 0.02,
    alpha: float = 0.1,
    by_unit: bool = True,
) -> int | None:
    """Minute at which a rollout of sticky users is first flagged (None: never)."""
    cumulative = population(rng, users, sigma)
    cand = [rng.random() < share for _ in range(users)]
    own = {}
    for u in range(users):
        if rng.random() < troubled:
            own[u] = (0.5, 1.0)
        elif rng.random() < slow:
            own[u] = (None, 4.0)
    for u in rng.sample(range(users), bots):
        own[u] = (0.95, 1.0)
    arms = (Aggregate(), Aggregate())
    for minute in range(minutes):
        for _ in range(rpm):
            u = min(bisect.bisect_right(cumulative, rng.random()), users - 1)
            rate, factor = own.get(u, (None, 1.0))
            base = cand_error if cand[u] else 0.02
            arms[0 if cand[u] else 1].record(
                error=rng.random() < (base if rate is None else rate),
                latency_ms=factor * math.exp(math.log(120) + SIGMA * rng.gauss(0, 1)),
                unit=f"u-{u}" if by_unit else None,
            )
        if compare_metric(metric, arms[0], arms[1], alpha=alpha).harmful:
            return minute + 1
    return None


class TestNullCalibration:
    """A healthy candidate is flagged in at most alpha of runs, whatever its users do."""

    RUNS = 150
    ALLOWED = 24  # alpha = 0.1: 15 expected at the bound, 24 is 2.5 sd above it

    @pytest.mark.parametrize(
        ("kind", "metric", "options"),
        [
            ("heavy users", "error_rate", {}),
            ("troubled users", "error_rate", {"troubled": 0.03}),
            ("bots", "error_rate", {"bots": 3}),
            ("slow users", "latency_p95_ms", {"slow": 0.05}),
        ],
    )
    def test_false_rollbacks_within_alpha(self, kind: str, metric: str, options: dict) -> None:
        rng = random.Random(f"null-{kind}")
        flagged = sum(rollout(rng, metric=metric, **options) is not None for _ in range(self.RUNS))
        assert flagged <= self.ALLOWED, f"{kind}: {flagged} of {self.RUNS}"

    def test_request_level_test_breaks_on_troubled_users(self) -> None:
        """The control experiment: without units the same traffic is flagged far too often."""
        rng = random.Random("null-troubled-requests")
        flagged = sum(
            rollout(rng, metric="error_rate", troubled=0.03, by_unit=False) is not None
            for _ in range(60)
        )
        assert flagged > 60 * 0.1 * 1.5

    def test_a_5x_error_rate_is_flagged_by_unit(self) -> None:
        rng = random.Random("power")
        minutes = [rollout(rng, metric="error_rate", cand_error=0.1) for _ in range(20)]
        assert sum(m is not None for m in minutes) >= 18


class TestUnitComparison:
    """What the by-unit comparison says."""

    def test_too_few_units_is_insufficient_not_a_decision(self) -> None:
        cand, ctrl = Aggregate(), Aggregate()
        for i in range(50):
            cand.record(error=True, unit="only-one")  # one user failing fifty times
            ctrl.record(error=i % 10 == 0, unit=f"c-{i % 20}")
        verdict = compare_metric("error_rate", cand, ctrl, alpha=0.00375)
        assert verdict.insufficient_data
        assert not verdict.harmful
        assert "too few units" in verdict.reason

    def test_reason_counts_units(self) -> None:
        cand, ctrl = Aggregate(), Aggregate()
        for i in range(400):
            cand.record(error=i % 3 == 0, unit=f"c-{i}")
            ctrl.record(error=i % 50 == 0, unit=f"k-{i}")
        verdict = compare_metric("error_rate", cand, ctrl, alpha=0.00375)
        assert verdict.harmful
        assert "by unit" in verdict.reason
        assert "candidate units with errors" in verdict.reason

    def test_depth_weights_sum_to_at_most_one(self) -> None:
        assert sum(depth_weight(d) for d in range(65)) <= 1.0

    def test_units_spent_in_an_earlier_stage_are_not_counted_again(self) -> None:
        """A troubled candidate user failing in stage 1 and again in stage 2 is one label."""
        first, second = (Aggregate(), Aggregate()), (Aggregate(), Aggregate())
        for stage in (first, second):
            for i in range(30):
                stage[0].record(error=True, unit="troubled")
                stage[1].record(error=i % 15 == 0, unit=f"k-{i}")
        alone = compare_metric("error_rate", *second, alpha=0.1)
        both = compare_metric("error_rate", *second, alpha=0.1, prior_segments=[first])
        assert both.candidate_n == 1  # the troubled unit counted once over the rollout
        assert not both.harmful
        assert not alone.harmful


class TestStickyWarning:
    """A unit in both arms of a stage is a warning on the rollout."""

    def test_decide_warns(self) -> None:
        plan = parse_plan(
            "flag: f\nenvironment: prod\nstages:\n  - {name: canary, audience: 5, "
            "min_duration: 1d}\nrollback:\n  - {metric: error_rate, compare: control}\n",
            "p.yaml",
        )
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        state = decide(plan, new_rollout("f", "me", t0), Observations(), t0).state
        cand, ctrl = Aggregate(), Aggregate()
        cand.record(unit="u-1")
        ctrl.record(unit="u-1")
        ctrl.record(unit="u-2")
        current = StageOutcomes("canary", "prod", cand, ctrl, 60.0)
        decision = decide(plan, state, Observations(current=current), t0)
        notes = [a for a in decision.alerts if a.key.startswith("units-in-both-arms")]
        assert notes
        assert "1 unit(s) recorded in both arms" in notes[0].message
        assert "'user'" in notes[0].message
