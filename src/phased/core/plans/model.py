"""The plan file as a validated model: stages, audiences, gates, approvals, triggers.

A plan is what a rollout document says, in a form the engine can execute. The
cross-field rules (known metrics, percentages that only grow, approval roles
someone can hold) live in :mod:`phased.core.plans.checks` and run as the last
step of validation; see ``docs/plans.md`` for every field.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from phased.core.compare import CompareMode, DeprecationPhase
from phased.core.durations import Duration
from phased.core.flags import Percent, check_key
from phased.core.plans.base import PlanCondition, PlanPart
from phased.core.plans.check import (
    Action,
    Check,
    Gate,
    Severity,
    Trigger,
)
from phased.core.plans.extensions import AlertHandling, StageHooks

DEFAULT_ROLES: tuple[str, ...] = ("admin", "pm", "developer", "viewer")
DEFAULT_FALSE_ROLLBACK_RATE = 0.005
INCIDENT_SEVERITIES = ("P0", "P1", "P2", "P3")


class Mode(StrEnum):
    """Whether the engine acts on its decisions."""

    ENFORCE = "enforce"  # decisions change the flag and send alerts
    DRY_RUN = "dry_run"  # decisions are recorded as "would ..."; nothing is changed or sent


class Audience(PlanPart):
    """Who gets the flag from this stage on, added to the audiences of the stages before it."""

    percent: Percent | None = Field(
        default=None, description="Percentage of all users (sticky; only grows between stages)."
    )
    segments: tuple[str, ...] = Field(default=(), description="Named segments of the flag set.")
    where: PlanCondition | None = Field(default=None, description="An attribute condition.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"percent": data}
        if isinstance(data, str):
            return {"where": data}
        return data

    @model_validator(mode="after")
    def _not_empty(self) -> Audience:
        if self.percent is None and not self.segments and self.where is None:
            raise ValueError("give percent, segments or where (or a combination)")
        for name in self.segments:
            check_key(name, "segment key")
        return self


class Approval(PlanPart):
    """People who must approve before a stage starts (four-eyes: never only the requester)."""

    roles: tuple[str, ...] = Field(min_length=1, description="Any of these roles may approve.")
    count: int = Field(default=1, ge=1, description="How many different people must approve.")
    note: str = ""

    @field_validator("roles", mode="before")
    @classmethod
    def _one_role(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class Stage(PlanPart):
    """One step of the rollout: an audience, how long it soaks, and what must hold."""

    name: str
    description: str = ""
    environment: str | None = Field(default=None, description="Default: the plan's environment.")
    audience: Audience
    min_duration: Duration = Field(default=timedelta(0), description="Soak time before advancing.")
    max_duration: Duration | None = Field(
        default=None, description="Past this without passing: hold and alert a person."
    )
    min_samples: int = Field(default=0, ge=0, description="Candidate requests before advancing.")
    min_successes: int = Field(default=0, ge=0, description="Successful candidate requests.")
    gates: tuple[Gate, ...] = ()
    rollback: tuple[Trigger, ...] = Field(default=(), description="Triggers for this stage only.")
    approval: Approval | None = Field(default=None, description="Needed before this stage starts.")
    checklist: tuple[str, ...] = Field(default=(), description="Ticked before this stage starts.")
    hooks: StageHooks = Field(
        default_factory=StageHooks,
        description="pre_stage, confirm_advance, post_stage, on_rollback (docs/hooks.md).",
    )
    compare: CompareMode | None = Field(
        default=None,
        description="Old/new side by side: old, shadow (old serves), live (new serves) or new.",
    )
    deprecate: DeprecationPhase | None = Field(
        default=None,
        description="From this stage on, old commands warn, redirect or are removed.",
    )
    golden: tuple[str, ...] = Field(
        default=(),
        description="Golden suites whose latest reported run must pass before this stage starts.",
    )

    _check_name = field_validator("name")(lambda cls, v: check_key(v, "stage name"))
    _check_golden = field_validator("golden")(
        lambda cls, v: tuple(check_key(s, "golden suite") for s in v)
    )

    @model_validator(mode="after")
    def _durations(self) -> Stage:
        if self.max_duration is not None and self.max_duration < self.min_duration:
            raise ValueError("max_duration: must not be shorter than min_duration")
        return self


class BudgetLimit(PlanPart):
    """Spending limits on one cost metric of the candidate arm."""

    pause: float | None = Field(default=None, ge=0, description="Above this: pause.")
    rollback: float | None = Field(default=None, ge=0, description="Above this: roll back.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"pause": data}
        return data


class Budget(PlanPart):
    """Cost limits that apply at every stage (seed 002: $5/day pauses, $10/day rolls back)."""

    cost_usd_per_day: BudgetLimit | None = None
    cost_usd: BudgetLimit | None = None
    cost_per_request: BudgetLimit | None = None
    window: Duration = Field(
        default=timedelta(hours=1), description="Time in a stage before projections count."
    )

    def triggers(self) -> tuple[Trigger, ...]:
        """The limits as ordinary triggers."""
        out = []
        for metric in ("cost_usd_per_day", "cost_usd", "cost_per_request"):
            limit: BudgetLimit | None = getattr(self, metric)
            if limit is None:
                continue
            if limit.pause is not None:
                out.append(
                    Trigger(
                        metric=metric,
                        above=limit.pause,
                        severity=Severity.WARNING,
                        action=Action.PAUSE,
                        min_samples=1,
                        after=self.window,
                        name=f"budget: {metric} > {limit.pause:g}",
                    )
                )
            if limit.rollback is not None:
                out.append(
                    Trigger(
                        metric=metric,
                        above=limit.rollback,
                        action=Action.ROLLBACK,
                        min_samples=1,
                        after=self.window,
                        name=f"budget: {metric} > {limit.rollback:g}",
                    )
                )
        return tuple(out)


class Analysis(PlanPart):
    """Settings of the statistical judge."""

    false_rollback_rate: float = Field(
        default=DEFAULT_FALSE_ROLLBACK_RATE,
        gt=0,
        lt=0.5,
        description="Chance a healthy release is rolled back over the whole rollout.",
    )


class Start(PlanPart):
    """How the plan starts from the flag's audience of today."""

    allow_shrink: bool = Field(
        default=False,
        description="false (default): the plan keeps today's audience (its rules stay, its "
        "percentage is a floor) and only widens it; a plan that would still take the flag "
        "from anyone is refused. true: the stages' audiences are exact, even where that takes "
        "the flag away from people who have it (the preview lists them).",
    )


