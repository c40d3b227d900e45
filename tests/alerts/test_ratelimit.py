"""The per-channel token bucket and its pause for a server's retry_after."""

from __future__ import annotations

import pytest

from phased.alerts import TokenBucket


class TestTokenBucket:
    """A burst is granted at once; after that, tokens come at the configured rate."""

    def test_burst_then_wait(self) -> None:
        bucket = TokenBucket(rate_per_second=0.5, burst=3)
        assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert bucket.take(0.0) == pytest.approx(2.0)
        assert bucket.take(2.0) == 0.0

    def test_refill_is_capped_at_burst(self) -> None:
        bucket = TokenBucket(rate_per_second=1.0, burst=2)
        bucket.take(0.0)
        bucket.take(0.0)
        granted = [bucket.take(1000.0) for _ in range(3)]
        assert granted[:2] == [0.0, 0.0]
        assert granted[2] > 0

    def test_pause(self) -> None:
        bucket = TokenBucket(rate_per_second=10.0, burst=5)
        bucket.pause_until(30.0)
        assert bucket.take(10.0) == pytest.approx(20.0)
        assert bucket.take(30.0) == 0.0  # one request when the server allows it
        assert bucket.take(30.0) > 0  # but no burst on top of it
        assert bucket.take(30.1) == 0.0
