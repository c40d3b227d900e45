"""The phased SDK's outcomes as a metric source: any built-in metric over a recent window.

The plain ``source: sdk`` (or no source) keeps the statistical judge over the
whole stage. A source of kind ``sdk`` in sources.yaml instead reads the last
``window`` of outcomes (``{metric: invocations, source: outcomes-1h, query:
requests_per_hour, window: 1h, above: 1000}``): counts and rates over a
window, the way a CloudWatch alarm reads them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from phased.core.outcomes import Arm, metric_value
from phased.errors import SourceQueryError
from phased.sources.base import SourceQuery
from phased.sources.config import SourceConfig
from phased.store.engine import Store


class SdkSource:
    """Outcome windows of the flag in the stage's environment, for one arm."""

    kind: ClassVar[str] = "sdk"

    def __init__(self, name: str, config: SourceConfig, *, store: Store) -> None:
        self.name = name
        self.config = config
        self.store = store

    def query(self, request: SourceQuery) -> float:
        from phased.service.outcomes import read_totals

        since = request.now - timedelta(seconds=request.window_seconds)
        arms = read_totals(
            self.store,
            request.flag,
            request.environment,
            stages=[request.stage, ""],
            since=since,
            until=request.now,
        )
        agg = arms[Arm(request.arm)]
        try:
            value = metric_value(request.query, agg, elapsed_seconds=request.window_seconds)
        except Exception as exc:
            raise SourceQueryError(f"metric {request.query!r}: {exc}", source=self.name) from None
        if value is None:
            raise SourceQueryError(
                f"no {request.arm} outcomes of {request.flag} in the last "
                f"{request.window_seconds:g} s",
                source=self.name,
            )
        return value
