"""Incidents: open one on a flag (P0 rolls back at once), resolve, list."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from phased.server.api.deps import Reader, Stopper, StoreDep
from phased.server.api.routes.rollouts import DecisionPublic, RolloutPublic, decision_public
from phased.server.tracing import TracedRoute
from phased.service import incidents as service
from phased.service import plan_rollouts

router = APIRouter(prefix="/incidents", tags=["incidents"], route_class=TracedRoute)


class IncidentPublic(BaseModel):
    """One incident."""

    id: str = Field(examples=["INC-7"])
    flag: str
    rollout: int | None = None
    severity: str
    title: str
    opened_by: str
    opened_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    action: str | None = None


class IncidentCreate(BaseModel):
    """Open an incident; its severity decides what the rollout does."""

    model_config = ConfigDict(extra="forbid")

    flag: str
    severity: str = Field(description="P0..P3; P0 rolls back at once.", examples=["P1"])
    title: str = ""
    environment: str | None = None


class IncidentOpened(BaseModel):
    """The incident and the decision it caused (null when no rollout was going)."""

    incident: IncidentPublic
    decision: str | None = None
    reason: str | None = None
    outcome: DecisionPublic | None = Field(
        default=None, description="The whole decision (null when no rollout was going)."
    )
    rollout: RolloutPublic | None = Field(default=None, description="The rollout afterwards.")


@router.get("", operation_id="list_incidents")
def list_incidents(
    store: StoreDep,
    _who: Reader,
    flag: str | None = Query(default=None),
    open_only: bool = Query(default=False),
) -> list[IncidentPublic]:
    """Incidents, newest first."""
    found = service.list_incidents(store, flag=flag, open_only=open_only)
    return [IncidentPublic.model_validate(i.to_dict()) for i in found]


@router.post("", operation_id="open_incident", status_code=status.HTTP_201_CREATED)
def open_incident(body: IncidentCreate, store: StoreDep, who: Stopper) -> IncidentOpened:
    """Open an incident on a flag and let its rollout act on it now."""
    opened = service.open_incident(
        store,
        actor=who.name,
        flag=body.flag,
        severity=body.severity,
        title=body.title,
        environment=body.environment,
    )
    decision = opened.decision
    return IncidentOpened(
        incident=IncidentPublic.model_validate(opened.incident.to_dict()),
        decision=decision.kind.value if decision else None,
        reason=decision.reason if decision else None,
        outcome=decision_public(decision) if decision else None,
        rollout=(
            RolloutPublic.of(plan_rollouts.get_rollout(store, body.flag)) if decision else None
        ),
    )


@router.post("/{incident}/resolve", operation_id="resolve_incident")
def resolve(incident: str, store: StoreDep, who: Stopper) -> IncidentPublic:
    """Mark an incident (`INC-7` or `7`) resolved."""
    record = service.resolve_incident(store, actor=who.name, incident=incident)
    return IncidentPublic.model_validate(record.to_dict())
