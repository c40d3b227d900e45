"""The sdk source kind: built-in metrics of the SDK's outcomes over a recent window."""

from __future__ import annotations

import pytest

from phased.errors import SourceQueryError
from phased.sources.base import SourceQuery
from phased.sources.config import SourceConfig
from phased.sources.sdk import SdkSource
from phased.store.engine import Store
from phased.testing import FrozenClock
from service.rollout_fixtures import feed


def ask(store: Store, clock: FrozenClock, metric: str, arm: str = "candidate") -> float:
    source = SdkSource("outcomes-1h", SourceConfig(kind="sdk"), store=store)
    return source.query(
        SourceQuery(
            query=metric,
            now=clock.datetime(),
            window_seconds=3600,
            flag="awf_bundle",
            stage="canary-5",
            environment="prod",
            arm=arm,
        )
    )


class TestSdkSource:
    """Counts and rates over the last window, per arm; nothing recorded is no data."""

    def test_rate_per_hour_over_the_window(self, store: Store, clock: FrozenClock) -> None:
        feed(store, clock, candidate=(300, 6), control=(100, 1))
        clock.advance(1800)
        feed(store, clock, candidate=(900, 9))
        assert ask(store, clock, "requests_per_hour") == pytest.approx(1200.0)
        assert ask(store, clock, "errors_per_hour") == pytest.approx(15.0)
        assert ask(store, clock, "error_rate", arm="control") == pytest.approx(0.01)
        clock.advance(3000)  # the first batch has left the window
        assert ask(store, clock, "requests_per_hour") == pytest.approx(900.0)

    def test_no_outcomes_is_no_data(self, store: Store, clock: FrozenClock) -> None:
        with pytest.raises(SourceQueryError, match="no candidate outcomes"):
            ask(store, clock, "error_rate")
