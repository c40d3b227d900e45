"""Remote twin of :mod:`phased.service.rollout_controls` (see the package docs)."""

from __future__ import annotations

from phased.backend.http_areas import RemoteStore
from phased.backend.http_areas.plan_rollouts import Applied, applied_of


def _post(store: RemoteStore, flag: str, verb: str, body: dict[str, object]) -> Applied | None:
    return applied_of(store.request("POST", f"/rollouts/{flag}/{verb}", json=body))


def advance(
    store: RemoteStore,
    *,
    actor: str | None,
    flag: str,
    force: bool = False,
    environment: str | None = None,
) -> Applied:
    """Advance now if the stage is ready (``force``: admin token)."""
    del actor
    applied = _post(store, flag, "advance", {"force": force, "environment": environment})
    assert applied is not None  # the server refuses an advance that would not change anything
    return applied


def pause_rollout(
    store: RemoteStore,
    *,
    actor: str | None,
    flag: str,
    reason: str = "",
    environment: str | None = None,
) -> Applied | None:
    """Hold the rollout (None: it was paused already)."""
    del actor
    return _post(store, flag, "pause", {"reason": reason, "environment": environment})


def resume_rollout(
    store: RemoteStore, *, actor: str | None, flag: str, environment: str | None = None
) -> Applied | None:
    """Let a paused rollout go on (None: it was not paused)."""
    del actor
    return _post(store, flag, "resume", {"environment": environment})


def rollback_rollout(
    store: RemoteStore,
    *,
    actor: str | None,
    flag: str,
    reason: str,
    environment: str | None = None,
) -> Applied:
    """Take the flag back to 0 % and end the rollout."""
    del actor
    applied = _post(store, flag, "rollback", {"reason": reason, "environment": environment})
    assert applied is not None  # a rollback always ends the rollout
    return applied
