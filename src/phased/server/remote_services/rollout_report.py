"""Remote twin of :mod:`phased.service.rollout_report` (see the package docs)."""

from __future__ import annotations

from phased.server.remote_services import RemoteStore
from phased.service.rollout_report import fmt_metric

__all__ = ["build_report", "fmt_metric"]


def build_report(store: RemoteStore, flag: str, *, rollout_id: int | None = None) -> str:
    """The rollout as a document, written by the server."""
    params = {} if rollout_id is None else {"rollout": rollout_id}
    text: str = store.request("GET", f"/rollouts/{flag}/report", raw=True, params=params)
    return text
