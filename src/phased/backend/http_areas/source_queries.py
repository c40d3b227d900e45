"""The ``source_queries`` area over the HTTP API (:mod:`phased.service.source_queries`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from phased.backend.http_areas import RemoteStore
from phased.service.source_queries import QueryLog, QueryRecord


def query_of(data: dict[str, Any]) -> QueryRecord:
    """A ``SourceQueryPublic`` document as the stored record."""
    fields = {k: v for k, v in data.items() if k != "check"}
    return QueryRecord(
        **{**fields, "check_key": data["check"], "at": datetime.fromisoformat(data["at"])}
    )


class HttpSourceQueries:
    """The ``source_queries`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def list_queries(self, flag: str, *, limit: int = 50) -> QueryLog:
        """The most recent source queries of the flag's latest rollout, newest first."""
        data = self.http.request("GET", f"/rollouts/{flag}/source-queries", params={"limit": limit})
        return QueryLog(int(data["rollout_id"]), tuple(query_of(q) for q in data["queries"]))
