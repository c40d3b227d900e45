"""Prometheus: a PromQL instant or range query, one series, one number.

The query's template variables (``{{flag}}``, ``{{stage}}``, ``{{arm}}``,
``{{interval}}``, ``{{environment}}``) are filled in before it gets here; the
candidate and control arms are the same query with ``{{arm}}`` set to each
(select them by label: ``arm="{{arm}}"``). An answer with no series, several
series, or NaN is an error: aggregate (``sum(...)``) to one series.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, ClassVar

import httpx

from phased.errors import SourceQueryError
from phased.sources.base import SourceQuery
from phased.sources.config import SourceConfig
from phased.sources.transport import request_json

# Prometheus answers 400 (bad_data) and 422 (execution) with a JSON error worth showing.
_ERROR_STATUSES = (400, 422, 503)


class PrometheusSource:
    """Queries ``/api/v1/query`` (instant) or ``/api/v1/query_range`` (range, then reduced)."""

    kind: ClassVar[str] = "prometheus"

    def __init__(self, name: str, config: SourceConfig, *, http: httpx.Client) -> None:
        self.name = name
        self.config = config
        self.http = http

    def query(self, request: SourceQuery) -> float:
        cfg = self.config
        assert cfg.address is not None
        at = request.now.timestamp()
        if cfg.query_type == "instant":
            url = f"{cfg.address}/api/v1/query"
            params = {"query": request.query, "time": f"{at:.3f}"}
        else:
            url = f"{cfg.address}/api/v1/query_range"
            start = request.now - timedelta(seconds=request.window_seconds)
            params = {
                "query": request.query,
                "start": f"{start.timestamp():.3f}",
                "end": f"{at:.3f}",
                "step": f"{cfg.step_seconds:g}",
            }
        _status, data = request_json(
            self.http,
            "GET",
            url,
            source=self.name,
            timeout=cfg.timeout_seconds,
            headers=cfg.headers,
            params=params,
            accept_status=_ERROR_STATUSES,
        )
        if not isinstance(data, dict) or data.get("status") != "success":
            kind = data.get("errorType", "error") if isinstance(data, dict) else "error"
            message = data.get("error", data) if isinstance(data, dict) else data
            raise SourceQueryError(
                f"prometheus refused the query ({kind}): {message}", source=self.name
            )
        return self._value(data.get("data") or {})

    def _value(self, data: dict[str, Any]) -> float:
        kind = data.get("resultType")
        result = data.get("result")
        if kind == "scalar" and isinstance(result, list):
            return self._number(result[1])
        if not isinstance(result, list) or not result:
            raise SourceQueryError("the query returned no data (no series)", source=self.name)
        if len(result) > 1:
            labels = [s.get("metric", {}) for s in result[:3]]
            raise SourceQueryError(
                f"the query returned {len(result)} series ({labels}...); aggregate it to one, "
                "e.g. sum(...) or select the arm with {{arm}}",
                source=self.name,
            )
        series = result[0]
        if kind == "vector":
            return self._number(series["value"][1])
        values = [self._number(v[1]) for v in series.get("values", [])]
        if not values:
            raise SourceQueryError("the range query returned no samples", source=self.name)
        reduce = self.config.reduce
        if reduce == "last":
            return values[-1]
        if reduce == "max":
            return max(values)
        if reduce == "min":
            return min(values)
        return sum(values) / len(values)

    def _number(self, raw: object) -> float:
        try:
            value = float(str(raw))
        except ValueError:
            raise SourceQueryError(f"not a number: {raw!r}", source=self.name) from None
        if math.isnan(value) or math.isinf(value):
            raise SourceQueryError(
                f"the query returned {raw} (no traffic in the window?)", source=self.name
            )
        return value
