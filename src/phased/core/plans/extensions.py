"""Plan sections for things outside phased: stage hooks and what inbound alerts do.

Kept apart from :mod:`phased.core.plans.model` so the stage and plan models
only gain one field each. See docs/hooks.md and docs/alert-triggers.md.
"""

from __future__ import annotations

import shlex
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from phased.core.durations import Duration

HOOK_PHASES: tuple[str, ...] = ("pre_stage", "confirm_advance", "post_stage", "on_rollback")
MAX_HOOK_RETRIES = 10


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hook(_Model):
    """One hook: an HTTP call (non-2xx fails) or a command (non-zero exit fails)."""

    name: str = Field(min_length=1, description="Shown in status, history and audit.")
    url: str | None = Field(default=None, description="http(s) URL called with the rollout.")
    method: Literal["GET", "POST"] = "POST"
    auth: str | None = Field(
        default=None,
        description="A source in sources.yaml whose headers (credentials) the call sends.",
    )
    command: tuple[str, ...] | None = Field(
        default=None, description="A program and its arguments (a string is split like a shell)."
    )
    timeout: Duration = Field(default=timedelta(seconds=30), description="Per attempt.")
    retries: int = Field(default=1, ge=0, le=MAX_HOOK_RETRIES, description="Extra attempts.")
    checklist: str | None = Field(
        default=None, description="A checklist item of this stage the hook ticks when it passes."
    )

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return tuple(shlex.split(value))
            except ValueError as exc:
                raise ValueError(f"cannot split the command: {exc}") from None
        return value

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"a hook URL must start with http:// or https:// (got {value!r})")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Hook:
        if (self.url is None) == (self.command is None):
            raise ValueError(f"hook {self.name!r}: give exactly one of url or command")
        if self.command is not None and not self.command:
            raise ValueError(f"hook {self.name!r}: command is empty")
        if self.auth is not None and self.url is None:
            raise ValueError(f"hook {self.name!r}: auth is for url hooks")
        return self

    @property
    def target(self) -> str:
        """What the hook calls, for status lines (a URL or the program)."""
        if self.url is not None:
            return f"{self.method} {self.url}"
        assert self.command is not None
        return shlex.join(self.command)


class StageHooks(_Model):
    """The hooks of one stage, by when they run."""

    pre_stage: tuple[Hook, ...] = Field(
        default=(), description="Before traffic moves into the stage; a failure pauses there."
    )
    confirm_advance: tuple[Hook, ...] = Field(
        default=(), description="Asked once the stage passed; a failure waits and asks again."
    )
    post_stage: tuple[Hook, ...] = Field(
        default=(), description="After the rollout left the stage; a failure alerts."
    )
    on_rollback: tuple[Hook, ...] = Field(default=(), description="After a rollback at this stage.")

    def of(self, phase: str) -> tuple[Hook, ...]:
        """The hooks that run at ``phase`` (one of :data:`HOOK_PHASES`)."""
        hooks: tuple[Hook, ...] = getattr(self, phase)
        return hooks

    @property
    def any(self) -> bool:
        """Whether the stage has a hook at all."""
        return any(self.of(p) for p in HOOK_PHASES)


class AlertHandling(_Model):
    """What a firing alert (an alert trigger: docs/alert-triggers.md) does to the rollout."""

    action: Literal["pause", "rollback", "disable"] = Field(
        default="pause", description="pause, rollback (to 0 %) or disable (kill switch off)."
    )
    resume_on_resolved: bool = Field(
        default=False,
        description="Resume a rollout this alert paused once it resolves (default: a person does).",
    )
