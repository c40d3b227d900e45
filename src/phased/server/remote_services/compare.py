"""Remote twin of :mod:`phased.service.compare` (see the package docs)."""

from __future__ import annotations

from typing import Any

from phased.server.remote_services import RemoteStore, when
from phased.service.compare import Mismatch

__all__ = ["Mismatch", "list_mismatches", "record_mismatch", "resolve_mismatch"]


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


def record_mismatch(store: RemoteStore, sample: dict[str, Any]) -> int:
    """Keep one sample on the server."""
    return int(store.request("POST", "/compare/mismatches", json=sample)["id"])


def list_mismatches(
    store: RemoteStore, flag: str, *, include_resolved: bool = False, limit: int = 50
) -> list[Mismatch]:
    """The flag's kept samples, newest first."""
    params = {"include_resolved": include_resolved, "limit": limit}
    return [
        _mismatch(r) for r in store.request("GET", f"/compare/{flag}/mismatches", params=params)
    ]


def resolve_mismatch(
    store: RemoteStore, *, actor: str | None, mismatch_id: int, note: str
) -> Mismatch:
    """Mark a mismatch "new behaviour is correct"."""
    del actor
    data = store.request("POST", f"/compare/mismatches/{mismatch_id}/resolve", json={"note": note})
    return _mismatch(data)
