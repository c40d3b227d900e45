"""Schemas shared by several routers: audit entries and mutation results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from phased.service.base import Result
from phased.service.diff import EntityChange
from phased.store.audit import AuditEntry


class AuditEntryPublic(BaseModel):
    """One recorded change, hash-chained to the one before it."""

    id: int
    ts: datetime
    actor: str
    action: str
    entity: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryPublic:
        """From the store's entry."""
        return cls(
            id=entry.id,
            ts=entry.ts,
            actor=entry.actor,
            action=entry.action,
            entity=entry.entity,
            details=entry.details,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )


class ChangePublic(BaseModel):
    """One flag or segment a mutation created, changed or deleted."""

    kind: str = Field(description="flag or segment")
    key: str
    op: str = Field(description="create, update or delete")
    lines: list[str] = Field(description="The change for people, one line per field.")
    before: dict[str, Any] | None = Field(
        default=None, description="The entity as the flags file writes it, before (null: new)."
    )
    after: dict[str, Any] | None = Field(
        default=None, description="The entity afterwards (null: deleted)."
    )

    @classmethod
    def of(cls, change: EntityChange) -> ChangePublic:
        """From the service layer's change."""
        return cls(
            kind=change.kind,
            key=change.key,
            op=change.op,
            lines=change.lines(),
            before=change.before,
            after=change.after,
        )


class MutationPublic(BaseModel):
    """What a change did: the entities it touched and their audit entries."""

    changed: bool = Field(description="False when the store already matched the request.")
    revision: int = Field(description="The store revision after the change.")
    changes: list[ChangePublic]
    audit: list[AuditEntryPublic]

    @classmethod
    def of(cls, result: Result) -> MutationPublic:
        """From the service layer's result."""
        return cls(
            changed=result.changed,
            revision=result.revision,
            changes=[ChangePublic.of(c) for c in result.changes],
            audit=[AuditEntryPublic.of(e) for e in result.entries],
        )
