"""The ``compare`` area over the HTTP API (:mod:`phased.service.compare`)."""

from __future__ import annotations

from typing import Any

from phased.backend.http_areas import RemoteStore, when
from phased.service.compare import Mismatch


def _mismatch(data: dict[str, Any]) -> Mismatch:
    at = when(data["at"])
    assert at is not None
    return Mismatch(
        id=int(data["id"]),
        flag=data["flag"],
        environment=data["environment"],
        stage=data["stage"],
        mode=data["mode"],
        context=dict(data["context"]),
        old=data["old"],
        new=data["new"],
        diff=list(data["diff"]),
        at=at,
        resolved=bool(data["resolved"]),
        resolved_by=data["resolved_by"],
        resolved_at=when(data["resolved_at"]),
        note=data["note"],
    )


class HttpCompare:
    """The ``compare`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def record_mismatch(self, sample: dict[str, Any]) -> int:
        """Keep one sample on the server."""
        return int(self.http.request("POST", "/compare/mismatches", json=sample)["id"])

    def list_mismatches(
        self, flag: str, *, include_resolved: bool = False, limit: int = 50
    ) -> list[Mismatch]:
        """The flag's kept samples, newest first."""
        params = {"include_resolved": include_resolved, "limit": limit}
        rows = self.http.request("GET", f"/compare/{flag}/mismatches", params=params)
        return [_mismatch(r) for r in rows]

    def resolve_mismatch(self, *, actor: str | None, mismatch_id: int, note: str) -> Mismatch:
        """Mark a mismatch "new behaviour is correct"."""
        del actor
        path = f"/compare/mismatches/{mismatch_id}/resolve"
        return _mismatch(self.http.request("POST", path, json={"note": note}))
