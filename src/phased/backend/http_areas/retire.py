"""The ``retire`` area over the HTTP API (:mod:`phased.service.retire`).

The code references are counted on the client (``phased flag refs`` reads
the caller's source tree, which the server does not have) and sent as a
number.
"""

from __future__ import annotations

from typing import Any

from phased.backend.http_areas import RemoteStore, when
from phased.core.retire import Prerequisite
from phased.service.retire import DEFAULT_DAYS, Retired, StaleFlag


def prerequisite_of(data: dict[str, Any]) -> Prerequisite:
    """A ``PrerequisitePublic`` document as the core's prerequisite."""
    return Prerequisite(name=data["name"], holds=bool(data["holds"]), detail=data["detail"])


def retired_of(data: dict[str, Any]) -> Retired:
    """A ``RetiredPublic`` document as the service layer's result."""
    return Retired(
        flag=data["flag"],
        value=data["value"],
        prerequisites=tuple(prerequisite_of(p) for p in data["prerequisites"]),
        retired=bool(data["retired"]),
        forced=bool(data["forced"]),
    )


def stale_of(data: dict[str, Any]) -> StaleFlag:
    """A ``StaleFlagPublic`` document as the service layer's stale flag."""
    return StaleFlag(
        key=data["flag"],
        reason=data["reason"],
        last_change=when(data.get("last_change")),
        last_traffic=when(data.get("last_traffic")),
    )


class HttpRetire:
    """The ``retire`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def check(
        self,
        key: str,
        *,
        days: int = DEFAULT_DAYS,
        value: str | None = None,
        code_refs: int | None = None,
    ) -> list[Prerequisite]:
        """The prerequisites of retiring ``key``, as the server sees them."""
        params: dict[str, Any] = {"days": days}
        if value is not None:
            params["value"] = value
        if code_refs is not None:
            params["code_refs"] = code_refs
        rows = self.http.request("GET", f"/flags/{key}/retire/check", params=params)
        return [prerequisite_of(row) for row in rows]

    def retire(
        self,
        *,
        actor: str | None,
        key: str,
        days: int = DEFAULT_DAYS,
        value: str | None = None,
        code_refs: int | None = None,
        force: bool = False,
    ) -> Retired:
        """Retire ``key`` on the server (the actor is the token's owner)."""
        del actor
        body = {"days": days, "value": value, "code_refs": code_refs, "force": force}
        return retired_of(self.http.request("POST", f"/flags/{key}/retire", json=body))

    def stale(self, *, days: int = 30) -> list[StaleFlag]:
        """Flags that look done, as the server sees them."""
        rows = self.http.request("GET", "/flags/stale", params={"days": days})
        return [stale_of(row) for row in rows]
