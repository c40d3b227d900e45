"""The ``alerts`` area over the HTTP API (:mod:`phased.service.alerts` on the server).

The server redacts with its own configuration, and uses its own alerts file:
the ``file`` arguments are accepted for the same signatures and not sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from phased.alerts.config import AlertsConfig
from phased.alerts.model import Alert
from phased.alerts.queue import DeliveryStatus, QueuedAlert
from phased.backend.http_areas import RemoteStore, when
from phased.errors import ValidationError
from phased.service.alerts import MAX_LIMIT, AlertsSettings, TestResult


def alert_of(data: dict[str, Any]) -> QueuedAlert:
    """An ``AlertPublic`` document as a queued alert."""
    created = datetime.fromisoformat(data["created_at"])
    return QueuedAlert(
        id=int(data["id"]),
        alert=Alert.model_validate(data["alert"]),
        status=DeliveryStatus(data["status"]),
        attempts=int(data["attempts"]),
        channels_done=tuple(data["channels_done"]),
        next_attempt_at=datetime.fromisoformat(data["next_attempt_at"]),
        created_at=created,
        updated_at=datetime.fromisoformat(data["updated_at"]),
        last_error=data["last_error"],
    )


def settings_of(data: dict[str, Any]) -> AlertsSettings:
    """An ``AlertsConfigPublic`` document as the service's settings."""
    return AlertsSettings(
        origin=data["origin"],
        version=int(data["version"]),
        document=dict(data["config"]),
        path=data["path"],
        updated_by=data["updated_by"],
        updated_at=when(data["updated_at"]),
    )


class HttpAlerts:
    """The ``alerts`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def list_alerts(
        self,
        *,
        status: DeliveryStatus | None = None,
        limit: int = 50,
        file: Path | None = None,
    ) -> list[QueuedAlert]:
        """Queued and sent alerts, newest first, redacted by the server."""
        del file
        if not 1 <= limit <= MAX_LIMIT:  # the same refusal as locally, not the API's 422 wording
            raise ValidationError(f"must be between 1 and {MAX_LIMIT} (got {limit})", field="limit")
        params = {"status": None if status is None else status.value, "limit": limit}
        return [alert_of(a) for a in self.http.request("GET", "/alerts", params=params)]

    def get_alert(self, alert_id: int, *, file: Path | None = None) -> QueuedAlert:
        """One queued alert."""
        del file
        return alert_of(self.http.request("GET", f"/alerts/{alert_id}"))

    def get_config(self, *, file: Path | None = None) -> AlertsSettings:
        """The server's alerts configuration in force (admin token), secrets masked."""
        del file
        return settings_of(self.http.request("GET", "/alerts/config"))

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
        """Store a new alerts configuration on the server (admin token).

        ``version`` None sends the server's current version (no staleness check
        beyond this command's own read); ``${VAR}`` is expanded on the server.
        """
        del actor, file, environ, require_channels
        if version is None:
            version = self.get_config().version
        body = {"version": version, "config": dict(document)}
        return settings_of(self.http.request("PUT", "/alerts/config", json=body))

    def send_test(
        self,
        *,
        channel: str,
        message: str | None = None,
        file: Path | None = None,
        config: AlertsConfig | None = None,
    ) -> TestResult:
        """Have the server post a test alert through one of its channels."""
        del file
        if config is not None:
            raise ValidationError(
                "against a server the server's own channels are tested; drop --config",
                field="config",
            )
        data = self.http.request(
            "POST", "/alerts/test", json={"channel": channel, "message": message}
        )
        return TestResult(
            channel=data["channel"],
            kind=data["kind"],
            delivered=bool(data["delivered"]),
            alert=Alert.model_validate(data["alert"]),
            error=data["error"],
            field=None if data["delivered"] else f"channels.{data['channel']}",
        )
