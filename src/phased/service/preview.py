"""Previews of one change to one flag in one environment, before it is made (read-only).

The dashboard's confirmation pages show them: who keeps, gains and loses the
flag (:mod:`phased.core.audience_change`), and whether a running plan
controls it (then confirming needs ``force`` and holds the rollout; see
:mod:`phased.service.guard`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from phased.core.audience_change import AudienceChange, audience_change
from phased.core.flags import FlagState
from phased.errors import PhasedError
from phased.service import guard
from phased.service import rollout_records as records
from phased.service.base import check_environment, require_flag
from phased.store import repository
from phased.store.engine import Store


@dataclass(frozen=True, slots=True)
class ChangePreview:
    """What one change would do."""

    audience: AudienceChange
    drift: str | None = None
    """Set when a running plan controls this: what it is and what the change moves."""


def preview_change(
    store: Store, key: str, environment: str, change: Callable[[FlagState], FlagState]
) -> ChangePreview | None:
    """The preview of ``change`` applied to ``key`` in ``environment`` (None if it is invalid)."""
    env = check_environment(store, environment)
    with store.read() as conn:
        flagset = repository.load(conn, store.environments).flagset
        rollout = records.active(conn, key)
    flag = require_flag(flagset, key)
    before = flag.state(env)
    try:
        after = change(before)
    except (PhasedError, ValueError):
        return None  # the change itself will be refused with its own message
    drift = None
    if rollout is not None and env in rollout.environments:
        moved = guard.moves(before, after)
        if moved:
            drift = (
                f"rollout #{rollout.id} (plan {rollout.plan_path}, {rollout.phase} at stage "
                f"{rollout.stage.name}) controls {key} in {env}; this moves {', '.join(moved)}"
            )
    return ChangePreview(audience_change(flag, env, before, after), drift)
