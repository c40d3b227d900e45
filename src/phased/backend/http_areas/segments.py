"""Remote twin of :mod:`phased.service.segments` (see the package docs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phased.backend.http_areas import RemoteStore, result_of
from phased.service.segments import segment_dict

if TYPE_CHECKING:
    from phased.core.flags import Segment
    from phased.service.base import Result

__all__ = ["create_segment", "delete_segment", "get_segment", "list_segments", "segment_dict"]


def _segment(data: dict[str, Any]) -> Segment:
    from phased.core.flags import Segment

    return Segment.model_validate({k: v for k, v in data.items() if k != "used_by"})


def list_segments(store: RemoteStore) -> list[Segment]:
    """Every segment, by key."""
    return [_segment(s) for s in store.request("GET", "/segments")]


def get_segment(store: RemoteStore, key: str) -> tuple[Segment, list[str]]:
    """One segment and the rules that use it."""
    data = store.request("GET", f"/segments/{key}")
    return _segment(data), list(data["used_by"])


def create_segment(
    store: RemoteStore,
    *,
    actor: str | None,
    key: str,
    where: list[str] | tuple[str, ...],
    description: str = "",
) -> Result:
    """Create a segment from ``attr op value`` expressions."""
    del actor
    body = {"key": key, "where": list(where), "description": description}
    return result_of(store.request("POST", "/segments", json=body))


def delete_segment(
    store: RemoteStore, *, actor: str | None, key: str, expected_version: int | None = None
) -> Result:
    """Delete a segment no rule uses any more."""
    del actor
    return result_of(
        store.request("DELETE", f"/segments/{key}", params={"version": expected_version})
    )
