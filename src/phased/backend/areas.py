"""One protocol per area of the service layer, as a client calls it (see :mod:`.protocol`).

Each method is the :mod:`phased.service` function of the same module and
name, minus its ``store`` argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from phased.alerts.config import AlertsConfig
    from phased.alerts.queue import DeliveryStatus, QueuedAlert
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
    from phased.store.tokens import TokenRow


class Alerts(Protocol):
    """The ``alerts`` use cases (:mod:`phased.service.alerts`)."""

    def list_alerts(
        self,
        *,
        status: DeliveryStatus | None = None,
        limit: int = 50,
        file: Path | None = None,
    ) -> list[QueuedAlert]:
        """Queued and sent alerts, newest first, redacted."""
        ...

    def get_alert(self, alert_id: int, *, file: Path | None = None) -> QueuedAlert:
        """One queued alert, redacted."""
        ...

    def get_config(self, *, file: Path | None = None) -> AlertsSettings:
        """The configuration in force (stored, else the file's), secrets masked."""
        ...

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
        """Store a new alerts configuration (audited as ``alerts.config``, redacted)."""
        ...

    def send_test(
        self,
        *,
        channel: str,
        message: str | None = None,
        file: Path | None = None,
        config: AlertsConfig | None = None,
    ) -> TestResult:
        """Post a test alert to one channel now, even while ENABLE_ALERTS is off."""
        ...


class Apply(Protocol):
    """The ``apply`` use cases (:mod:`phased.service.apply`)."""

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
        """Make the store match ``wanted`` in one transaction; nothing is written on any error."""
        ...


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


class Audit(Protocol):
    """The ``audit`` use cases (:mod:`phased.service.audit`)."""

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
        """Newest first; ``action`` ending in ``.`` is a prefix (``flag.``, ``rollout.``)."""
        ...

    def verify(self) -> ChainReport:
        """Recompute the whole chain (see :func:`phased.store.audit.verify`)."""
        ...

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first (streamed in batches)."""
        ...

    def export(
        self,
        out: TextIO,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Write entries as JSON lines, oldest first; returns how many."""
        ...


class Compare(Protocol):
    """The ``compare`` use cases (:mod:`phased.service.compare`)."""

    def record_mismatch(self, sample: dict[str, Any]) -> int:
        """Keep one old/new mismatch sample (redacted, bounded per flag); its id."""
        ...

    def list_mismatches(
        self, flag: str, *, include_resolved: bool = False, limit: int = 50
    ) -> list[Mismatch]:
        """The flag's kept samples, newest first."""
        ...

    def resolve_mismatch(self, *, actor: str | None, mismatch_id: int, note: str) -> Mismatch:
        """Mark a mismatch "new behaviour is correct" (audited); it stops counting."""
        ...


class Flags(Protocol):
    """The ``flags`` use cases (:mod:`phased.service.flags`)."""

    def load_flagset(self, environment: str | None = None) -> FlagSet:
        """The stored flag set (every environment's state, or only ``environment``'s)."""
        ...

    def get_flag(self, key: str) -> StoredFlag:
        """One flag with its versions."""
        ...

    def list_flags(self) -> list[StoredFlag]:
        """Every flag, by key."""
        ...

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
        """Create a flag, off everywhere: its kill switch engaged in every environment."""
        ...

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
        """Release (``enabled=True``) or engage (``False``) the kill switch in one environment."""
        ...

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
        """What contexts no override, rule or rollout reached get in one environment."""
        ...

    def delete_flag(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        """Delete a flag (every environment). Refused while another flag requires it."""
        ...

    def list_archived(self) -> list[ArchivedFlag]:
        """Deleted (archived) flags, by key."""
        ...

    def restore_flag(self, *, actor: str | None, key: str) -> Result:
        """Bring an archived flag back."""
        ...


class GoldenRuns(Protocol):
    """The ``golden_runs`` use cases (:mod:`phased.service.golden_runs`)."""

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
        """Record one golden run; a passing run ticks the stage's item, a failing one blocks it."""
        ...

    def get_run(self, run_id: int) -> GoldenRunRecord:
        """One reported run."""
        ...

    def list_runs(self, *, suite: str | None = None, limit: int = 50) -> list[GoldenRunRecord]:
        """Reported runs, newest first."""
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


class Members(Protocol):
    """The ``members`` use cases (:mod:`phased.service.members`)."""

    def list_members(self) -> list[Member]:
        """Everyone, by name."""
        ...

    def add_member(self, *, actor: str | None, name: str, roles: Iterable[str]) -> Member:
        """Add a person, or give an existing one more roles (audited as ``member.add``)."""
        ...

    def remove_member(
        self, *, actor: str | None, name: str, roles: Iterable[str] = ()
    ) -> Member | None:
        """Take roles from a person, or remove them entirely when no roles are named."""
        ...


class Overrides(Protocol):
    """The ``overrides`` use cases (:mod:`phased.service.overrides`)."""

    def list_overrides(
        self, *, key: str | None = None, environment: str | None = None
    ) -> list[OverrideView]:
        """Overrides by flag and environment; expired ones are listed and marked."""
        ...

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
        """Pin ``serve`` for one user, session or ``attr=value`` (replacing an existing pin)."""
        ...

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
        """Remove the override for one user, session or ``attr=value``."""
        ...

    def clear_all_overrides(
        self,
        *,
        actor: str | None,
        environment: str,
        key: str | None = None,
        force: bool = False,
    ) -> Result:
        """Remove every override of ``key`` (or of every flag) in one environment."""
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


class Segments(Protocol):
    """The ``segments`` use cases (:mod:`phased.service.segments`)."""

    def list_segments(self) -> list[Segment]:
        """Every segment, by key."""
        ...

    def get_segment(self, key: str) -> tuple[Segment, list[str]]:
        """The segment and the places (``flag@env rules[i]``) that use it."""
        ...

    def create_segment(
        self,
        *,
        actor: str | None,
        key: str,
        where: list[str] | tuple[str, ...],
        description: str = "",
    ) -> Result:
        """Create a segment from one or more ``attr op value`` expressions (all must hold)."""
        ...

    def delete_segment(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        """Delete a segment no rule uses any more."""
        ...


class Tokens(Protocol):
    """The ``tokens`` use cases (:mod:`phased.service.tokens`)."""

    def create_token(
        self, *, actor: str | None, name: str, role: str, environment: str | None = None
    ) -> NewToken:
        """Create a token; the returned secret is not stored and cannot be shown again."""
        ...

    def list_tokens(self, *, include_revoked: bool = False) -> list[TokenRow]:
        """Tokens, oldest first (never their secrets)."""
        ...

    def revoke_token(self, *, actor: str | None, token_id: str) -> TokenRow:
        """Revoke a token at once."""
        ...


class AlertTriggers(Protocol):
    """The ``alert_triggers`` use cases (:mod:`phased.service.alert_triggers`).

    Firing one is not here: an alerting system calls it with the trigger's own
    token, never through a client of phased.
    """

    def create_trigger(
        self,
        *,
        actor: str | None,
        flag: str,
        name: str,
        action: str | None = None,
        match: Mapping[str, str] | None = None,
    ) -> CreatedTrigger:
        """Create a trigger for ``flag`` (or ``*``); its token comes back this once."""
        ...

    def list_triggers(self, flag: str | None = None) -> list[AlertTrigger]:
        """Every trigger (of one flag), oldest first, never its token."""
        ...

    def revoke_trigger(self, *, actor: str | None, flag: str, name: str) -> AlertTrigger:
        """Disable a trigger: its URL stops working at once."""


class Retire(Protocol):
    """The ``retire`` use cases (:mod:`phased.service.retire`).

    ``code_refs`` is what ``phased flag refs`` counted in the caller's own
    source tree: the code lives with the client, not the server, so the
    client scans it and sends the count.
    """

    def check(
        self,
        key: str,
        *,
        days: int = 7,
        value: str | None = None,
        code_refs: int | None = None,
    ) -> list[Prerequisite]:
        """The prerequisites of retiring ``key`` and whether each holds."""
        ...

    def retire(
        self,
        *,
        actor: str | None,
        key: str,
        days: int = 7,
        value: str | None = None,
        code_refs: int | None = None,
        force: bool = False,
    ) -> Retired:
        """Check the prerequisites; if all hold (or ``force``), make the new value permanent."""
        ...

    def stale(self, *, days: int = 30) -> list[StaleFlag]:
        """Flags fully rolled out, or without any outcome, and unchanged for ``days``."""


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
