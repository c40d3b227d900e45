"""The ``plan_rollouts`` area over the HTTP API (:mod:`phased.service.plan_rollouts`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from phased.backend.http_areas import RemoteStore, decision_of, entry_of, rollout_of
from phased.core.plans.preview import StagePreview
from phased.service.plan_rollouts import Applied

if TYPE_CHECKING:
    from phased.core.decide import Decision
    from phased.service.rollout_records import HistoryEntry, Rollout


def applied_of(data: dict[str, Any]) -> Applied | None:
    """An ``AppliedPublic`` document as :class:`Applied` (None when nothing changed)."""
    if not data.get("changed", True):
        return None
    rollout = rollout_of(data["rollout"])
    return Applied(
        rollout=rollout,
        decision=decision_of(data["decision"], rollout.state),
        entries=tuple(entry_of(e) for e in data["audit"]),
        preview=tuple(StagePreview.from_dict(p) for p in data.get("preview", ())),
    )


class HttpPlanRollouts:
    """The ``plan_rollouts`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def apply_plan(
        self,
        *,
        actor: str | None,
        text: str,
        path: str = "<string>",
        environment: str | None = None,
        allow_shrink: bool = False,
    ) -> Applied:
        """Start a rollout of the plan on the server."""
        del actor
        body = {
            "text": text,
            "path": path,
            "environment": environment,
            "allow_shrink": allow_shrink,
        }
        applied = applied_of(self.http.request("POST", "/plans/apply", json=body))
        assert applied is not None  # applying always changes something
        return applied

    def plan_preview(
        self, *, text: str, path: str = "<string>", allow_shrink: bool = False
    ) -> list[StagePreview]:
        """What applying the plan would do to today's audience (the server computes it)."""
        body = {"text": text, "path": path, "allow_shrink": allow_shrink}
        data = self.http.request("POST", "/plans/preview", json=body)
        return [StagePreview.from_dict(p) for p in data["preview"]]

    def preview(self, flag: str) -> tuple[Rollout, Decision]:
        """The flag's rollout and what the engine would decide now."""
        data = self.http.request("GET", f"/rollouts/{flag}")
        rollout = rollout_of(data["rollout"])
        return rollout, decision_of(data["decision"], rollout.state)

    def list_rollouts(self, *, active_only: bool = False) -> list[Rollout]:
        """Rollouts, newest first."""
        rows = self.http.request("GET", "/rollouts", params={"active_only": active_only})
        return [rollout_of(r) for r in rows]

    def rollout_history(
        self, flag: str, *, limit: int | None = None, rollout_id: int | None = None
    ) -> list[HistoryEntry]:
        """The rollout's recorded decisions, newest first."""
        from phased.core.gates import GateResult
        from phased.core.stage_entry import Waiting
        from phased.service.rollout_records import HistoryEntry

        params: dict[str, int] = {"limit": limit or 10_000}
        if rollout_id is not None:
            params["rollout"] = rollout_id
        rows = self.http.request("GET", f"/rollouts/{flag}/history", params=params)
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
