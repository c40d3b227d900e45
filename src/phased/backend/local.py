"""The :class:`~phased.backend.protocol.Backend` over a store: the service layer, in process.

Each area binds its :mod:`phased.service` module to the store: a method is
the service function of the same name with ``self.store`` as its first
argument, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from phased.service import alert_triggers as _alert_triggers
from phased.service import alerts as _alerts
from phased.service import apply as _apply
from phased.service import approvals as _approvals
from phased.service import audit as _audit
from phased.service import compare as _compare
from phased.service import flags as _flags
from phased.service import golden_runs as _golden_runs
from phased.service import hook_runs as _hook_runs
from phased.service import incidents as _incidents
from phased.service import members as _members
from phased.service import overrides as _overrides
from phased.service import plan_rollouts as _plan_rollouts
from phased.service import retire as _retire
from phased.service import rollout_controls as _rollout_controls
from phased.service import rollout_report as _rollout_report
from phased.service import rollouts as _rollouts
from phased.service import segments as _segments
from phased.service import source_queries as _source_queries
from phased.service import tokens as _tokens

if TYPE_CHECKING:
    from phased.alerts.config import AlertsConfig
    from phased.alerts.queue import DeliveryStatus, QueuedAlert
    from phased.backend.protocol import Backend
    from phased.core.decide import Decision
    from phased.core.flags import FlagSet, Segment, Value
    from phased.core.plans.preview import StagePreview
    from phased.core.retire import Prerequisite
    from phased.service.alert_triggers import AlertTrigger, CreatedTrigger
    from phased.service.alerts import AlertsSettings, TestResult
    from phased.service.apply import ApplyOutcome
    from phased.service.approvals import Recorded
    from phased.service.base import Result
    from phased.service.compare import Mismatch
    from phased.service.flags import StoredFlag
    from phased.service.golden_runs import GoldenRunRecord
    from phased.service.hook_runs import RunLog
    from phased.service.incidents import IncidentRecord, Opened
    from phased.service.members import Member
    from phased.service.overrides import OverrideView
    from phased.service.plan_rollouts import Applied
    from phased.service.retire import Retired, StaleFlag
    from phased.service.rollout_records import HistoryEntry, Rollout
    from phased.service.source_queries import QueryLog
    from phased.service.tokens import NewToken
    from phased.store.archive import ArchivedFlag
    from phased.store.audit import AuditEntry, ChainReport
    from phased.store.engine import Store
    from phased.store.tokens import TokenRow


class LocalAlerts:
    """:mod:`phased.service.alerts` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_alerts(
        self,
        *,
        status: DeliveryStatus | None = None,
        limit: int = 50,
        file: Path | None = None,
    ) -> list[QueuedAlert]:
        return _alerts.list_alerts(self.store, status=status, limit=limit, file=file)

    def get_alert(self, alert_id: int, *, file: Path | None = None) -> QueuedAlert:
        return _alerts.get_alert(self.store, alert_id, file=file)

    def get_config(self, *, file: Path | None = None) -> AlertsSettings:
        return _alerts.get_config(self.store, file=file)

    def set_config(
        self,
        *,
        actor: str | None,
        document: Mapping[str, Any],
        version: int | None,
        file: Path | None = None,
        environ: Mapping[str, str] | None = None,
        require_channels: bool = False,
    ) -> AlertsSettings:
        return _alerts.set_config(
            self.store,
            actor=actor,
            document=document,
            version=version,
            file=file,
            environ=environ,
            require_channels=require_channels,
        )

    def send_test(
        self,
        *,
        channel: str,
        message: str | None = None,
        file: Path | None = None,
        config: AlertsConfig | None = None,
    ) -> TestResult:
        return _alerts.send_test(
            self.store, channel=channel, message=message, file=file, config=config
        )


