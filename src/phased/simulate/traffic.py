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


class Users(_Model):
    """The population: how many users, and how unequal their activity is."""

    count: int = Field(ge=1)
    activity_sigma: float = Field(
        default=0.0,
        ge=0,
        le=4,
        description="Spread of the lognormal activity weights: 0 all alike, 1.5 heavy-tailed.",
    )


class Troubled(_Model):
    """A share of users with their own error rate and latency in both arms (bad data, say)."""

    share: float
    error_rate: float = 0.5
    latency_factor: float = Field(default=1.0, gt=0)

    @field_validator("share", "error_rate")
    @classmethod
    def _rates(cls, value: float) -> float:
        return _rate(value)


class Slow(_Model):
    """A share of users whose every latency is ``latency_factor`` times longer, in both arms."""

    share: float
    latency_factor: float = Field(default=4.0, gt=0)

    @field_validator("share")
    @classmethod
    def _rates(cls, value: float) -> float:
        return _rate(value)


class Bots(_Model):
    """A few units carrying a share of all traffic and failing on most of it."""

    count: int = Field(ge=1)
    traffic_share: float
    error_rate: float = 0.95

    @field_validator("traffic_share", "error_rate")
    @classmethod
    def _rates(cls, value: float) -> float:
        return _rate(value)

    @model_validator(mode="after")
    def _share(self) -> Bots:
        if not self.traffic_share < 1.0:
            raise ValueError(f"traffic_share: must be below 1 (got {self.traffic_share:g})")
        return self


class Incident(_Model):
    """A stretch of minutes in which every request of both arms fails more often."""

    at_minute: float = Field(ge=0)
    minutes: float = Field(gt=0)
    error_rate: float

    @field_validator("error_rate")
    @classmethod
    def _rates(cls, value: float) -> float:
        return _rate(value)


class DailyCycle(_Model):
    """Traffic times ``1 + amplitude * cos(2 pi (minute - peak_minute) / 1440)``."""

    amplitude: float = Field(ge=0, lt=1)
    peak_minute: float = 0.0


class TrafficModel(_Model):
    """Synthetic traffic: a Poisson stream of requests from a fixed population of users."""

    seed: int = 0
    requests_per_minute: float
    duration_minutes: int = Field(gt=0)
    decide_every_minutes: int = Field(
        default=1, ge=1, description="How often the engine looks (the reconcile interval)."
    )
    users: Users = Field(
        default=Users(count=10_000),
        description="A count, or {count, activity_sigma} for unequal users.",
    )
    troubled: Troubled | None = None
    slow: Slow | None = None
    bots: Bots | None = None
    incidents: list[Incident] = Field(default_factory=list)
    daily_cycle: DailyCycle | None = None
    attributes: dict[str, dict[str, float]] = Field(default_factory=dict)
    control: Arm = Arm()
    candidate: Candidate = Candidate()

    @field_validator("requests_per_minute")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"must be more than 0 (got {value:g})")
        return value

    @field_validator("users", mode="before")
    @classmethod
    def _count(cls, value: object) -> object:
        return {"count": value} if isinstance(value, int) and not isinstance(value, bool) else value

    @property
    def user_count(self) -> int:
        """How many distinct users there are."""
        return self.users.count

    @property
    def by_unit(self) -> bool:
        """Whether users differ (activity, troubled, slow, bots): then outcomes carry units.

        With alike users whose requests fail independently, requests are
        independent and each may be its own unit, as before units existed.
        """
        return self.users.activity_sigma > 0 or any(
            x is not None for x in (self.troubled, self.slow, self.bots)
        )

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
