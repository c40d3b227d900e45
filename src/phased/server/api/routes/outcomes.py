"""Outcomes: what was measured for a flag, per arm, stage and time window."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from phased.core.outcomes import Aggregate, Arm
from phased.server.api.deps import Reader, StoreDep
from phased.service import outcomes as service
from phased.service.base import check_environment

router = APIRouter(prefix="/outcomes", tags=["outcomes"])


class ArmOutcomes(BaseModel):
    """One arm's totals over the matching windows."""

    arm: str
    requests: int
    errors: int
    error_rate: float | None
    fallbacks: int
    retries: int
    cost_usd: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    unique_users: int
    metrics: dict[str, float] = Field(description="Mean of each custom metric.")

    @classmethod
    def of(cls, arm: Arm, agg: Aggregate) -> ArmOutcomes:
        """From an aggregate."""
        return cls(
            arm=arm.value,
            requests=agg.requests,
            errors=agg.errors,
            error_rate=agg.errors / agg.requests if agg.requests else None,
            fallbacks=agg.fallbacks,
            retries=agg.retries,
            cost_usd=agg.cost_usd,
            latency_p50_ms=agg.latency.quantile(0.5),
            latency_p95_ms=agg.latency.quantile(0.95),
            latency_p99_ms=agg.latency.quantile(0.99),
            unique_users=agg.users.estimate(),
            metrics={name: s / c for name, (s, c) in agg.metrics.items() if c},
        )


class OutcomesPublic(BaseModel):
    """Both arms of one flag in one environment."""

    flag: str
    environment: str
    stages: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    arms: list[ArmOutcomes]


@router.get("/{flag}", operation_id="query_outcomes")
def query_outcomes(
    flag: str,
    store: StoreDep,
    _who: Reader,
    *,
    environment: Annotated[str, Query(description="The environment measured.")],
    stage: Annotated[list[str] | None, Query(description="Only these stage labels.")] = None,
    arm: Arm | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> OutcomesPublic:
    """Totals per arm over the windows of a flag, optionally by stage and time window."""
    check_environment(store, environment)
    totals = service.read_totals(store, flag, environment, stages=stage, since=since, until=until)
    arms = [ArmOutcomes.of(a, agg) for a, agg in totals.items() if arm is None or a is arm]
    return OutcomesPublic(
        flag=flag, environment=environment, stages=stage, since=since, until=until, arms=arms
    )
