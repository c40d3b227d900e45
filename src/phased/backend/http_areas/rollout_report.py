"""The ``rollout_report`` area over the HTTP API (:mod:`phased.service.rollout_report`)."""

from __future__ import annotations

from typing import Any

from phased.backend.http_areas import RemoteStore


class HttpRolloutReport:
    """The ``rollout_report`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def build_report(self, flag: str, *, rollout_id: int | None = None) -> str:
        """The rollout as a document, written by the server."""
        params = {} if rollout_id is None else {"rollout": rollout_id}
        text: str = self.http.request("GET", f"/rollouts/{flag}/report", raw=True, params=params)
        return text

    def summary_dict(self, flag: str) -> dict[str, Any]:
        """The summary the server computed (``GET /api/v1/rollouts/{flag}``)."""
        data: dict[str, Any] = self.http.request("GET", f"/rollouts/{flag}")["summary"]
        return data
