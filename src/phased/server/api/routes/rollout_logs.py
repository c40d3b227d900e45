"""What the engine did and saw during a rollout: its stage hook runs and its metric source queries.

Read-only, for any reader (``phased hooks log``, ``phased sources log``). The
engine writes both records itself; nothing here changes them.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from phased.server.api.deps import Reader, StoreDep
from phased.server.tracing import TracedRoute
from phased.service import hook_runs, source_queries
from phased.service.hook_runs import HookRun
from phased.service.source_queries import QueryRecord

router = APIRouter(prefix="/rollouts/{flag}", tags=["rollouts"], route_class=TracedRoute)


class HookRunPublic(BaseModel):
    """One hook at one transition of a rollout."""

    id: int
    rollout_id: int
    transition: str
    hook: str
    phase: str = Field(description="pre_stage, post_stage, confirm_advance, ...")
    stage: str
    status: str = Field(description="running, passed, failed or interrupted")
    attempts: int
    detail: str = Field(description="The hook's last output or error (redacted, bounded).")
    claimed_by: str = Field(description="The engine that ran it.")
    started_at: datetime
    finished_at: datetime | None = None

    @classmethod
    def of(cls, run: HookRun) -> HookRunPublic:
        """From the stored run (the same fields)."""
        return cls.model_validate(asdict(run))


class HookRunsPublic(BaseModel):
    """The hook runs of the flag's latest rollout, newest first."""

    rollout_id: int
    runs: list[HookRunPublic]


class SourceQueryPublic(BaseModel):
    """One metric source query the engine made, and its answer."""

    rollout_id: int
    at: datetime
    stage: str
    check: str = Field(description="The plan check the query answers.")
    source: str
    arm: str = Field(description="candidate or control")
    query: str = Field(description="As sent, variables filled in.")
    ok: bool = Field(description="False: inconclusive (`message` says why).")
    value: float | None = None
    latency_ms: float
    message: str = ""

    @classmethod
    def of(cls, record: QueryRecord) -> SourceQueryPublic:
        """From the stored record (``check_key`` is ``check``, as in ``--json``)."""
        fields = asdict(record)
        fields["check"] = fields.pop("check_key")
        return cls.model_validate(fields)


class SourceQueriesPublic(BaseModel):
    """The most recent source queries of the flag's latest rollout, newest first."""

    rollout_id: int
    queries: list[SourceQueryPublic]


@router.get("/hooks", operation_id="list_hook_runs")
def list_hook_runs(
    flag: str,
    store: StoreDep,
    _who: Reader,
    limit: int = Query(default=200, ge=1, le=10_000),
) -> HookRunsPublic:
    """Every stage hook run of the flag's latest rollout: status, attempts, output."""
    log = hook_runs.list_runs(store, flag, limit=limit)
    return HookRunsPublic(rollout_id=log.rollout_id, runs=[HookRunPublic.of(r) for r in log.runs])


@router.get("/source-queries", operation_id="list_source_queries")
def list_source_queries(
    flag: str,
    store: StoreDep,
    _who: Reader,
    limit: int = Query(default=50, ge=1, le=10_000),
) -> SourceQueriesPublic:
    """The metric source queries of the flag's latest rollout: query, answer, latency."""
    log = source_queries.list_queries(store, flag, limit=limit)
    return SourceQueriesPublic(
        rollout_id=log.rollout_id, queries=[SourceQueryPublic.of(q) for q in log.queries]
    )
