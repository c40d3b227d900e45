"""Alerts: the outbox (viewer and up), the channel configuration and a test send (admin).

Nothing here returns a secret: channel URLs and header values are masked as
``***`` + their last 4 characters wherever they appear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from phased.alerts.model import Alert
from phased.alerts.queue import DeliveryStatus, QueuedAlert
from phased.selfflags import alerts_enabled
from phased.server.api.deps import Admin, Reader, StateDep, StoreDep
from phased.server.tracing import TracedRoute
from phased.service import alerts as service
from phased.service.alerts import AlertsSettings, TestResult

router = APIRouter(prefix="/alerts", tags=["alerts"], route_class=TracedRoute)

EXAMPLE_CONFIG: dict[str, Any] = {
    "channels": {
        "ops": {"kind": "discord", "url": "${DISCORD_WEBHOOK_URL}", "severities": ["critical"]},
        "audit-log": {"kind": "log"},
    },
    "dedup_window_seconds": 300,
}


class ChannelResultPublic(BaseModel):
    """One channel's part in delivering an alert."""

    channel: str
    status: str = Field(description="`delivered`, or `failed` with the channel's last error.")
    error: str | None = None


class AlertPublic(BaseModel):
    """One alert in the outbox with its delivery state (secrets masked)."""

    id: int
    status: DeliveryStatus
    attempts: int = Field(description="Failed delivery attempts so far.")
    channels_done: list[str] = Field(description="Channels that accepted it.")
    channels: list[ChannelResultPublic] = Field(
        description="Per channel: delivered, or failed with its last error."
    )
    last_error: str | None = None
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    alert: Alert

    @classmethod
    def of(cls, row: QueuedAlert) -> AlertPublic:
        """From the service layer's (already redacted) row."""
        return cls(
            id=row.id,
            status=row.status,
            attempts=row.attempts,
            channels_done=list(row.channels_done),
            channels=[
                ChannelResultPublic(channel=r.channel, status=r.status, error=r.error)
                for r in service.channel_results(row)
            ],
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            alert=row.alert,
        )


class AlertsConfigPublic(BaseModel):
    """The alerts configuration in force, secrets masked, and where it comes from."""

    origin: str = Field(
        description="`api` (stored through the API; wins over the file), `file`, or `none`."
    )
    version: int = Field(description="The stored version; 0 while nothing is stored.")
    config: dict[str, Any] = Field(description="The document: the alerts file's schema.")
    path: str | None = Field(default=None, description="The alerts file (origin `file`).")
    updated_by: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, found: AlertsSettings) -> AlertsConfigPublic:
        """From the service layer's settings."""
        return cls(
            origin=found.origin,
            version=found.version,
            config=found.document,
            path=found.path,
            updated_by=found.updated_by,
            updated_at=found.updated_at,
        )


class AlertsConfigUpdate(BaseModel):
    """A new alerts configuration, based on the version read."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(
        ge=0,
        description="The version this change is based on (`GET` shows it; 0 while none is "
        "stored). A different stored version is a 409.",
    )
    config: dict[str, Any] = Field(
        description="The alerts file's schema (docs/alerts.md); `${VAR}` is expanded from "
        "the server's environment. A masked value (`***abcd`) left as shown keeps the secret.",
        examples=[EXAMPLE_CONFIG],
    )


class AlertTest(BaseModel):
    """Which channel to send a test alert to."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=200, examples=["audit-log"])
    message: str | None = Field(default=None, min_length=1, max_length=2000)


class AlertTestResult(BaseModel):
    """What the test send did; a refusal by the channel is `delivered: false`, not an error."""

    channel: str
    kind: str
    delivered: bool
    error: str | None = Field(default=None, description="The channel's answer, secrets masked.")
    alert: Alert

    @classmethod
    def of(cls, result: TestResult) -> AlertTestResult:
        """From the service layer's result."""
        return cls(
            channel=result.channel,
            kind=result.kind,
            delivered=result.delivered,
            error=result.error,
            alert=result.alert,
        )


@router.get("", operation_id="list_alerts")
def list_alerts(
    store: StoreDep,
    state: StateDep,
    _who: Reader,
    status: Annotated[
        DeliveryStatus | None, Query(description="Only alerts in this status.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
) -> list[AlertPublic]:
    """The alert outbox, newest first: status, attempts, last error, each channel's result."""
    rows = service.list_alerts(store, status=status, limit=limit, file=state.settings.alerts_config)
    return [AlertPublic.of(r) for r in rows]


@router.get("/config", operation_id="get_alerts_config")
def get_alerts_config(store: StoreDep, state: StateDep, _who: Admin) -> AlertsConfigPublic:
    """The channel configuration in force (stored through the API, else the file's)."""
    return AlertsConfigPublic.of(service.get_config(store, file=state.settings.alerts_config))


@router.put("/config", operation_id="set_alerts_config")
def set_alerts_config(
    body: AlertsConfigUpdate, store: StoreDep, state: StateDep, who: Admin
) -> AlertsConfigPublic:
    """Store a new channel configuration; every replica's worker picks it up (audited)."""
    stored = service.set_config(
        store,
        actor=who.name,
        document=body.config,
        version=body.version,
        file=state.settings.alerts_config,
        require_channels=alerts_enabled(state.settings.env),
    )
    return AlertsConfigPublic.of(stored)


@router.post("/test", operation_id="send_test_alert")
def send_test_alert(
    body: AlertTest, store: StoreDep, state: StateDep, _who: Admin
) -> AlertTestResult:
    """Send a test alert through one channel now (even while ENABLE_ALERTS is off)."""
    result = service.send_test(
        store, channel=body.channel, message=body.message, file=state.settings.alerts_config
    )
    return AlertTestResult.of(result)


@router.get("/{alert_id}", operation_id="get_alert")
def get_alert(
    store: StoreDep,
    state: StateDep,
    _who: Reader,
    alert_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> AlertPublic:
    """One alert of the outbox."""
    return AlertPublic.of(service.get_alert(store, alert_id, file=state.settings.alerts_config))
