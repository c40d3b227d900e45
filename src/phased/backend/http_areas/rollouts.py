"""The ``rollouts`` area over the HTTP API (:mod:`phased.service.rollouts`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phased.backend.http_areas import RemoteStore, result_of

if TYPE_CHECKING:
    from phased.service.base import Result


class HttpRollouts:
    """The ``rollouts`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def set_rollout(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        percent: float,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Result:
        """Set the rollout percentage of ``key`` in ``environment``."""
        del actor
        body = {"percent": percent, "version": expected_version, "force": force}
        path = f"/flags/{key}/environments/{environment}/rollout"
        return result_of(self.http.request("PUT", path, json=body))
