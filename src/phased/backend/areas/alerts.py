"""The Backend's protocols for alerts going out
(the outbox and its config) and coming in (triggers).

See :mod:`phased.backend.areas`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from phased.alerts.config import AlertsConfig
    from phased.alerts.queue import DeliveryStatus, QueuedAlert
    from phased.service.alert_triggers import AlertTrigger, CreatedTrigger
    from phased.service.alerts import AlertsSettings, TestResult


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
