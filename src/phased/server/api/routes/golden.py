"""Golden runs: report one (evidence for a stage's golden requirement), read them back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from phased.server.api.deps import PlanRunner, Reader, StoreDep
from phased.server.tracing import TracedRoute
from phased.service import golden_runs as service

router = APIRouter(prefix="/golden-runs", tags=["golden"], route_class=TracedRoute)


class GoldenRunCreate(BaseModel):
    """A golden run's result, as ``phased golden ... --report`` sends it."""

    model_config = ConfigDict(extra="forbid")

    suite: str = Field(examples=["awf-goldens"], description="The suite name plans refer to.")
    build: str = Field(
        max_length=200, examples=["v1.5.0"], description="The build or version it ran against."
    )
    mode: str = Field(max_length=16, examples=["test"], description="record, verify or test.")
    passed: bool
    counts: dict[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=0, le=2**53)]] = (
        Field(default_factory=dict, max_length=32)
    )
    failures: list[Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=list, max_length=1000, description="Failure lines (first 50 kept)."
    )
    flag: str | None = Field(default=None, description="The flag whose rollout it is evidence for.")
    stage: str | None = Field(
        default=None, max_length=64, description="The stage it is evidence for (default: the next)."
    )


class GoldenRunPublic(BaseModel):
    """One reported golden run."""

    id: int
    suite: str
    flag: str | None
    build: str
    mode: str
    passed: bool
    counts: dict[str, int]
    failures: list[str]
    actor: str
    at: datetime
    evidence: str = Field(description="How a checklist tick names this run: golden-run:ID.")
    link: str
    stage: str | None = Field(description="The stage whose golden item it ticked or withdrew.")


@router.post("", operation_id="report_golden_run", status_code=status.HTTP_201_CREATED)
def report_golden_run(body: GoldenRunCreate, store: StoreDep, who: PlanRunner) -> GoldenRunPublic:
    """Record a run; a pass ticks the next stage's golden item, a failure withdraws it."""
    done = service.report(
        store,
        actor=who.name,
        suite=body.suite,
        build=body.build,
        mode=body.mode,
        passed=body.passed,
        counts=body.counts,
        failures=body.failures,
        flag=body.flag,
        stage=body.stage,
    )
    return GoldenRunPublic.model_validate(done.to_dict())


@router.get("", operation_id="list_golden_runs")
def list_golden_runs(
    store: StoreDep,
    _who: Reader,
    suite: str | None = Query(default=None),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[GoldenRunPublic]:
    """Reported runs, newest first."""
    return [
        GoldenRunPublic.model_validate(r.to_dict())
        for r in service.list_runs(store, suite=suite, limit=limit)
    ]


@router.get("/{run_id}", operation_id="get_golden_run")
def get_golden_run(
    run_id: Annotated[int, Path(ge=1, le=2**63 - 1)], store: StoreDep, _who: Reader
) -> GoldenRunPublic:
    """One reported run: the evidence a checklist tick links to."""
    return GoldenRunPublic.model_validate(service.get_run(store, run_id).to_dict())
