"""Remote twin of :mod:`phased.service.incidents` (see the package docs)."""

from __future__ import annotations

from typing import Any

from phased.backend.http_areas import RemoteStore, decision_of, rollout_of, when
from phased.service.incidents import IncidentRecord, Opened

__all__ = ["IncidentRecord", "Opened", "list_incidents", "open_incident", "resolve_incident"]


def incident_of(data: dict[str, Any]) -> IncidentRecord:
    """An ``IncidentPublic`` document as an :class:`IncidentRecord`."""
    opened = when(data["opened_at"])
    assert opened is not None
    return IncidentRecord(
        id=int(str(data["id"]).removeprefix("INC-")),
        flag=data["flag"],
        rollout_id=data["rollout"],
        severity=data["severity"],
        title=data["title"],
        opened_by=data["opened_by"],
        opened_at=opened,
        resolved_by=data["resolved_by"],
        resolved_at=when(data["resolved_at"]),
        action=data["action"],
    )


def open_incident(
    store: RemoteStore,
    *,
    actor: str | None,
    flag: str,
    severity: str,
    title: str = "",
    environment: str | None = None,
) -> Opened:
    """Open an incident; the rollout acts on it at once."""
    del actor
    body = {"flag": flag, "severity": severity, "title": title, "environment": environment}
    data = store.request("POST", "/incidents", json=body)
    decision = None
    if data.get("outcome") is not None and data.get("rollout") is not None:
        decision = decision_of(data["outcome"], rollout_of(data["rollout"]).state)
    return Opened(incident=incident_of(data["incident"]), decision=decision)


def resolve_incident(store: RemoteStore, *, actor: str | None, incident: str) -> IncidentRecord:
    """Mark an incident resolved."""
    del actor
    return incident_of(store.request("POST", f"/incidents/{incident}/resolve"))


def list_incidents(
    store: RemoteStore, *, flag: str | None = None, open_only: bool = False
) -> list[IncidentRecord]:
    """Incidents, newest first."""
    rows = store.request("GET", "/incidents", params={"flag": flag, "open_only": open_only})
    return [incident_of(r) for r in rows]
