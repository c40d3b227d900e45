"""The local Backend's areas for alerts going out
(the outbox and its config) and coming in (triggers).

Each binds its :mod:`phased.service` module to the store
(see :mod:`phased.backend.local`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phased.service import alert_triggers as _alert_triggers
from phased.service import alerts as _alerts

if TYPE_CHECKING:
    from phased.alerts.config import AlertsConfig
    from phased.alerts.queue import DeliveryStatus, QueuedAlert
    from phased.service.alert_triggers import AlertTrigger, CreatedTrigger
    from phased.service.alerts import AlertsSettings, TestResult
    from phased.store.engine import Store


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
