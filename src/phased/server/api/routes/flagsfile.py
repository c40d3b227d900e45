"""The flags file over HTTP: export (GitOps) and declarative apply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from phased.core.flagfile import dump_flagset, parse_flagset
from phased.server.api.deps import FlagWriter, Reader, StoreDep
from phased.server.api.schemas import AuditEntryPublic, ChangePublic
from phased.server.tracing import TracedRoute
from phased.service import apply as service
from phased.service.flags import load_flagset

router = APIRouter(prefix="/flags-file", tags=["flags file"], route_class=TracedRoute)


class FlagsFileApply(BaseModel):
    """A whole flags file to make the store match."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The flags file (YAML), as `phased flags export` writes it.")
    environment: str | None = Field(
        default=None, description="Take only this environment's states from the file."
    )
    source: str | None = Field(default=None, description="Recorded in every audit entry.")
    dry_run: bool = Field(default=False, description="Compute the diff only.")
    force: bool = Field(
        default=False,
        description="Change a flag a running plan controls anyway (forced drift: audited, "
        "the rollout is held until resumed).",
    )


class FlagsFileApplied(BaseModel):
    """The diff and, unless it was a dry run, the audit entries written for it."""

    applied: bool
    revision: int = Field(description="The store revision after the call.")
    lines: list[str] = Field(description="The diff for people, one change per line.")
    changes: list[ChangePublic]
    audit: list[AuditEntryPublic]
    audience: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Per changed flag and environment: who keeps, gains and loses it.",
    )


@router.get(
    "",
    operation_id="export_flags_file",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/yaml": {}}, "description": "The flags file."}},
)
def export(
    store: StoreDep,
    _who: Reader,
    environment: str | None = Query(default=None, description="One environment's state only."),
) -> PlainTextResponse:
    """The stored flags as a flags file (YAML), for review and `flags apply`."""
    text = dump_flagset(load_flagset(store, environment), environment)
    return PlainTextResponse(text, media_type="application/yaml")


@router.post("/apply", operation_id="apply_flags_file")
def apply(body: FlagsFileApply, store: StoreDep, who: FlagWriter) -> FlagsFileApplied:
    """Make the store match the file in one transaction, auditing every changed flag."""
    wanted = parse_flagset(body.text, body.source or "<request>")
    outcome = service.apply(
        store,
        actor=who.name,
        wanted=wanted,
        environment=body.environment,
        source=body.source,
        dry_run=body.dry_run,
        force=body.force,
    )
    return FlagsFileApplied(
        applied=outcome.applied,
        revision=store.revision(),
        lines=outcome.lines(),
        changes=[ChangePublic.of(c) for c in outcome.changes],
        audit=[AuditEntryPublic.of(e) for e in outcome.entries],
        audience=[a.to_dict() for a in outcome.audience],
    )