class Plan(PlanPart):
    """A rollout plan: one flag, its ordered stages and the rules that move it."""

    flag: str
    title: str = ""
    description: str = ""
    owner: str | None = None
    environment: str | None = Field(default=None, description="Where stages run unless they say.")
    stickiness: str = Field(default="user", description="The attribute percentages stick to.")
    mode: Mode = Mode.ENFORCE
    analysis: Analysis = Analysis()
    metrics: tuple[str, ...] = Field(default=(), description="Custom metrics the app records.")
    stages: tuple[Stage, ...] = Field(min_length=1)
    rollback: tuple[Trigger, ...] = Field(default=(), description="Triggers for every stage.")
    budget: Budget | None = None
    inconclusive_limit: int = Field(
        default=3,
        ge=1,
        description="Inconclusive source checks in a row (source down, slow, empty) before "
        "the rollout pauses and alerts.",
    )
    on_alert: AlertHandling = Field(
        default_factory=AlertHandling,
        description="What a firing alert from an alert trigger does (docs/alert-triggers.md).",
    )
    incidents: dict[str, Action] = Field(
        default_factory=lambda: {"P0": Action.ROLLBACK},
        description="What an open incident of each severity does (P0 rolls back by default).",
    )
    start: Start = Field(default_factory=Start, description="How the plan treats today's audience.")

    _check_flag = field_validator("flag")(lambda cls, v: check_key(v, "flag key"))

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str | None, info: ValidationInfo) -> str | None:
        from phased.core.plans.checks import unknown_environment

        known = (info.context or {}).get("environments")
        if value is not None and known is not None and value not in known:
            raise ValueError(unknown_environment(value, tuple(known)))
        return value

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Plan:
        from phased.core.plans.checks import check_plan
        from phased.core.plans.source_fields import check_plan_sources

        roles = (info.context or {}).get("roles", DEFAULT_ROLES)
        environments = (info.context or {}).get("environments")
        check_plan(self, tuple(roles), None if environments is None else tuple(environments))
        sources = (info.context or {}).get("sources")
        check_plan_sources(self, None if sources is None else frozenset(sources))
        return self

    # -- derived views used by the engine and the renderers -------------------

    def stage_environment(self, index: int) -> str:
        """The environment stage ``index`` runs in."""
        env = self.stages[index].environment or self.environment
        assert env is not None  # check_plan guarantees one
        return env

    def stage_index(self, name: str) -> int:
        """The position of the stage called ``name``."""
        for i, stage in enumerate(self.stages):
            if stage.name == name:
                return i
        raise KeyError(name)

    def cumulative_percent(self, index: int) -> float:
        """The percentage in force at stage ``index`` (the largest so far in its environment)."""
        env = self.stage_environment(index)
        return max(
            (
                s.audience.percent or 0.0
                for i, s in enumerate(self.stages[: index + 1])
                if self.stage_environment(i) == env
            ),
            default=0.0,
        )

    def triggers_for(self, index: int) -> tuple[Trigger, ...]:
        """Every trigger in force at stage ``index``: plan, stage and budget."""
        budget = self.budget.triggers() if self.budget else ()
        return (*self.rollback, *self.stages[index].rollback, *budget)

    def tests(self) -> list[Check]:
        """Every statistical test of the plan, which share the false-rollback budget.

        Comparisons with control (gates and triggers) and triggers on a rate
        above a threshold (see ``phased.core.analysis.threshold``).
        """
        checks: list[Check] = [*self.rollback]
        for stage in self.stages:
            checks += [*stage.gates, *stage.rollback]
        return [
            c
            for c in checks
            if c.compare is not None or (isinstance(c, Trigger) and c.needs_evidence)
        ]
