"""The Backend's protocols for rollouts: plans,
controls, approvals, incidents, reports, and the hook and query logs.

See :mod:`phased.backend.areas`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from phased.core.decide import Decision
    from phased.core.plans.preview import StagePreview
    from phased.service.approvals import Recorded
    from phased.service.base import Result
    from phased.service.hook_runs import RunLog
    from phased.service.incidents import IncidentRecord, Opened
    from phased.service.plan_rollouts import Applied
    from phased.service.rollout_records import HistoryEntry, Rollout
    from phased.service.source_queries import QueryLog


class Approvals(Protocol):
    """The ``approvals`` use cases (:mod:`phased.service.approvals`)."""

    def approve(
        self,
        *,
        actor: str | None,
        flag: str,
        stage: str,
        environment: str | None = None,
        note: str = "",
    ) -> Recorded:
        """Approve ``stage`` of the flag's rollout (audited as ``rollout.approve``)."""
        ...

    def check(
        self,
        *,
        actor: str | None,
        flag: str,
        item: str,
        stage: str | None = None,
        environment: str | None = None,
    ) -> Recorded:
        """Tick checklist ``item`` (of ``stage``, or of the next stage listing it)."""
        ...


class Incidents(Protocol):
    """The ``incidents`` use cases (:mod:`phased.service.incidents`)."""

    def open_incident(
        self,
        *,
        actor: str | None,
        flag: str,
        severity: str,
        title: str = "",
        environment: str | None = None,
    ) -> Opened:
        """Open an incident on ``flag`` (audited as ``incident.open``) and act on it now."""
        ...

    def resolve_incident(self, *, actor: str | None, incident: str) -> IncidentRecord:
        """Mark an incident resolved; a rollout it paused stays paused until resumed."""
        ...

    def list_incidents(
        self, *, flag: str | None = None, open_only: bool = False
    ) -> list[IncidentRecord]:
        """Incidents, newest first."""
        ...


class PlanRollouts(Protocol):
    """The ``plan_rollouts`` use cases (:mod:`phased.service.plan_rollouts`)."""

    def apply_plan(
        self,
        *,
        actor: str | None,
        text: str,
        path: str = "<string>",
        environment: str | None = None,
        allow_shrink: bool = False,
    ) -> Applied:
        """Start a rollout of the plan in ``text``; its first stage applies at once."""
        ...

    def plan_preview(
        self, *, text: str, path: str = "<string>", allow_shrink: bool = False
    ) -> list[StagePreview]:
        """What applying the plan would do to today's audience, per environment."""
        ...

    def preview(self, flag: str) -> tuple[Rollout, Decision]:
        """What the engine would decide about the flag's rollout now (nothing is written)."""
        ...

    def list_rollouts(self, *, active_only: bool = False) -> list[Rollout]:
        """Every rollout (or only those still going), by flag, newest first."""
        ...

    def rollout_history(
        self, flag: str, *, limit: int | None = None, rollout_id: int | None = None
    ) -> list[HistoryEntry]:
        """The latest rollout's recorded decisions, oldest first (the last ``limit`` of them)."""
        ...


class RolloutControls(Protocol):
    """The ``rollout_controls`` use cases (:mod:`phased.service.rollout_controls`)."""

    def advance(
        self,
        *,
        actor: str | None,
        flag: str,
        force: bool = False,
        environment: str | None = None,
    ) -> Applied:
        """Move the rollout on now."""
        ...

    def pause_rollout(
        self,
        *,
        actor: str | None,
        flag: str,
        reason: str = "",
        environment: str | None = None,
    ) -> Applied | None:
        """Hold the rollout where it is (None: it was paused already)."""
        ...

    def resume_rollout(
        self, *, actor: str | None, flag: str, environment: str | None = None
    ) -> Applied | None:
        """Let a paused rollout go on (None: it was not paused)."""
        ...

    def rollback_rollout(
        self,
        *,
        actor: str | None,
        flag: str,
        reason: str,
        environment: str | None = None,
    ) -> Applied:
        """Take the flag back to 0 % in the current stage's environment and end the rollout."""
        ...


class RolloutReport(Protocol):
    """The ``rollout_report`` use cases (:mod:`phased.service.rollout_report`)."""

    def build_report(self, flag: str, *, rollout_id: int | None = None) -> str:
        """The Markdown report of the flag's latest rollout."""
        ...

    def summary_dict(self, flag: str) -> dict[str, Any]:
        """The flag's latest rollout at a glance (:mod:`phased.service.rollout_summary`)."""
        ...


class Rollouts(Protocol):
    """The ``rollouts`` use cases (:mod:`phased.service.rollouts`)."""

    def set_rollout(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        percent: float,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Result:
        """Set the rollout percentage of ``key`` in ``environment``."""
        ...


class HookRuns(Protocol):
    """The ``hook_runs`` use cases (:mod:`phased.service.hook_runs`): reading the record."""

    def list_runs(self, flag: str, *, limit: int = 200) -> RunLog:
        """The hook runs of the flag's latest rollout, newest first."""
        ...


class SourceQueries(Protocol):
    """The ``source_queries`` use cases (:mod:`phased.service.source_queries`): the query log."""

    def list_queries(self, flag: str, *, limit: int = 50) -> QueryLog:
        """The most recent source queries of the flag's latest rollout, newest first."""
        ...
