"""The ``rollout_controls`` area over the HTTP API (:mod:`phased.service.rollout_controls`)."""

from __future__ import annotations

from phased.backend.http_areas import RemoteStore
from phased.backend.http_areas.plan_rollouts import applied_of
from phased.service.plan_rollouts import Applied


class HttpRolloutControls:
    """The ``rollout_controls`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def _post(self, flag: str, verb: str, body: dict[str, object]) -> Applied | None:
        return applied_of(self.http.request("POST", f"/rollouts/{flag}/{verb}", json=body))

    def advance(
        self,
        *,
        actor: str | None,
        flag: str,
        force: bool = False,
        environment: str | None = None,
    ) -> Applied:
        """Advance now if the stage is ready (``force``: admin token)."""
        del actor
        applied = self._post(flag, "advance", {"force": force, "environment": environment})
        assert applied is not None  # the server refuses an advance that would not change anything
        return applied

    def pause_rollout(
        self,
        *,
        actor: str | None,
        flag: str,
        reason: str = "",
        environment: str | None = None,
    ) -> Applied | None:
        """Hold the rollout (None: it was paused already)."""
        del actor
        return self._post(flag, "pause", {"reason": reason, "environment": environment})

    def resume_rollout(
        self, *, actor: str | None, flag: str, environment: str | None = None
    ) -> Applied | None:
        """Let a paused rollout go on (None: it was not paused)."""
        del actor
        return self._post(flag, "resume", {"environment": environment})

    def rollback_rollout(
        self,
        *,
        actor: str | None,
        flag: str,
        reason: str,
        environment: str | None = None,
    ) -> Applied:
        """Take the flag back to 0 % and end the rollout."""
        del actor
        applied = self._post(flag, "rollback", {"reason": reason, "environment": environment})
        assert applied is not None  # a rollback always ends the rollout
        return applied