class LocalApply:
    """:mod:`phased.service.apply` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def apply(
        self,
        *,
        actor: str | None,
        wanted: FlagSet,
        environment: str | None = None,
        source: str | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> ApplyOutcome:
        return _apply.apply(
            self.store,
            actor=actor,
            wanted=wanted,
            environment=environment,
            source=source,
            dry_run=dry_run,
            force=force,
        )


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


class LocalAudit:
    """:mod:`phased.service.audit` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def recent(
        self,
        *,
        limit: int | None = 50,
        actor: str | None = None,
        action: str | None = None,
        entity: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        return _audit.recent(
            self.store,
            limit=limit,
            actor=actor,
            action=action,
            entity=entity,
            since=since,
            until=until,
        )

    def verify(self) -> ChainReport:
        return _audit.verify(self.store)

    def entries(self) -> Iterator[AuditEntry]:
        return _audit.entries(self.store)

    def export(
        self,
        out: TextIO,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        return _audit.export(self.store, out, since=since, until=until)


class LocalCompare:
    """:mod:`phased.service.compare` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record_mismatch(self, sample: dict[str, Any]) -> int:
        return _compare.record_mismatch(self.store, sample)

    def list_mismatches(
        self, flag: str, *, include_resolved: bool = False, limit: int = 50
    ) -> list[Mismatch]:
        return _compare.list_mismatches(
            self.store, flag, include_resolved=include_resolved, limit=limit
        )

    def resolve_mismatch(self, *, actor: str | None, mismatch_id: int, note: str) -> Mismatch:
        return _compare.resolve_mismatch(
            self.store, actor=actor, mismatch_id=mismatch_id, note=note
        )


class LocalFlags:
    """:mod:`phased.service.flags` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load_flagset(self, environment: str | None = None) -> FlagSet:
        return _flags.load_flagset(self.store, environment)

    def get_flag(self, key: str) -> StoredFlag:
        return _flags.get_flag(self.store, key)

    def list_flags(self) -> list[StoredFlag]:
        return _flags.list_flags(self.store)

    def create_flag(
        self,
        *,
        actor: str | None,
        key: str,
        description: str = "",
        owner: str | None = None,
        tags: tuple[str, ...] = (),
        variants: dict[str, int] | None = None,
        env_var: str | None = None,
        stickiness: str = "user",
    ) -> Result:
        return _flags.create_flag(
            self.store,
            actor=actor,
            key=key,
            description=description,
            owner=owner,
            tags=tags,
            variants=variants,
            env_var=env_var,
            stickiness=stickiness,
        )

    def set_enabled(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        enabled: bool,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Result:
        return _flags.set_enabled(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            enabled=enabled,
            expected_version=expected_version,
            force=force,
        )

    def set_default(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        value: str,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Result:
        return _flags.set_default(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            value=value,
            expected_version=expected_version,
            force=force,
        )

    def delete_flag(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        return _flags.delete_flag(
            self.store, actor=actor, key=key, expected_version=expected_version
        )

    def list_archived(self) -> list[ArchivedFlag]:
        return _flags.list_archived(self.store)

    def restore_flag(self, *, actor: str | None, key: str) -> Result:
        return _flags.restore_flag(self.store, actor=actor, key=key)


class LocalGoldenRuns:
    """:mod:`phased.service.golden_runs` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def report(
        self,
        *,
        actor: str | None,
        suite: str,
        build: str,
        mode: str,
        passed: bool,
        counts: dict[str, int],
        failures: list[str],
        flag: str | None = None,
        stage: str | None = None,
    ) -> GoldenRunRecord:
        return _golden_runs.report(
            self.store,
            actor=actor,
            suite=suite,
            build=build,
            mode=mode,
            passed=passed,
            counts=counts,
            failures=failures,
            flag=flag,
            stage=stage,
        )

    def get_run(self, run_id: int) -> GoldenRunRecord:
        return _golden_runs.get_run(self.store, run_id)

    def list_runs(self, *, suite: str | None = None, limit: int = 50) -> list[GoldenRunRecord]:
        return _golden_runs.list_runs(self.store, suite=suite, limit=limit)


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


class LocalMembers:
    """:mod:`phased.service.members` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_members(self) -> list[Member]:
        return _members.list_members(self.store)

    def add_member(self, *, actor: str | None, name: str, roles: Iterable[str]) -> Member:
        return _members.add_member(self.store, actor=actor, name=name, roles=roles)

    def remove_member(
        self, *, actor: str | None, name: str, roles: Iterable[str] = ()
    ) -> Member | None:
        return _members.remove_member(self.store, actor=actor, name=name, roles=roles)


class LocalOverrides:
    """:mod:`phased.service.overrides` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_overrides(
        self, *, key: str | None = None, environment: str | None = None
    ) -> list[OverrideView]:
        return _overrides.list_overrides(self.store, key=key, environment=environment)

    def set_override(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        serve: Value | str,
        user: str | None = None,
        session: str | None = None,
        attr: str | None = None,
        expires: str | datetime | None = None,
        note: str = "",
        expected_version: int | None = None,
        force: bool = False,
    ) -> Result:
        return _overrides.set_override(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            serve=serve,
            user=user,
            session=session,
            attr=attr,
            expires=expires,
            note=note,
            expected_version=expected_version,
            force=force,
        )

    def clear_override(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        user: str | None = None,
        session: str | None = None,
        attr: str | None = None,
        force: bool = False,
    ) -> Result:
        return _overrides.clear_override(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            user=user,
            session=session,
            attr=attr,
            force=force,
        )

    def clear_all_overrides(
        self,
        *,
        actor: str | None,
        environment: str,
        key: str | None = None,
        force: bool = False,
    ) -> Result:
        return _overrides.clear_all_overrides(
            self.store,
            actor=actor,
            environment=environment,
            key=key,
            force=force,
        )


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


class LocalSegments:
    """:mod:`phased.service.segments` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_segments(self) -> list[Segment]:
        return _segments.list_segments(self.store)

    def get_segment(self, key: str) -> tuple[Segment, list[str]]:
        return _segments.get_segment(self.store, key)

    def create_segment(
        self,
        *,
        actor: str | None,
        key: str,
        where: list[str] | tuple[str, ...],
        description: str = "",
    ) -> Result:
        return _segments.create_segment(
            self.store, actor=actor, key=key, where=where, description=description
        )

    def delete_segment(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        return _segments.delete_segment(
            self.store, actor=actor, key=key, expected_version=expected_version
        )


class LocalTokens:
    """:mod:`phased.service.tokens` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create_token(
        self, *, actor: str | None, name: str, role: str, environment: str | None = None
    ) -> NewToken:
        return _tokens.create_token(
            self.store, actor=actor, name=name, role=role, environment=environment
        )

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenRow]:
        return _tokens.list_tokens(self.store, include_revoked=include_revoked)

    def revoke_token(self, *, actor: str | None, token_id: str) -> TokenRow:
        return _tokens.revoke_token(self.store, actor=actor, token_id=token_id)


class LocalAlertTriggers:
    """:mod:`phased.service.alert_triggers` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create_trigger(
        self,
        *,
        actor: str | None,
        flag: str,
        name: str,
        action: str | None = None,
        match: Mapping[str, str] | None = None,
    ) -> CreatedTrigger:
        return _alert_triggers.create_trigger(
            self.store, actor=actor, flag=flag, name=name, action=action, match=match
        )

    def list_triggers(self, flag: str | None = None) -> list[AlertTrigger]:
        return _alert_triggers.list_triggers(self.store, flag)

    def revoke_trigger(self, *, actor: str | None, flag: str, name: str) -> AlertTrigger:
        return _alert_triggers.revoke_trigger(self.store, actor=actor, flag=flag, name=name)


class LocalRetire:
    """:mod:`phased.service.retire` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def check(
        self,
        key: str,
        *,
        days: int = _retire.DEFAULT_DAYS,
        value: str | None = None,
        code_refs: int | None = None,
    ) -> list[Prerequisite]:
        return _retire.check(self.store, key, days=days, value=value, code_refs=code_refs)

    def retire(
        self,
        *,
        actor: str | None,
        key: str,
        days: int = _retire.DEFAULT_DAYS,
        value: str | None = None,
        code_refs: int | None = None,
        force: bool = False,
    ) -> Retired:
        return _retire.retire(
            self.store,
            actor=actor,
            key=key,
            days=days,
            value=value,
            code_refs=code_refs,
            force=force,
        )

    def stale(self, *, days: int = 30) -> list[StaleFlag]:
        return _retire.stale(self.store, days=days)


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


class LocalBackend:
    """The service layer over ``store`` (which the backend closes)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.alerts = LocalAlerts(store)
        self.apply = LocalApply(store)
        self.approvals = LocalApprovals(store)
        self.audit = LocalAudit(store)
        self.compare = LocalCompare(store)
        self.flags = LocalFlags(store)
        self.golden_runs = LocalGoldenRuns(store)
        self.incidents = LocalIncidents(store)
        self.members = LocalMembers(store)
        self.overrides = LocalOverrides(store)
        self.plan_rollouts = LocalPlanRollouts(store)
        self.rollout_controls = LocalRolloutControls(store)
        self.rollout_report = LocalRolloutReport(store)
        self.rollouts = LocalRollouts(store)
        self.segments = LocalSegments(store)
        self.tokens = LocalTokens(store)
        self.alert_triggers = LocalAlertTriggers(store)
        self.retire = LocalRetire(store)
        self.hook_runs = LocalHookRuns(store)
        self.source_queries = LocalSourceQueries(store)

    @property
    def environments(self) -> tuple[str, ...]:
        """The store's environments."""
        return self.store.environments

    def revision(self) -> int:
        """The store's flag-set revision."""
        return self.store.revision()

    def clock(self) -> datetime:
        """The store's clock."""
        return self.store.clock()

    def close(self) -> None:
        """Dispose of the store's engine."""
        self.store.close()

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _check(store: Store) -> Backend:
    return LocalBackend(store)  # mypy: LocalBackend implements the protocol
