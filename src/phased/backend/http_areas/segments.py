"""The ``segments`` area over the HTTP API (:mod:`phased.service.segments`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phased.backend.http_areas import RemoteStore, result_of

if TYPE_CHECKING:
    from phased.core.flags import Segment
    from phased.service.base import Result


def _segment(data: dict[str, Any]) -> Segment:
    from phased.core.flags import Segment

    return Segment.model_validate({k: v for k, v in data.items() if k != "used_by"})


class HttpSegments:
    """The ``segments`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def list_segments(self) -> list[Segment]:
        """Every segment, by key."""
        return [_segment(s) for s in self.http.request("GET", "/segments")]

    def get_segment(self, key: str) -> tuple[Segment, list[str]]:
        """One segment and the rules that use it."""
        data = self.http.request("GET", f"/segments/{key}")
        return _segment(data), list(data["used_by"])

    def create_segment(
        self,
        *,
        actor: str | None,
        key: str,
        where: list[str] | tuple[str, ...],
        description: str = "",
    ) -> Result:
        """Create a segment from ``attr op value`` expressions."""
        del actor
        body = {"key": key, "where": list(where), "description": description}
        return result_of(self.http.request("POST", "/segments", json=body))

    def delete_segment(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        """Delete a segment no rule uses any more."""
        del actor
        return result_of(
            self.http.request("DELETE", f"/segments/{key}", params={"version": expected_version})
        )
