"""The ``incidents`` area over the HTTP API (:mod:`phased.service.incidents`)."""

from __future__ import annotations

from typing import Any

from phased.backend.http_areas import RemoteStore, decision_of, rollout_of, when
from phased.service.incidents import IncidentRecord, Opened


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


class HttpIncidents:
    """The ``incidents`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def open_incident(
        self,
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
        data = self.http.request("POST", "/incidents", json=body)
        decision = None
        if data.get("outcome") is not None and data.get("rollout") is not None:
            decision = decision_of(data["outcome"], rollout_of(data["rollout"]).state)
        return Opened(incident=incident_of(data["incident"]), decision=decision)

    def resolve_incident(self, *, actor: str | None, incident: str) -> IncidentRecord:
        """Mark an incident resolved."""
        del actor
        return incident_of(self.http.request("POST", f"/incidents/{incident}/resolve"))

    def list_incidents(
        self, *, flag: str | None = None, open_only: bool = False
    ) -> list[IncidentRecord]:
        """Incidents, newest first."""
        rows = self.http.request("GET", "/incidents", params={"flag": flag, "open_only": open_only})
        return [incident_of(r) for r in rows]
