"""Remote twin of :mod:`phased.service.rollouts` (see the package docs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phased.server.remote_services import RemoteStore, result_of

if TYPE_CHECKING:
    from phased.service.base import Result


def set_rollout(
    store: RemoteStore,
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
    return result_of(store.request("PUT", path, json=body))
