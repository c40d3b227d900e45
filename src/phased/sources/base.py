"""The one protocol every metric source implements, and what a query carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SourceQuery:
    """One question to a metric source, with the template variables already filled in."""

    query: str
    """PromQL, a web source's path or body, or a built-in metric name (sdk sources)."""
    now: datetime
    window_seconds: float
    flag: str = ""
    stage: str = ""
    environment: str = ""
    arm: str = "candidate"
    jsonpath: str | None = None
    variables: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class MetricSource(Protocol):
    """A place numbers come from: the SDK's outcomes, Prometheus, a web endpoint, …"""

    kind: ClassVar[str]
    name: str

    def query(self, request: SourceQuery) -> float:
        """One number, or raise :class:`phased.errors.SourceQueryError` (redacted message).

        "No data" is an error too: missing data is never good news.
        """
        ...
