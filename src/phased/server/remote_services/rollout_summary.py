"""Remote twin of :mod:`phased.service.rollout_summary` (see the package docs)."""

from __future__ import annotations

from typing import Any

from phased.server.remote_services import RemoteStore

__all__ = ["summary_dict"]


def summary_dict(store: RemoteStore, flag: str) -> dict[str, Any]:
    """The summary the server computed (``GET /api/v1/rollouts/{flag}``)."""
    data: dict[str, Any] = store.request("GET", f"/rollouts/{flag}")["summary"]
    return data
