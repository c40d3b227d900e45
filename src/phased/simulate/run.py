"""``phased simulate``: the real engine on a virtual clock against synthetic traffic.

Requests arrive as a Poisson stream; each comes from one of ``users`` users
whose attributes were drawn once from the model's shares. The flag's real
compiled evaluation decides each request's arm, so cohort stages (roles,
labels) and sticky percentages behave as they will in production. Outcomes
go into per-stage aggregates and ``decide`` looks every
``decide_every_minutes``, exactly as the reconcile loop would.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from phased.core.decide import Decision, DecisionKind
from phased.core.evaluate import CompiledFlagSet
from phased.core.flags import Flag, FlagSet
from phased.core.outcomes import MISMATCH_METRIC, Aggregate, metric_value
from phased.core.plans.audience import stage_flag_state
from phased.core.plans.model import Mode, Plan
from phased.core.plans.preview import baseline_of
from phased.errors import ValidationError
from phased.simulate.replay import Replay
from phased.simulate.traffic import LIST_ATTRIBUTES, TrafficModel


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One line of the timeline (and of ``--json`` output)."""

    minute: float
    stage: str
    percent: float
    event: str
    reason: str
    metrics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` line."""
        return {
            "minute": self.minute,
            "stage": self.stage,
            "percent": self.percent,
            "event": self.event,
            "reason": self.reason,
            "metrics": self.metrics,
        }


@dataclass(slots=True)
class SimResult:
    """What happened: the timeline, the decisions and the final outcome."""

    events: list[SimEvent] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    outcome: str = "running"
    minute: float = 0.0
    stage: str = ""
    candidate_requests: int = 0
    candidate_errors: int = 0
    control_requests: int = 0

    def summary(self) -> dict[str, Any]:
        """The final ``--json`` line."""
        return {
            "event": "summary",
            "outcome": self.outcome,
            "minute": self.minute,
            "stage": self.stage,
            "candidate_requests": self.candidate_requests,
            "candidate_errors": self.candidate_errors,
        }

    def first(self, event: str) -> SimEvent | None:
        """The first event of a kind (``rollback``, ``complete``...)."""
        return next((e for e in self.events if e.event == event), None)


def draw_users(
    traffic: TrafficModel, rng: random.Random, stickiness: str = "user"
) -> list[dict[str, Any]]:
    """The population: one context per user, attributes drawn from the model's shares.

    Each context has ``user`` and ``session`` ids, and the plan's stickiness
    attribute (an ``issue`` number, say) when it is another one.
    """
    users: list[dict[str, Any]] = []
    for i in range(traffic.user_count):
        ctx: dict[str, Any] = {"user": f"u-{i}", "session": f"s-{i}"}
        if stickiness not in ctx:
            ctx[stickiness] = f"{stickiness}-{i}"
        for attr, shares in traffic.attributes.items():
            if attr in LIST_ATTRIBUTES:
                ctx[attr] = [name for name, share in shares.items() if rng.random() < share]
                continue
            roll, upper = rng.random(), 0.0
            for name, share in shares.items():
                upper += share
                if roll < upper:
                    ctx[attr] = name
                    break
        users.append(ctx)
    return users


def _arm_metrics(agg: Aggregate) -> dict[str, Any]:
    rate = metric_value("error_rate", agg)
    p95 = metric_value("latency_p95_ms", agg)
    return {
        "requests": agg.requests,
        "errors": agg.errors,
        "error_rate": None if rate is None else round(rate, 5),
        "latency_p95_ms": None if p95 is None else round(p95, 1),
    }


class _Flag:
    """The flag as the simulated application sees it, recompiled at every stage change."""

    def __init__(self, plan: Plan, flagset: FlagSet | None) -> None:
        self.plan = plan
        base = flagset or FlagSet()
        flag = base.flags.get(plan.flag) or Flag(key=plan.flag, stickiness=plan.stickiness)
        missing = sorted(
            {s for stage in plan.stages for s in stage.audience.segments} - set(base.segments)
        )
        if missing:
            raise ValidationError(
                f"segments: the plan uses {', '.join(missing)}, which the flag set does not "
                "define; pass --flags FILE with their definitions",
                field="segments",
            )
        self.flagset = base.model_copy(update={"flags": {**base.flags, plan.flag: flag}})
        self.environment = plan.stage_environment(0)
        # The same start as a real rollout: today's audience is kept (unless allow_shrink).
        self.baseline = baseline_of(plan, flag, allow_shrink=False)
        self.compile()

    def compile(self) -> None:
        compiled = CompiledFlagSet(self.flagset, self.environment, env={}, clock=lambda: 0.0)
        self.is_on = compiled.enabled.get(self.plan.flag) or (lambda ctx: False)
        self.cache: dict[int, bool] = {}

    def apply_stage(self, index: int) -> None:
        env = self.plan.stage_environment(index)
        flag = self.flagset.flags[self.plan.flag]
        state = stage_flag_state(self.plan, index, flag.state(env), self.baseline.get(env))
        flag = flag.with_state(env, state)
        self.flagset = self.flagset.model_copy(
            update={"flags": {**self.flagset.flags, self.plan.flag: flag}}
        )
        self.environment = env
        self.compile()


def simulate(
    plan: Plan,
    traffic: TrafficModel,
    *,
    seed: int | None = None,
    auto_approve: bool = True,
    flagset: FlagSet | None = None,
    on_minute: Callable[[int], None] | None = None,
) -> SimResult:
    """Run ``plan`` against ``traffic`` on a virtual clock; deterministic for a given seed.

    Raises:
        ValidationError: the plan uses segments ``flagset`` does not define.
    """
    rng = random.Random(traffic.seed if seed is None else seed)
    users = draw_users(traffic, rng, plan.stickiness)
    flag = _Flag(plan, flagset)
    replay = Replay(plan, auto_approve=auto_approve)
    result = SimResult()
    tracker = _Timeline(plan, replay, result)
    enforce = plan.mode is Mode.ENFORCE
    tracker.decide(0.0, replay.step(replay.t0))
    if enforce and replay.current is not None:
        flag.apply_stage(replay.state.stage)
    control, cand = traffic.control, traffic.candidate
    arms = {False: control, True: cand}
    expovariate, rand, gauss = rng.expovariate, rng.random, rng.gauss
    people = Population(traffic, rng)
    pick = people.pick
    key = plan.stickiness if traffic.by_unit else None
    for minute in range(traffic.duration_minutes):
        pair = replay.arms()
        regressed = minute >= cand.starts_at_minute
        rate = people.rate(minute)
        shared = people.incident(minute)
        t = expovariate(rate)
        while pair is not None and t < 1.0:
            t += expovariate(rate)
            index = pick()
            on = flag.cache.get(index)
            if on is None:
                on = flag.cache[index] = bool(flag.is_on(users[index]))
            model = arms[on] if regressed else control
            agg = pair[0] if on else pair[1]
            latency = model.latency_ms
            own_rate, factor = people.own(index)
            error_rate = model.error_rate if own_rate is None else own_rate
            if shared:
                error_rate = 1.0 - (1.0 - error_rate) * (1.0 - shared)
            agg.record(
                latency_ms=factor * math.exp(latency.mu + latency.sigma * gauss()),
                error=rand() < error_rate,
                fallback=rand() < model.fallback_rate if model.fallback_rate else False,
                retries=1 if model.retry_rate and rand() < model.retry_rate else 0,
                cost_usd=model.cost_usd,
                user=users[index]["user"],
                unit=None if key is None else str(users[index].get(key, users[index]["user"])),
                metrics=None
                if model.mismatch_rate is None or not on
                else {MISMATCH_METRIC: 1.0 if rand() < model.mismatch_rate else 0.0},
            )
        if on_minute is not None:
            on_minute(minute + 1)
        if (minute + 1) % traffic.decide_every_minutes:
            continue
        before = replay.state.stage, replay.current is not None
        decision = replay.step(replay.at(minute + 1))
        tracker.decide(float(minute + 1), decision)
        after = replay.state.stage, replay.current is not None
        if enforce and after != before and replay.current is not None:
            flag.apply_stage(replay.state.stage)
        if replay.finished:
            break
    tracker.finish()
    return result


class Population:
    """Who sends the next request, and what is special about them (see ``TrafficModel``).

    Alike users are drawn uniformly, as before these models existed (the same
    random stream); unequal ones by a lognormal activity weight, bots by their
    share of traffic. Troubled, slow and bot users keep their own error rate
    and latency factor in both arms.
    """

    def __init__(self, traffic: TrafficModel, rng: random.Random) -> None:
        self.traffic, self.rng = traffic, rng
        n = traffic.user_count
        sigma = traffic.users.activity_sigma
        self.special: dict[int, tuple[float | None, float]] = {}
        bots = traffic.bots
        if traffic.troubled is not None:
            t = traffic.troubled
            for i in range(n):
                if rng.random() < t.share:
                    self.special[i] = (t.error_rate, t.latency_factor)
        if traffic.slow is not None:
            for i in range(n):
                if rng.random() < traffic.slow.share:
                    rate, _ = self.special.get(i, (None, 1.0))
                    self.special[i] = (rate, traffic.slow.latency_factor)
        self.pick: Callable[[], int]
        if sigma == 0.0 and bots is None:
            self.pick = lambda: rng.randrange(n)
            return
        weights = [rng.lognormvariate(0.0, sigma) if sigma else 1.0 for _ in range(n)]
        if bots is not None:
            chosen = rng.sample(range(n), min(bots.count, n))
            human = sum(w for i, w in enumerate(weights) if i not in set(chosen))
            each = human * bots.traffic_share / (1.0 - bots.traffic_share) / len(chosen)
            for i in chosen:
                weights[i] = each
                self.special[i] = (bots.error_rate, 1.0)
        cumulative = list(itertools.accumulate(weights))
        total = cumulative[-1]
        self.pick = lambda: min(bisect.bisect_right(cumulative, rng.random() * total), n - 1)

    def own(self, index: int) -> tuple[float | None, float]:
        """(own error rate or None, latency factor) of a user."""
        return self.special.get(index, (None, 1.0))

    def rate(self, minute: int) -> float:
        """Requests a minute at ``minute`` (the daily cycle applied)."""
        cycle = self.traffic.daily_cycle
        base = self.traffic.requests_per_minute
        if cycle is None:
            return base
        angle = 2.0 * math.pi * (minute - cycle.peak_minute) / 1440.0
        return max(base * (1.0 + cycle.amplitude * math.cos(angle)), 1e-9)

    def incident(self, minute: int) -> float:
        """The extra error rate of a shared incident at ``minute`` (0 outside incidents)."""
        extra = 0.0
        for inc in self.traffic.incidents:
            if inc.at_minute <= minute < inc.at_minute + inc.minutes:
                extra = 1.0 - (1.0 - extra) * (1.0 - inc.error_rate)
        return extra


class _Timeline:
    """Turns decisions into timeline events: every action, hold changes and gate changes."""

    def __init__(self, plan: Plan, replay: Replay, result: SimResult) -> None:
        self.plan, self.replay, self.result = plan, replay, result
        self.verdicts: dict[tuple[str, str, str], str] = {}
        self.hold_key: tuple[Any, ...] | None = None
        self.granted = 0

    def metrics(self) -> dict[str, Any]:
        window = self.replay.current
        if window is None:
            return {}
        cand, ctrl = window.candidate, window.control
        total = cand.requests + ctrl.requests
        return {
            "candidate": _arm_metrics(cand),
            "control": _arm_metrics(ctrl),
            "candidate_share": round(cand.requests / total, 4) if total else None,
        }

    def decide(self, minute: float, decision: Decision) -> None:
        result, plan = self.result, self.plan
        result.decisions.append(decision)
        result.minute = minute
        result.stage = decision.stage
        percent = plan.cumulative_percent(decision.stage_index)
        grants = self.replay.granted[self.granted :]
        self.granted = len(self.replay.granted)
        metrics = self.metrics()
        for r in decision.evaluations:
            key = (r.stage, r.kind, r.label)
            if r.stage and self.verdicts.get(key) != r.verdict.value:
                self.verdicts[key] = r.verdict.value
                reason = f"{r.kind} {r.label}: {r.verdict.value} — {r.reason}"
                shown = plan.cumulative_percent(plan.stage_index(r.stage))
                result.events.append(SimEvent(minute, r.stage, shown, "gate", reason, metrics))
        reason = decision.reason
        if grants:
            reason += " (simulated person: " + "; ".join(grants) + ")"
        if decision.kind is DecisionKind.HOLD:
            hold = (
                decision.stage,
                decision.state.phase,
                tuple(w.detail for w in decision.waiting_for),
            )
            if hold == self.hold_key:
                return
            self.hold_key = hold
        else:
            self.hold_key = None
        event = decision.kind.value
        result.events.append(SimEvent(minute, decision.stage, percent, event, reason, metrics))

    def finish(self) -> None:
        result, state = self.result, self.replay.state
        result.outcome = {
            "completed": "completed",
            "rolled_back": "rolled_back",
            "paused": "paused",
        }.get(state.phase.value, "running")
        for window in self.replay.windows:
            result.candidate_requests += window.candidate.requests
            result.candidate_errors += window.candidate.errors
            result.control_requests += window.control.requests
