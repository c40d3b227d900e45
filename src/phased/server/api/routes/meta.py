"""Health and readiness: no token needed, nothing secret."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from phased.server.api.deps import StateDep

router = APIRouter(tags=["meta"])


class Health(BaseModel):
    """Whether this process serves, and whether it runs the engine."""

    status: str = Field(description="ok once the flag sets are loaded, else starting")
    revision: int = Field(description="The store revision this process has loaded.")
    leader: bool = Field(description="True while this process runs the engine.")
    database: str = Field(description="sqlite or postgresql")
    environments: list[str] = Field(description="The environments every flag has a state in.")


@router.get("/healthz", operation_id="health")
def health(state: StateDep) -> Health:
    """Liveness and readiness of this replica."""
    return Health(
        status="ok" if state.revision >= 0 else "starting",
        revision=state.revision,
        leader=state.leader,
        database=state.store.dialect,
        environments=list(state.store.environments),
    )
