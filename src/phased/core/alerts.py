"""What an alert is: severity, message, root cause, trace id, links, flag and rollout.

Pure data, so the store can keep alerts (the outbox) and the alerts package
can route and deliver them without either importing the other.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """How urgent an alert is; routing and escalation use the order."""

    CRITICAL = "critical"  # act now: a rollback happened or delivery itself is broken
    ERROR = "error"  # something failed and needs a person today
    WARNING = "warning"  # worth a look; nothing is broken yet

    @property
    def emoji(self) -> str:
        """Seed 001's marker: 🔴 critical, ⚠️ error, 🟡 warning."""
        return _EMOJI[self]

    @property
    def rank(self) -> int:
        """Higher is more urgent."""
        return _RANK[self]


_EMOJI = {Severity.CRITICAL: "🔴", Severity.ERROR: "⚠️", Severity.WARNING: "🟡"}
_RANK = {Severity.CRITICAL: 3, Severity.ERROR: 2, Severity.WARNING: 1}


class Alert(BaseModel):
    """A message to people about a decision or a failure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity
    message: str = Field(min_length=1)
    root_cause: str | None = None
    trace_id: str | None = None
    links: dict[str, str] = Field(default_factory=dict)
    flag: str | None = None
    rollout: str | None = None
    rule: str | None = Field(default=None, description="The gate or trigger that fired.")
    environment: str | None = None
    created_at: datetime | None = None
    repeats: int = Field(
        default=0,
        ge=0,
        description="On the summary sent when a dedup window closes: occurrences held back.",
    )
    window_seconds: float | None = None

    @property
    def dedup_key(self) -> str:
        """SHA-256 of severity + message + trace id (seed 001): identical alerts share it."""
        raw = f"{self.severity.value}\x1f{self.message}\x1f{self.trace_id or ''}"
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    @property
    def group_key(self) -> str | None:
        """flag + rollout + rule: similar alerts about one rule group together."""
        if self.flag is None and self.rollout is None and self.rule is None:
            return None
        return "|".join(part or "" for part in (self.flag, self.rollout, self.rule))

    @property
    def is_summary(self) -> bool:
        """Whether this reports repeats held back by deduplication."""
        return self.repeats > 0
