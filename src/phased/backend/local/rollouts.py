"""The local Backend's areas for rollouts: plans,
controls, approvals, incidents, reports, and the hook and query logs.

Each binds its :mod:`phased.service` module to the store
(see :mod:`phased.backend.local`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phased.service import approvals as _approvals
from phased.service import hook_runs as _hook_runs
from phased.service import incidents as _incidents
from phased.service import plan_rollouts as _plan_rollouts
from phased.service import rollout_controls as _rollout_controls
from phased.service import rollout_report as _rollout_report
from phased.service import rollouts as _rollouts
from phased.service import source_queries as _source_queries

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
    from phased.store.engine import Store


class LocalApprovals:
    """:mod:`phased.service.approvals` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def approve(
        self,
        *,
        actor: str | None,
        flag: str,
        stage: str,
        environment: str | None = None,
        note: str = "",
    ) -> Recorded:
        return _approvals.approve(
            self.store,
            actor=actor,
            flag=flag,
            stage=stage,
            environment=environment,
            note=note,
        )

    def check(
        self,
        *,
        actor: str | None,
        flag: str,
        item: str,
        stage: str | None = None,
        environment: str | None = None,
    ) -> Recorded:
        return _approvals.check(
            self.store, actor=actor, flag=flag, item=item, stage=stage, environment=environment
        )


class LocalIncidents:
    """:mod:`phased.service.incidents` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open_incident(
        self,
        *,
        actor: str | None,
        flag: str,
        severity: str,
        title: str = "",
        environment: str | None = None,
    ) -> Opened:
        return _incidents.open_incident(
            self.store,
            actor=actor,
            flag=flag,
            severity=severity,
            title=title,
            environment=environment,
        )

    def resolve_incident(self, *, actor: str | None, incident: str) -> IncidentRecord:
        return _incidents.resolve_incident(self.store, actor=actor, incident=incident)

    def list_incidents(
        self, *, flag: str | None = None, open_only: bool = False
    ) -> list[IncidentRecord]:
        return _incidents.list_incidents(self.store, flag=flag, open_only=open_only)


class LocalPlanRollouts:
    """:mod:`phased.service.plan_rollouts` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def apply_plan(
        self,
        *,
        actor: str | None,
        text: str,
        path: str = "<string>",
        environment: str | None = None,
        allow_shrink: bool = False,
    ) -> Applied:
        return _plan_rollouts.apply_plan(
            self.store,
            actor=actor,
            text=text,
            path=path,
            environment=environment,
            allow_shrink=allow_shrink,
        )

    def plan_preview(
        self, *, text: str, path: str = "<string>", allow_shrink: bool = False
    ) -> list[StagePreview]:
        return _plan_rollouts.plan_preview(
            self.store, text=text, path=path, allow_shrink=allow_shrink
        )

    def preview(self, flag: str) -> tuple[Rollout, Decision]:
        return _plan_rollouts.preview(self.store, flag)

    def list_rollouts(self, *, active_only: bool = False) -> list[Rollout]:
        return _plan_rollouts.list_rollouts(self.store, active_only=active_only)

    def rollout_history(
        self, flag: str, *, limit: int | None = None, rollout_id: int | None = None
    ) -> list[HistoryEntry]:
        return _plan_rollouts.rollout_history(self.store, flag, limit=limit, rollout_id=rollout_id)


class LocalRolloutControls:
    """:mod:`phased.service.rollout_controls` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def advance(
        self,
        *,
        actor: str | None,
        flag: str,
        force: bool = False,
        environment: str | None = None,
    ) -> Applied:
        return _rollout_controls.advance(
            self.store, actor=actor, flag=flag, force=force, environment=environment
        )

    def pause_rollout(
        self,
        *,
        actor: str | None,
        flag: str,
        reason: str = "",
        environment: str | None = None,
    ) -> Applied | None:
        return _rollout_controls.pause_rollout(
            self.store, actor=actor, flag=flag, reason=reason, environment=environment
        )

    def resume_rollout(
        self, *, actor: str | None, flag: str, environment: str | None = None
    ) -> Applied | None:
        return _rollout_controls.resume_rollout(
            self.store, actor=actor, flag=flag, environment=environment
        )

    def rollback_rollout(
        self,
        *,
        actor: str | None,
        flag: str,
        reason: str,
        environment: str | None = None,
    ) -> Applied:
        return _rollout_controls.rollback_rollout(
            self.store, actor=actor, flag=flag, reason=reason, environment=environment
        )


class LocalRolloutReport:
    """:mod:`phased.service.rollout_report` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def build_report(self, flag: str, *, rollout_id: int | None = None) -> str:
        return _rollout_report.build_report(self.store, flag, rollout_id=rollout_id)

    def summary_dict(self, flag: str) -> dict[str, Any]:
        from phased.service.rollout_summary import summary_dict

        return summary_dict(self.store, flag)


class LocalRollouts:
    """:mod:`phased.service.rollouts` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

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
        return _rollouts.set_rollout(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            percent=percent,
            expected_version=expected_version,
            force=force,
        )


class LocalHookRuns:
    """:mod:`phased.service.hook_runs` over the store (reading the record)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_runs(self, flag: str, *, limit: int = 200) -> RunLog:
        return _hook_runs.list_runs(self.store, flag, limit=limit)


class LocalSourceQueries:
    """:mod:`phased.service.source_queries` over the store (the query log)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_queries(self, flag: str, *, limit: int = 50) -> QueryLog:
        return _source_queries.list_queries(self.store, flag, limit=limit)
