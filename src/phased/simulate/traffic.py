"""The traffic model of ``phased simulate``: who arrives, and what happens to them per arm."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from phased.core.source import parse_yaml

LIST_ATTRIBUTES = frozenset({"labels", "tags", "groups"})
"""Attributes that hold a list: each value is drawn independently with its share."""
Z95 = 1.6448536269514722  # the standard normal's 95th percentile


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _rate(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be between 0 and 1 (got {value:g}); write 1 % as 0.01")
    return value


class Latency(_Model):
    """A lognormal latency given by its median and 95th percentile, in milliseconds."""

    median: float = Field(gt=0)
    p95: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Latency:
        if self.p95 < self.median:
            raise ValueError(f"p95: must be at least the median {self.median:g} (got {self.p95:g})")
        return self

    @property
    def mu(self) -> float:
        """The log of the median."""
        return math.log(self.median)

    @property
    def sigma(self) -> float:
        """The spread that puts the 95th percentile where it was given."""
        return (math.log(self.p95) - math.log(self.median)) / Z95


class Arm(_Model):
    """What happens to a request in one arm."""

    error_rate: float = 0.0
    latency_ms: Latency = Latency(median=120, p95=400)
    fallback_rate: float = 0.0
    retry_rate: float = 0.0
    cost_usd: float = 0.0
    mismatch_rate: float | None = Field(
        default=None, description="With client.compare: the share of comparisons that differ."
    )

    @field_validator("error_rate", "fallback_rate", "retry_rate", "mismatch_rate")
    @classmethod
    def _rates(cls, value: float | None) -> float | None:
        return None if value is None else _rate(value)

    @field_validator("cost_usd")
    @classmethod
    def _cost(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"must not be negative (got {value:g})")
        return value


class Candidate(Arm):
    """The candidate arm; before ``starts_at_minute`` it behaves like the control arm."""

    starts_at_minute: float = Field(default=0.0, ge=0)


class TrafficModel(_Model):
    """Synthetic traffic: a Poisson stream of requests from a fixed population of users."""

    seed: int = 0
    requests_per_minute: float
    duration_minutes: int = Field(gt=0)
    decide_every_minutes: int = Field(
        default=1, ge=1, description="How often the engine looks (the reconcile interval)."
    )
    users: int = Field(default=10_000, ge=1)
    attributes: dict[str, dict[str, float]] = Field(default_factory=dict)
    control: Arm = Arm()
    candidate: Candidate = Candidate()

    @field_validator("requests_per_minute")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"must be more than 0 (got {value:g})")
        return value

    @model_validator(mode="after")
    def _shares(self) -> TrafficModel:
        for attr, shares in self.attributes.items():
            for name, share in shares.items():
                if not 0.0 <= share <= 1.0:
                    raise ValueError(
                        f"attributes.{attr}.{name}: a share must be between 0 and 1 (got {share:g})"
                    )
            total = sum(shares.values())
            if attr not in LIST_ATTRIBUTES and total > 1.0 + 1e-9:
                raise ValueError(
                    f"attributes.{attr}: shares add up to {total:g}; a user has one {attr}, so "
                    f"they must add up to at most 1 (list attributes, where each value is drawn "
                    f"on its own: {', '.join(sorted(LIST_ATTRIBUTES))})"
                )
        return self


def parse_traffic(text: str, path: str = "<string>") -> TrafficModel:
    """Parse and validate a traffic model.

    Raises:
        SourceError: ``file:line: field: problem`` for the first mistake.
    """
    doc = parse_yaml(text, path)
    if not isinstance(doc.data, dict):
        raise doc.error("a traffic model is a mapping (see docs/simulate.md)")
    return doc.validate(TrafficModel)


def traffic_schema() -> dict[str, Any]:
    """The JSON Schema of a traffic model."""
    return TrafficModel.model_json_schema()
