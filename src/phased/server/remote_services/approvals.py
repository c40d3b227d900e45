"""Remote twin of :mod:`phased.service.approvals` (see the package docs)."""

from __future__ import annotations

from typing import Any

from phased.server.remote_services import RemoteStore, rollout_of
from phased.service.approvals import Recorded

__all__ = ["Recorded", "approve", "check"]


def _recorded(data: dict[str, Any]) -> Recorded:
    return Recorded(
        rollout=rollout_of(data["rollout"]),
        stage=data["stage"],
        changed=bool(data["changed"]),
        still_waiting=tuple(data["still_waiting"]),
    )


def approve(
    store: RemoteStore,
    *,
    actor: str | None,
    flag: str,
    stage: str,
    environment: str | None = None,
    note: str = "",
) -> Recorded:
    """Approve a stage ahead (the plan's roles and four-eyes apply to the token's owner)."""
    del actor
    body = {"stage": stage, "environment": environment, "note": note}
    return _recorded(store.request("POST", f"/rollouts/{flag}/approve", json=body))


def check(
    store: RemoteStore,
    *,
    actor: str | None,
    flag: str,
    item: str,
    stage: str | None = None,
    environment: str | None = None,
) -> Recorded:
    """Tick a checklist item of a stage ahead."""
    del actor
    body = {"item": item, "stage": stage, "environment": environment}
    return _recorded(store.request("POST", f"/rollouts/{flag}/check", json=body))
