"""What the server shows of running rollouts: stage per flag, gate values.

One module so that the SDK payload, ``/metrics`` and the routes agree on
what "the current stage" is; it reads through the rollout service.
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
    """Every rollout that is not finished, with the gate values of its last decision."""
    from phased.service import plan_rollouts

    views = []
    for rollout in plan_rollouts.list_rollouts(store, active_only=True):
        gates: list[GateView] = []
        history = plan_rollouts.rollout_history(store, rollout.flag, limit=1)
        for entry in history:
            gates.extend(
                GateView(ev.label or ev.metric, ev.value, ev.verdict.value)
                for ev in entry.evaluations
            )
        views.append(
            RolloutView(
                flag=rollout.flag,
                environment=rollout.stage_environment,
                stage=rollout.stage.name,
                stage_index=rollout.state.stage,
                phase=rollout.phase,
                gates=tuple(gates),
            )
        )
    return views


def stages_by_flag(store: Store, environment: str) -> dict[str, str]:
    """The current stage name of each flag rolling out in ``environment``."""
    from phased.service import plan_rollouts

    return plan_rollouts.active_stages(store, environment)
