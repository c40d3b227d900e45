"""Evidence that a rate is above a threshold: rare for healthy rates, quick for bad ones."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from phased.core.analysis.threshold import rate_above_e_value


class TestValidity:
    """Checked after every request, a rate at the threshold crosses 1/alpha at most alpha often."""

    def test_false_alarms_within_alpha(self) -> None:
        rng = random.Random(2026)
        alpha, p0, runs = 0.05, 0.05, 300
        alarms = 0
        for _ in range(runs):
            events = 0
            for n in range(1, 1501):
                events += rng.random() < p0
                if n % 10 == 0 and rate_above_e_value(events, n, p0) >= 1 / alpha:
                    alarms += 1
                    break
        assert alarms / runs <= alpha

    def test_finds_a_doubled_rate(self) -> None:
        rng = random.Random(7)
        events = sum(rng.random() < 0.10 for _ in range(1500))
        assert rate_above_e_value(events, 1500, 0.05) >= 200

    @given(st.integers(min_value=0, max_value=10_000), st.floats(min_value=0.001, max_value=0.5))
    def test_no_events_is_no_evidence(self, n: int, p0: float) -> None:
        assert rate_above_e_value(0, n, p0) <= 1.0
