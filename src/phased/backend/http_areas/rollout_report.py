"""Remote twin of :mod:`phased.service.rollout_report` (see the package docs)."""

from __future__ import annotations

from phased.backend.http_areas import RemoteStore
from phased.service.rollout_report import fmt_metric

__all__ = ["build_report", "fmt_metric"]


def build_report(store: RemoteStore, flag: str) -> str:
    """The rollout as a document, written by the server."""
    text: str = store.request("GET", f"/rollouts/{flag}/report", raw=True)
    return text
