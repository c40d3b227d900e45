"""Alert triggers: inbound endpoints that let an alerting system stop a rollout.

Creating and revoking one needs the admin role; firing one needs only its
token, in the URL (``/triggers/fire/<token>``) or as ``Authorization: Bearer
<token>`` on ``/triggers/fire``. The body is Alertmanager's webhook payload as
it is, Grafana's, or plain JSON (docs/alert-triggers.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, status
from pydantic import BaseModel, ConfigDict, Field

from phased.errors import AuthenticationError
from phased.server.api.deps import Admin, Reader, StoreDep
from phased.server.tracing import TracedRoute
from phased.service import alert_triggers as service

router = APIRouter(prefix="/triggers", tags=["triggers"], route_class=TracedRoute)


class TriggerPublic(BaseModel):
    """One trigger (never its token)."""

    id: int
    flag: str = Field(description="The flag, or * (the alert's `flag` label decides).")
    name: str
    action: Literal["pause", "rollback", "disable"] | None = Field(
        description="null: the plan's on_alert.action."
    )
    match: dict[str, str] = Field(description="Labels an alert must carry to count.")
    enabled: bool
    created_by: str
    created_at: datetime


class TriggerCreate(BaseModel):
    """A new trigger for one flag (or `*`)."""

    model_config = ConfigDict(extra="forbid")

    flag: str
    name: str = Field(examples=["alertmanager"])
    action: Literal["pause", "rollback", "disable"] | None = None
    match: dict[str, str] = Field(default_factory=dict)


class TriggerCreated(BaseModel):
    """The trigger and its token: shown this once, only its hash is kept."""

    trigger: TriggerPublic
    token: str
    path: str = Field(description="The URL path to give the alerting system.")


class FiredPublic(BaseModel):
    """What the call did to one flag's rollout."""

    trigger: str
    flag: str
    did: str
    alerts: list[str]
    rollout: int | None = None


class FireResponse(BaseModel):
    """Alerts received, alerts that matched the trigger, and what they did."""

    received: int
    matched: int
    results: list[FiredPublic]


def _public(trigger: service.AlertTrigger) -> TriggerPublic:
    return TriggerPublic.model_validate(trigger.to_dict())


@router.get("", operation_id="list_triggers")
def list_triggers(
    store: StoreDep, _who: Reader, flag: str | None = Query(default=None)
) -> list[TriggerPublic]:
    """Every alert trigger (of one flag)."""
    return [_public(t) for t in service.list_triggers(store, flag)]


@router.post("", operation_id="create_trigger", status_code=status.HTTP_201_CREATED)
def create_trigger(body: TriggerCreate, store: StoreDep, who: Admin) -> TriggerCreated:
    """Create a trigger; the token in the answer is shown only this once."""
    created = service.create_trigger(
        store, actor=who.name, flag=body.flag, name=body.name, action=body.action, match=body.match
    )
    return TriggerCreated(trigger=_public(created.trigger), token=created.token, path=created.path)


@router.delete("/{flag}/{name}", operation_id="revoke_trigger")
def revoke_trigger(flag: str, name: str, store: StoreDep, who: Admin) -> TriggerPublic:
    """Disable a trigger; its URL stops working at once."""
    return _public(service.revoke_trigger(store, actor=who.name, flag=flag, name=name))


def _fire(store: Any, token: str, body: Any) -> FireResponse:
    result = service.fire(store, token, body)
    return FireResponse(
        received=result.received,
        matched=result.matched,
        results=[
            FiredPublic(
                trigger=f.trigger, flag=f.flag, did=f.did, alerts=list(f.alerts), rollout=f.rollout
            )
            for f in result.results
        ],
    )


@router.post("/fire/{token}", operation_id="fire_trigger", status_code=status.HTTP_202_ACCEPTED)
def fire_by_url(token: str, store: StoreDep, body: Annotated[Any, Body()] = None) -> FireResponse:
    """An alerting system's call: pause, roll back or disable the flag's rollout."""
    return _fire(store, token, body)


@router.post("/fire", operation_id="fire_trigger_bearer", status_code=status.HTTP_202_ACCEPTED)
def fire_by_header(
    store: StoreDep,
    authorization: Annotated[str | None, Header()] = None,
    body: Annotated[Any, Body()] = None,
) -> FireResponse:
    """The same call with the token as ``Authorization: Bearer <token>``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send the trigger token as Authorization: Bearer phd_trg_...")
    return _fire(store, token.strip(), body)
