"""The metric source kinds: one line per kind.

Adding a source (CloudWatch, Datadog, …) is one module with a class
implementing :class:`phased.sources.base.MetricSource`, one line here, one
test file and a section in docs/sources.md.
"""

from __future__ import annotations

from typing import Any

import httpx

from phased.errors import ConfigurationError
from phased.sources.base import MetricSource
from phased.sources.config import SourceConfig
from phased.sources.prometheus import PrometheusSource
from phased.sources.sdk import SdkSource
from phased.sources.web import WebSource
from phased.store.engine import Store

SOURCE_KINDS: dict[str, type[Any]] = {
    "prometheus": PrometheusSource,
    "web": WebSource,
    "sdk": SdkSource,
}
# Kinds that query over HTTP and so need an `address`.
NEEDS_ADDRESS: frozenset[str] = frozenset({"prometheus", "web"})


def check_kind(kind: str, *, field: str) -> None:
    """Refuse an unknown kind with a message listing the valid ones."""
    if kind not in SOURCE_KINDS:
        raise ConfigurationError(
            f"unknown metric source kind {kind!r}; valid kinds: {', '.join(sorted(SOURCE_KINDS))}",
            field=field,
        )


def build_source(
    name: str, config: SourceConfig, *, http: httpx.Client, store: Store | None
) -> MetricSource:
    """Instantiate the source for one configured entry."""
    check_kind(config.kind, field=f"sources.{name}.kind")
    if config.kind == "sdk":
        if store is None:
            raise ConfigurationError(
                "an sdk source reads the store; it cannot be used without one",
                field=f"sources.{name}",
            )
        return SdkSource(name, config, store=store)
    source: MetricSource = SOURCE_KINDS[config.kind](name, config, http=http)
    return source
