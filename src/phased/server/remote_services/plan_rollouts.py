"""Remote twin of :mod:`phased.service.plan_rollouts` (see the package docs)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from phased.server.remote_services import RemoteStore, decision_of, entry_of, rollout_of
from phased.service.plan_rollouts import Applied

if TYPE_CHECKING:
    from phased.core.decide import Decision
    from phased.service.rollout_records import HistoryEntry, Rollout

__all__ = [
    "Applied",
    "applied_of",
    "apply_plan",
    "list_rollouts",
    "preview",
    "rollout_history",
]


def applied_of(data: dict[str, Any]) -> Applied | None:
    """An ``AppliedPublic`` document as :class:`Applied` (None when nothing changed)."""
    if not data.get("changed", True):
        return None
    rollout = rollout_of(data["rollout"])
    return Applied(
        rollout=rollout,
        decision=decision_of(data["decision"], rollout.state),
        entries=tuple(entry_of(e) for e in data["audit"]),
    )


def apply_plan(
    store: RemoteStore,
    *,
    actor: str | None,
    text: str,
    path: str = "<string>",
    environment: str | None = None,
) -> Applied:
    """Start a rollout of the plan on the server."""
    del actor
    body = {"text": text, "path": path, "environment": environment}
    applied = applied_of(store.request("POST", "/plans/apply", json=body))
    assert applied is not None  # applying always changes something
    return applied


def preview(store: RemoteStore, flag: str) -> tuple[Rollout, Decision]:
    """The flag's rollout and what the engine would decide now."""
    data = store.request("GET", f"/rollouts/{flag}")
    rollout = rollout_of(data["rollout"])
    return rollout, decision_of(data["decision"], rollout.state)


def list_rollouts(store: RemoteStore, *, active_only: bool = False) -> list[Rollout]:
    """Rollouts, newest first."""
    rows = store.request("GET", "/rollouts", params={"active_only": active_only})
    return [rollout_of(r) for r in rows]


def rollout_history(
    store: RemoteStore, flag: str, *, limit: int | None = None, rollout_id: int | None = None
) -> list[HistoryEntry]:
    """The rollout's recorded decisions, newest first."""
    from phased.core.gates import GateResult
    from phased.core.stage_entry import Waiting
    from phased.service.rollout_records import HistoryEntry

    params: dict[str, int] = {"limit": limit or 10_000}
    if rollout_id is not None:
        params["rollout"] = rollout_id
    rows = store.request("GET", f"/rollouts/{flag}/history", params=params)
    return [
        HistoryEntry(
            id=int(r["id"]),
            at=datetime.fromisoformat(r["at"]),
            actor=r["actor"],
            kind=r["kind"],
            source=r["source"],
            stage=r["stage"],
            stage_index=int(r["stage_index"]),
            phase=r["phase"],
            reason=r["reason"],
            dry_run=bool(r["dry_run"]),
            evaluations=tuple(GateResult.model_validate(e) for e in r["evaluations"]),
            alerts=tuple(r["alerts"]),
            waiting=tuple(Waiting.model_validate(w) for w in r["waiting"]),
        )
        for r in rows
    ]
