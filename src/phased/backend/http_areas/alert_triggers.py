"""The ``alert_triggers`` area over the HTTP API (:mod:`phased.service.alert_triggers`).

Creating and revoking need an admin token; listing, any reader's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from phased.backend.http_areas import RemoteStore
from phased.service.alert_triggers import AlertTrigger, CreatedTrigger, check_action


def trigger_of(data: dict[str, Any]) -> AlertTrigger:
    """A ``TriggerPublic`` document as an :class:`AlertTrigger`."""
    return AlertTrigger(
        id=int(data["id"]),
        flag=data["flag"],
        name=data["name"],
        action=data.get("action"),
        match=dict(data["match"]),
        enabled=bool(data["enabled"]),
        created_by=data["created_by"],
        created_at=datetime.fromisoformat(data["created_at"]),
    )


class HttpAlertTriggers:
    """The ``alert_triggers`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def create_trigger(
        self,
        *,
        actor: str | None,
        flag: str,
        name: str,
        action: str | None = None,
        match: Mapping[str, str] | None = None,
    ) -> CreatedTrigger:
        """Create a trigger on the server; its token comes back this once."""
        del actor
        # The route's schema would refuse an unknown action in pydantic's words; say the service's.
        check_action(action)
        body = {"flag": flag, "name": name, "action": action, "match": dict(match or {})}
        data = self.http.request("POST", "/triggers", json=body)
        return CreatedTrigger(trigger_of(data["trigger"]), data["token"])

    def list_triggers(self, flag: str | None = None) -> list[AlertTrigger]:
        """Every trigger (of one flag), oldest first, never its token."""
        rows = self.http.request("GET", "/triggers", params={"flag": flag})
        return [trigger_of(row) for row in rows]

    def revoke_trigger(self, *, actor: str | None, flag: str, name: str) -> AlertTrigger:
        """Disable a trigger: its URL stops working at once."""
        del actor
        return trigger_of(self.http.request("DELETE", f"/triggers/{flag}/{name}"))
