"""Traffic models: validated like plans, and latency shaped as given."""

from __future__ import annotations

import math
import random

import pytest

from phased.errors import SourceError
from phased.simulate.traffic import Latency, parse_traffic

MODEL = """\
seed: 7
requests_per_minute: 200
duration_minutes: 120
users: 50000
attributes:
  role: {admin: 0.02, pm: 0.05, developer: 0.20, member: 0.73}
  labels: {beta-test: 0.05}
control:   {error_rate: 0.01, latency_ms: {median: 120, p95: 400}}
candidate: {error_rate: 0.02, latency_ms: {median: 120, p95: 400},
            fallback_rate: 0.0, retry_rate: 0.0, cost_usd: 0.002, starts_at_minute: 0}
"""


class TestParse:
    """The issue's example model reads as written; bad numbers name file, line and field."""

    def test_issue_example(self) -> None:
        model = parse_traffic(MODEL, "t.yaml")
        assert model.requests_per_minute == 200
        assert model.candidate.cost_usd == 0.002
        assert model.attributes["labels"] == {"beta-test": 0.05}

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (
                "error_rate: 0.01,",
                "t.yaml:8: control.error_rate: must be between 0 and 1 (got -0.01)",
            ),
            ("requests_per_minute: 200", "t.yaml:2: requests_per_minute: must be more than 0"),
            ("cost_usd: 0.002", "t.yaml:10: candidate.cost_usd: must not be negative"),
            ("member: 0.73", "t.yaml:6: attributes.role: shares add up to 1.2"),
            (
                "p95: 400}}\ncandidate",
                "t.yaml:8: control.latency_ms: p95: must be at least the median",
            ),
        ],
    )
    def test_bad_numbers(self, change: str, expected: str) -> None:
        broken = {
            "error_rate: 0.01,": "error_rate: -0.01,",
            "requests_per_minute: 200": "requests_per_minute: -5",
            "cost_usd: 0.002": "cost_usd: -0.002",
            "member: 0.73": "member: 0.93",
            "p95: 400}}\ncandidate": "p95: 40}}\ncandidate",
        }[change]
        with pytest.raises(SourceError) as info:
            parse_traffic(MODEL.replace(change, broken, 1), "t.yaml")
        assert str(info.value).startswith(expected)


class TestLatency:
    """Median and p95 of the lognormal are the ones the model gives."""

    def test_quantiles(self) -> None:
        latency = Latency(median=120, p95=400)
        rng = random.Random(1)
        values = sorted(math.exp(latency.mu + latency.sigma * rng.gauss()) for _ in range(40_000))
        assert values[20_000] == pytest.approx(120, rel=0.03)
        assert values[38_000] == pytest.approx(400, rel=0.05)


REAL = """\
seed: 3
requests_per_minute: 200
duration_minutes: 30
users: {count: 500, activity_sigma: 1.5}
troubled: {share: 0.02, error_rate: 0.5}
slow: {share: 0.02, latency_factor: 4}
bots: {count: 2, traffic_share: 0.05, error_rate: 0.95}
incidents:
  - {at_minute: 5, minutes: 3, error_rate: 0.3}
daily_cycle: {amplitude: 0.5, peak_minute: 0}
control:   {error_rate: 0.01}
candidate: {error_rate: 0.01}
"""


class TestRealUsers:
    """Models with real users: unequal activity, troubled and slow users, bots, incidents."""

    def test_parses_and_switches_to_units(self) -> None:
        model = parse_traffic(REAL, "r.yaml")
        assert model.user_count == 500
        assert model.by_unit
        assert not parse_traffic(MODEL, "t.yaml").by_unit

    def test_population_is_heavy_tailed_with_bots_and_cycle(self) -> None:
        from phased.simulate.run import Population

        model = parse_traffic(REAL, "r.yaml")
        people = Population(model, random.Random(1))
        picks = [people.pick() for _ in range(20_000)]
        counts = sorted((picks.count(u) for u in set(picks)), reverse=True)
        assert sum(counts[:2]) / 20_000 > 0.04  # the two bots carry about 5 %
        assert counts[10] > 10 * counts[len(counts) // 2]  # a few users make most requests
        bots = [u for u, (rate, _) in people.special.items() if rate == 0.95]
        assert len(bots) == 2
        assert people.rate(0) == pytest.approx(300)
        assert people.rate(720) == pytest.approx(100)
        assert people.incident(6) == pytest.approx(0.3)
        assert people.incident(8) == 0.0

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ("activity_sigma: 1.5", "r.yaml:4: users.activity_sigma"),
            ("traffic_share: 0.05", "r.yaml:7: bots.traffic_share"),
        ],
    )
    def test_bad_numbers(self, change: str, expected: str) -> None:
        key, value = change.split(": ")
        with pytest.raises(SourceError) as err:
            parse_traffic(REAL.replace(change, f"{key}: {-float(value)}"), "r.yaml")
        assert str(err.value).startswith(expected)
