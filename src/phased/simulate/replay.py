"""Feeding recorded (or synthetic) per-minute outcomes through the real engine.

``Replay`` keeps one rollout's state and per-stage aggregates and calls
``decide`` once per minute on a virtual clock. ``phased judge`` wraps it in a
JSON-lines protocol; ``phased simulate`` drives it from a traffic model. A
simulated person grants approvals and ticks checklists when first asked,
unless ``auto_approve`` is off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from phased.core.decide import Decision, decide
from phased.core.gates import Observations, StageOutcomes
from phased.core.outcomes import Aggregate
from phased.core.plans.model import Plan
from phased.core.rollout_state import RolloutPhase, RolloutState, approve, new_rollout, tick

UnitOutcome = tuple[str | int, int, int, int, int, float | None]
"""One unit's minute: (unit, requests, errors, fallbacks, retries, largest latency in ms)."""

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
OPERATOR = "sim-operator"


@dataclass(slots=True)
class _Window:
    stage: str
    environment: str
    started: datetime
    candidate: Aggregate = field(default_factory=Aggregate)
    control: Aggregate = field(default_factory=Aggregate)


class Replay:
    """One rollout of ``plan`` on a virtual clock starting at ``t0``."""

    def __init__(self, plan: Plan, *, auto_approve: bool = True, t0: datetime = EPOCH) -> None:
        self.plan = plan
        self.auto_approve = auto_approve
        self.t0 = t0
        self.state: RolloutState = new_rollout(plan.flag, OPERATOR, t0)
        self.windows: list[_Window] = []
        self.granted: list[str] = []
        """What the simulated person did, in order, for the timeline."""

    # -- the clock ------------------------------------------------------------

    def at(self, minute: float) -> datetime:
        """The virtual time ``minute`` minutes after the start."""
        return self.t0 + timedelta(minutes=minute)

    @property
    def finished(self) -> bool:
        """The rollout completed or was rolled back."""
        return self.state.phase.is_terminal

    @property
    def current(self) -> _Window | None:
        """The window of the stage in force (None before the first stage)."""
        if self.state.phase is RolloutPhase.PENDING or not self.windows:
            return None
        return self.windows[-1]

    # -- feeding --------------------------------------------------------------

    def arms(self) -> tuple[Aggregate, Aggregate] | None:
        """The (candidate, control) aggregates outcomes go into now, or None when pending."""
        window = self.current
        return None if window is None else (window.candidate, window.control)

    def step(self, now: datetime) -> Decision:
        """Decide once at ``now`` (granting approvals first if the engine asks for them)."""
        decision = decide(self.plan, self.state, self._observations(now), now)
        if decision.waiting_for and self.auto_approve:
            state = decision.state
            for need in decision.waiting_for:
                if need.kind == "approval":
                    for n in range(need.missing):
                        actor = f"sim-{need.roles[0]}-{n + 1}"
                        state = approve(state, need.stage, actor, need.roles, now)
                        self.granted.append(f"{actor} approved stage {need.stage}")
                elif need.item is not None:
                    state = tick(state, need.stage, need.item, OPERATOR, now)
                    self.granted.append(f"{OPERATOR} ticked {need.item!r} for stage {need.stage}")
            self.state = state
            decision = decide(self.plan, self.state, self._observations(now), now)
        self._apply(decision, now)
        return decision

    def _apply(self, decision: Decision, now: datetime) -> None:
        before = self.state
        self.state = decision.state
        moved = decision.state.stage != before.stage or (
            before.phase is RolloutPhase.PENDING and decision.state.phase is RolloutPhase.RUNNING
        )
        if moved and not decision.state.phase.is_terminal:
            index = decision.state.stage
            self.windows.append(
                _Window(self.plan.stages[index].name, self.plan.stage_environment(index), now)
            )

    def _observations(self, now: datetime) -> Observations:
        window = self.current
        if window is None:
            return Observations()
        earlier = tuple(self._outcomes(w, w.started) for w in self.windows[:-1])
        return Observations(current=self._outcomes(window, now), earlier=earlier)

    @staticmethod
    def _outcomes(window: _Window, now: datetime) -> StageOutcomes:
        return StageOutcomes(
            stage=window.stage,
            environment=window.environment,
            candidate=window.candidate,
            control=window.control,
            elapsed_seconds=max((now - window.started).total_seconds(), 0.0),
        )


def record_minute(
    agg: Aggregate,
    *,
    requests: int,
    errors: int = 0,
    latency_ms: Iterable[float] = (),
    fallbacks: int = 0,
    retries: int = 0,
    cost_usd: float = 0.0,
    units: Iterable[UnitOutcome] = (),
) -> None:
    """Add one minute of pre-counted outcomes to an aggregate (the judge's input).

    ``units`` is the minute's breakdown by randomisation unit: (unit id or
    ``unit_hash``, requests, errors, fallbacks, retries, largest latency in ms
    or None); its sums are the arm's totals (the caller checks that).
    """
    agg.requests += requests
    agg.errors += errors
    agg.fallbacks += fallbacks
    agg.retries += retries
    agg.cost_usd += cost_usd
    add = agg.latency.add
    for value in latency_ms:
        add(float(value))
    add_unit = agg.units.add
    for unit, n, e, f, r, peak in units:
        add_unit(unit, requests=n, errors=e, fallbacks=f, retries=r, latency_ms=peak)
